/**
 * The presence-lite extension, server side (docs/PROTOCOL.md, "Presence
 * lite"). Clients that list `"presence-lite"` in `meta.caps` do not get a
 * USER_ADVERTISE per user (2.4 KB each, O(n²) bytes as n users arrive), but a
 * feed of signed PRESENCE frames: a snapshot of who is online when they join,
 * then batched changes every 250 ms (longer with many clients: see
 * {@linkcode flushIntervalMs}). Each frame is signed once and sent
 * verbatim to every such client; keys come from USER_LOOKUP when needed.
 *
 * @module
 */

import { displayName } from "../protocol/display.ts";
import { type ListEntry, PRESENCE_LITE_CAP } from "../protocol/types.ts";
import { type NodeContext, signed } from "./context.ts";
import { type Effect, sendAll } from "./effects.ts";
import type { Link } from "./link.ts";
import type { DirectoryEntry } from "./state.ts";

const FLUSH_MS = 250;
/** Presence frames sent per second to all clients together, at most (by stretching the batch). */
const SENDS_PER_SEC = 5000;
const MAX_FLUSH_MS = 2000;
/**
 * Entries per snapshot frame (about 11 KB). Small on purpose: a WebSocket
 * keeps buffers as large as the most it ever had queued, for as long as it
 * lives, so big frames to idle users cost memory forever.
 */
const SNAPSHOT_CHUNK = 100;
/** A snapshot frame waits until this little is still queued on the socket. */
const PACE_BYTES = 16 * 1024;
/**
 * Deltas kept after a snapshot. Beyond this many frames, or once they carry
 * more than a quarter as many entries as the snapshot, the next newcomer gets
 * a fresh snapshot (which costs a signature per 100 users).
 */
const MAX_RECENT = 256;

/**
 * The presence entry of a directory entry.
 *
 * @example
 * ```ts
 * import { presenceEntry } from "./presence.ts";
 * // presenceEntry(ctx.state.directory.get(userId)!) → { user_id, server_id, display_name }
 * ```
 */
export function presenceEntry(entry: DirectoryEntry): ListEntry {
  return {
    user_id: entry.userId,
    server_id: entry.serverId,
    display_name: displayName(entry.userId, entry.meta),
  };
}

/**
 * Local user links that get presence as verbatim USER_ADVERTISE / USER_REMOVE
 * frames: those without the presence-lite capability.
 *
 * @example
 * ```ts
 * import { verbatimPresenceLinks } from "./presence.ts";
 * // sendAll(verbatimPresenceLinks(ctx, newUserId), advert)
 * ```
 */
export function verbatimPresenceLinks(ctx: NodeContext, exceptUser?: string): Link[] {
  const links: Link[] = [];
  for (const link of ctx.state.verbatimPresence) {
    if (link.peerId !== exceptUser) links.push(link);
  }
  return links;
}

/**
 * Tells local clients that users hosted on `serverId` are gone: one presence
 * change, and a USER_REMOVE issued by this server (naming `serverId`) for
 * each client that takes presence verbatim. The caller forgets the users.
 *
 * @example
 * ```ts
 * import { removalEffects } from "./presence.ts";
 * // effects.push(...await removalEffects(ctx, gone, lostPeerId));
 * ```
 */
export async function removalEffects(
  ctx: NodeContext,
  userIds: string[],
  serverId: string,
): Promise<Effect[]> {
  if (userIds.length === 0) return [];
  const effects: Effect[] = [{ kind: "presence", online: [], offline: userIds }];
  const clients = verbatimPresenceLinks(ctx);
  if (clients.length === 0) return effects; // signatures nobody would read
  for (const userId of userIds) {
    const notice = await signed(ctx, "USER_REMOVE", "*", { user_id: userId, server_id: serverId });
    effects.push(...sendAll(clients, notice));
  }
  return effects;
}

/**
 * How long changes are batched with `clients` presence-lite clients: 250 ms,
 * stretched so that at most 5000 change frames go out per second (every
 * client gets every batch), up to 2 s. With 5000 clients, one batch a second.
 *
 * @example
 * ```ts
 * import { flushIntervalMs } from "./presence.ts";
 * flushIntervalMs(10); // 250
 * flushIntervalMs(5000); // 1000
 * ```
 */
export function flushIntervalMs(clients: number): number {
  return Math.min(MAX_FLUSH_MS, Math.max(FLUSH_MS, Math.round((clients * 1000) / SENDS_PER_SEC)));
}

