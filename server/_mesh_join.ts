/**
 * Joining the mesh (SOCP.md §9.4): the bootstrap walk over the introducers,
 * one SERVER_HELLO_JOIN at a time, until one welcomes us. Entries may name a
 * dialect that cannot be detected before joining: A (its WELCOME cannot be
 * verified) and B (its WELCOME is unsigned; the entry pins its key).
 *
 * @module
 */

import { parsePublicKey, type PublicKey } from "../protocol/keys.ts";
import type { FrameOf } from "../protocol/types.ts";
import type { BootstrapEntry } from "./config.ts";
import type { NodeContext } from "./context.ts";
import { backoffMs } from "./link_policy.ts";
import type { Link } from "./link.ts";
import type { AttachOptions } from "./mesh.ts";
import type { ServerAddress } from "./state.ts";
import type { LinkSocket } from "./ws/socket.ts";

/** How long a newcomer waits for SERVER_WELCOME (SOCP.md §6.1). */
const JOIN_WAIT_MS = 10_000;

/** What the bootstrap walk needs from the mesh. */
export interface JoinHost {
  readonly ctx: NodeContext;
  attach(socket: LinkSocket, options: AttachOptions): Link;
  connect(address: ServerAddress): Promise<LinkSocket>;
  /** Our SERVER_HELLO_JOIN, with the key in the form the introducer loads. */
  joinFrame(to: string, keyForm: "der" | "pem"): Promise<FrameOf<"SERVER_HELLO_JOIN">>;
  /** Sleeps, or returns early once the mesh stops. */
  sleep(ms: number): Promise<void>;
  readonly stopped: boolean;
}

/** The bootstrap walk and the joins it is waiting on. */
export class MeshJoin {
  readonly #host: JoinHost;
  readonly #waiters = new Map<Link, (joined: boolean) => void>();

  constructor(host: JoinHost) {
    this.#host = host;
  }

  /** Walks the bootstrap list until an introducer welcomes us; retries with backoff. */
  async bootstrap(entries: BootstrapEntry[]): Promise<void> {
    const { state, log } = this.#host.ctx;
    const others = entries.filter((e) => !this.#isSelf(e));
    if (others.length === 0) {
      log.info("no introducer to join: running standalone");
      return;
    }
    for (let attempt = 0; !this.#host.stopped; attempt++) {
      for (const entry of others) {
        if (this.#host.stopped) return;
        if (await this.#join(entry)) return;
      }
      if (state.links.size > 0) {
        log.info("in the mesh through peers that linked to us; stopping the bootstrap walk");
        return;
      }
      const wait = backoffMs(attempt);
      log.warn("no introducer answered: running standalone, will retry", { retry_ms: wait });
      await this.#host.sleep(wait);
    }
  }

  /** Ends the wait of a join socket: welcomed (it was bound) or not (it was lost). */
  settle(link: Link, joined: boolean): void {
    this.#waiters.get(link)?.(joined);
  }

  /** Gives up every pending join. */
  stop(): void {
    for (const resolve of this.#waiters.values()) resolve(false);
    this.#waiters.clear();
  }

  #isSelf(entry: BootstrapEntry): boolean {
    const { ctx } = this.#host;
    const { address, self } = ctx.state;
    if (
      entry.port === address.port &&
      (entry.host === address.host || entry.host === ctx.config.host)
    ) return true;
    const key = entry.pubkey ? parsePublicKey(entry.pubkey) : undefined;
    return key?.ok === true && key.key.equals(self.keys.publicKey);
  }

  /** The key to pin for an entry (null: nothing to pin), or a reason to skip it. */
  #entryKey(entry: BootstrapEntry): { key: PublicKey | null } | { skip: string } {
    const { config } = this.#host.ctx;
    if (entry.dialect === "A") {
      // Its key changes at every start and is never published: nothing to pin.
      return config.acceptUnverifiedWelcome ? { key: null } : {
        skip: "a dialect A introducer cannot be verified: start with --accept-unverified-welcome",
      };
    }
    if (entry.dialect === "B" && !config.acceptUnsignedServers) {
      return {
        skip: "a dialect B server sends unsigned link frames: start with --accept-unsigned-servers",
      };
    }
    if (entry.pubkey) {
      const parsed = parsePublicKey(entry.pubkey);
      return parsed.ok
        ? { key: parsed.key }
        : { skip: "bootstrap entry has an invalid key; skipping it" };
    }
    // B's unsigned frames are taken only from the key the entry pins.
    if (entry.dialect === "B" || !config.allowUnpinnedIntroducer) {
      return { skip: "bootstrap entry has no pubkey; refusing an unpinned introducer" };
    }
    return { key: null };
  }

  async #join(entry: BootstrapEntry): Promise<boolean> {
    const { log } = this.#host.ctx;
    const where = `${entry.host}:${entry.port}`;
    const pinned = this.#entryKey(entry);
    if ("skip" in pinned) {
      log.error(pinned.skip, { introducer: where });
      return false;
    }
    let socket: LinkSocket;
    try {
      socket = await this.#host.connect(entry);
    } catch (e) {
      log.warn("introducer unreachable", { introducer: where, error: String(e) });
      return false;
    }
    const target = { host: entry.host, port: entry.port };
    const link = this.#host.attach(socket, {
      remote: where,
      dialledByUs: true,
      kind: "joining",
      target,
      introducerKey: pinned.key,
    });
    if (entry.dialect) link.dialect = entry.dialect;
    link.unverifiedIntroducer = entry.dialect === "A";
    const joined = new Promise<boolean>((resolve) => this.#waiters.set(link, resolve));
    const form = entry.dialect ? "pem" : "der"; // A and B load keys only as PEM
    link.send(JSON.stringify(await this.#host.joinFrame(where, form)));
    const timer = setTimeout(() => this.settle(link, false), JOIN_WAIT_MS);
    const ok = await joined;
    clearTimeout(timer);
    this.#waiters.delete(link);
    if (!ok) {
      link.close(1000, "join failed");
      log.warn("introducer did not welcome us", { introducer: where });
    } else log.info("joined the mesh", { introducer: where, id: this.#host.ctx.state.self.id });
    return ok;
  }
}
