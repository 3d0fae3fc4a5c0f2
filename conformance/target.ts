/**
 * The server(s) under test, as checks use them: raw connections, users
 * logged in with the suite's own keys (made once, cached in a directory),
 * the keys the servers announced, and cleanup after each check.
 *
 * @module
 */

import { encodeBase64url } from "../protocol/base64url.ts";
import type { Identity } from "../protocol/builders.ts";
import { msgRef } from "../protocol/dedup.ts";
import {
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  type KeyPair,
  parsePublicKey,
  type PublicKey,
} from "../protocol/keys.ts";
import { verifyFrame } from "../protocol/transport_sig.ts";
import type { Frame, FrameOf } from "../protocol/types.ts";
import { helloFor, type ServerDialect } from "../client/server_dialect.ts";
import { CheckFailure, Skip } from "./check.ts";
import { Conn, type Transport } from "./_conn.ts";

/** How the suite was asked to run. */
export interface TargetOptions {
  /** `/ws` URLs of one or two servers of one mesh. */
  servers: string[];
  transport: Transport;
  /** The dialect the suite speaks (docs/SOCP.md §12). */
  dialect: ServerDialect;
  /** A password for servers that log users in by password (dialect A). */
  password?: string;
  /** How long to wait for any one answer. */
  timeoutMs: number;
  /** Where the suite's RSA keys are kept between runs. */
  keysDir: string;
  /** Link to the target as a server peer for the §6.1/§9 checks. */
  linkAsServer?: boolean;
}

/** A user of the suite, logged in. */
export interface SuiteUser {
  identity: Identity;
  name: string;
  conn: Conn;
  /** Index of its server in `--server`. */
  server: number;
  /** The server's id and key (from the welcome). */
  serverId: string;
  serverKey?: PublicKey;
  hello: FrameOf<"USER_HELLO">;
}

const POOL = 6;

/** RSA-4096 keys of the suite, generated once and kept in `dir` (mode 0600). */
export async function keyPool(dir: string, count = POOL): Promise<KeyPair[]> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const keys: KeyPair[] = [];
  for (let i = 0; i < count; i++) {
    const path = `${dir}/user-${i}.pkcs8`;
    const text = await Deno.readTextFile(path).catch(() => undefined);
    if (text) {
      keys.push(await importPrivateKey(text.trim()));
      continue;
    }
    const pair = await generateKeyPair();
    const der = await exportPrivateKey(pair.privateKey);
    await Deno.writeTextFile(path, encodeBase64url(der) + "\n", { mode: 0o600 });
    der.fill(0);
    keys.push(pair);
  }
  return keys;
}

/** The target, for the duration of one check (cleanup closes what the check opened). */
export class Target {
  readonly options: TargetOptions;
  readonly #keys: KeyPair[];
  #nextKey = 0;
  readonly #opened: Conn[] = [];
  /** Server keys learned from welcomes, by server index. */
  readonly serverKeys = new Map<number, PublicKey>();

  constructor(options: TargetOptions, keys: KeyPair[]) {
    this.options = options;
    this.#keys = keys;
  }

  /** How many servers were given. */
  get serverCount(): number {
    return this.options.servers.length;
  }

  /** The wait for one answer. */
  get wait(): number {
    return this.options.timeoutMs;
  }

  /** A key of the pool (they go round: each check's users have distinct keys). */
  key(): KeyPair {
    return this.#keys[this.#nextKey++ % this.#keys.length];
  }

  /** A new identity: a fresh user id with a key of the pool. */
  identity(): Identity {
    return { id: crypto.randomUUID(), keys: this.key() };
  }

  /** A connection to server `index` at `path` (default its URL's). */
  async raw(index = 0, path?: string): Promise<Conn> {
    const url = new URL(this.options.servers[index]);
    if (path !== undefined) url.pathname = path;
    const conn = await Conn.open(url.toString(), this.options.transport, this.wait);
    this.#opened.push(conn);
    return conn;
  }

  /** The USER_HELLO the suite's dialect sends for `identity`. */
  hello(identity: Identity, name: string): Promise<FrameOf<"USER_HELLO">> {
    return helloFor(this.options.dialect, identity, {
      meta: { display_name: name },
      to: "*",
      password: this.options.password,
    });
  }

  /**
   * Logs a user in on server `index`: the welcome must come (a signed ACK
   * naming the hello, in socp's dialect; the first frame that is no ERROR
   * in dialects without ACK).
   */
  async user(name: string, index = 0, identity: Identity = this.identity()): Promise<SuiteUser> {
    const conn = await this.raw(index);
    const hello = await this.hello(identity, name);
    conn.send(hello);
    const welcome = await conn.next(() => true, this.wait);
    if (!welcome || welcome.type === "ERROR") {
      throw new CheckFailure(`${name} could not log in`, {
        sent: hello,
        expected: "a welcome (ACK)",
        got: welcome ?? conn.closedWith ?? "nothing",
      });
    }
    let serverKey: PublicKey | undefined;
    if (welcome.type === "ACK") {
      const pub = parsePublicKey((welcome.payload as { server_pub?: string }).server_pub);
      if (pub.ok) serverKey = pub.key;
    }
    if (serverKey) this.serverKeys.set(index, serverKey);
    return { identity, name, conn, server: index, serverId: welcome.from, serverKey, hello };
  }

  /** The msg_ref of a hello (its ACK names it). */
  helloRef(hello: Frame): Promise<string> {
    return msgRef(hello.payload);
  }

  /** Whether `frame` is signed by server `index` (under the key its welcome gave). */
  async signedByServer(index: number, frame: Frame): Promise<boolean> {
    const key = this.serverKeys.get(index);
    if (!key) throw new Skip("the server gave no key in its welcome (dialect without ACK)");
    return await verifyFrame(key, frame);
  }

  /** Waits for a frame on `user`'s connection, or fails saying what was expected. */
  async expectFrame(
    user: SuiteUser,
    match: (f: Frame) => boolean,
    expected: string,
    sent?: unknown,
    after = 0,
  ): Promise<Frame> {
    const frame = await user.conn.next(match, this.wait, after);
    if (!frame) {
      const recent = user.conn.frames.slice(after).map((f) => f.type).join(", ");
      throw new CheckFailure(`${user.name} did not get ${expected}`, {
        sent,
        expected,
        got: recent ? `only ${recent}` : (user.conn.closedWith ?? "nothing"),
      });
    }
    return frame;
  }

  /** Closes every connection the check opened. */
  async cleanup(): Promise<void> {
    await Promise.all(this.#opened.splice(0).map((c) => c.close().catch(() => {})));
  }
}