/** Resolves once at most PACE_BYTES are queued on the link (or it closed, or 2 s passed). */
async function drained(link: Link): Promise<void> {
  for (let waited = 0; waited < 2000 && !link.closed; waited += 5) {
    if (link.socket.bufferedAmount <= PACE_BYTES) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What the feed needs from its node. */
export interface PresenceHost {
  readonly ctx: NodeContext;
  /** Sends a text frame on a link (counted in metrics). */
  sendText(link: Link, text: string): void;
}

/**
 * One node's presence feed.
 *
 * @example
 * ```ts
 * import { PresenceFeed } from "./presence.ts";
 * // const feed = new PresenceFeed(node);
 * // feed.change([entry], []); await feed.welcome(link);
 * ```
 */
export class PresenceFeed {
  readonly #host: PresenceHost;
  /** Changes since the last flush: user id → entry (online) or null (offline). */
  readonly #pending = new Map<string, ListEntry | null>();
  #seq = 0;
  #snapshot?: string[];
  #snapshotEntries = 0;
  /** Delta frames sent since the snapshot was built, and how many entries they carry. */
  #recent: string[] = [];
  #recentEntries = 0;
  /** Clients still receiving their snapshot: deltas wait here, so they arrive after it. */
  readonly #welcoming = new Map<Link, string[]>();
  /**
   * Clients whose snapshot went out. A lite link enters the directory before
   * its welcome runs; changes flushed in between are in the snapshot or in
   * `#recent`, so it must not get them ahead of the snapshot.
   */
  readonly #welcomed = new WeakSet<Link>();
  /** Flushes and welcomes run one at a time, so no client sees them out of order. */
  #chain: Promise<void> = Promise.resolve();
  #timer?: ReturnType<typeof setTimeout>;
  #stopped = false;

  constructor(host: PresenceHost) {
    this.#host = host;
  }

  /** Records users coming online or going offline; they are sent with the next batch. */
  change(online: readonly ListEntry[], offline: readonly string[]): void {
    if (this.#stopped) return;
    for (const entry of online) this.#pending.set(entry.user_id, entry);
    for (const userId of offline) this.#pending.set(userId, null);
    if (this.#timer !== undefined) return;
    // Local users stand in for the presence-lite clients (counting those is O(n)).
    const wait = flushIntervalMs(this.#host.ctx.state.localUsers.size);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run(() => this.#flush());
    }, wait);
  }

  /**
   * Sends a new client the current snapshot and the changes since, paced so
   * little is queued at a time; changes flushed meanwhile follow it. Resolves
   * once all is sent.
   */
  async welcome(link: Link): Promise<void> {
    let texts: string[] = [];
    await this.#run(async () => {
      this.#snapshot ??= await this.#buildSnapshot();
      texts = [...this.#snapshot, ...this.#recent];
      this.#welcoming.set(link, []);
    });
    try {
      for (const text of texts) {
        await drained(link);
        this.#host.sendText(link, text);
      }
    } finally {
      for (const text of this.#welcoming.get(link) ?? []) this.#host.sendText(link, text);
      this.#welcoming.delete(link);
      this.#welcomed.add(link);
    }
  }

  /** Stops batching; pending changes are dropped (the node is shutting down). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #run(task: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(task);
    this.#chain = run.catch((e) =>
      this.#host.ctx.log.error("presence feed failed", { error: String(e) })
    );
    return this.#chain;
  }

  #liteLinks(): Link[] {
    return [...this.#host.ctx.state.localUsers.values()].filter((l) =>
      l.caps.has(PRESENCE_LITE_CAP)
    );
  }

  async #flush(): Promise<void> {
    if (this.#pending.size === 0 || this.#stopped) return;
    const online: ListEntry[] = [];
    const offline: string[] = [];
    for (const [userId, entry] of this.#pending) {
      if (entry) online.push(entry);
      else offline.push(userId);
    }
    this.#pending.clear();
    const frame = await signed(this.#host.ctx, "PRESENCE", "*", {
      seq: ++this.#seq,
      online,
      offline,
    });
    const text = JSON.stringify(frame);
    this.#recent.push(text);
    this.#recentEntries += online.length + offline.length;
    if (this.#recent.length > MAX_RECENT || this.#recentEntries > this.#snapshotEntries / 4) {
      this.#snapshot = undefined; // rebuilt for the next newcomer
      this.#recent = [];
      this.#recentEntries = 0;
    }
    for (const link of this.#liteLinks()) {
      const held = this.#welcoming.get(link);
      if (held) held.push(text);
      else if (this.#welcomed.has(link)) this.#host.sendText(link, text);
    }
  }

  /** Everyone online now, in signed frames of at most SNAPSHOT_CHUNK entries, the first a reset. */
  async #buildSnapshot(): Promise<string[]> {
    const entries = [...this.#host.ctx.state.directory.values()].map(presenceEntry);
    const frames: string[] = [];
    for (let at = 0; at === 0 || at < entries.length; at += SNAPSHOT_CHUNK) {
      const payload = {
        seq: this.#seq,
        ...(at === 0 ? { reset: true } : {}),
        online: entries.slice(at, at + SNAPSHOT_CHUNK),
        offline: [],
      };
      frames.push(JSON.stringify(await signed(this.#host.ctx, "PRESENCE", "*", payload)));
    }
    this.#recent = [];
    this.#recentEntries = 0;
    this.#snapshotEntries = entries.length;
    return frames;
  }
}
