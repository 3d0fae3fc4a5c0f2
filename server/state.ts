/**
 * The in-memory tables of a node (SOCP.md §9.1). Handlers read and update
 * them; persistent data lives in the {@linkcode Store}.
 *
 * @module
 */

import type { Identity } from "../protocol/builders.ts";
import type { PublicKey } from "../protocol/keys.ts";
import { type FrameOf, PRESENCE_LITE_CAP, type UserMeta } from "../protocol/types.ts";
import type { Dialect } from "./dialects/read.ts";
import type { Link } from "./link.ts";
import { PendingMoves } from "./moves.ts";
import { PasswordThrottle } from "./password_throttle.ts";
import { SeenIds } from "./seen_ids.ts";

/** `user_locations` value of a user hosted here. */
export const LOCAL = "local";

/**
 * Capability a server declares in its hello payloads when it sends a HEARTBEAT
 * every interval (a project extension): its links are then monitored for
 * silence from the moment they open, not from its first heartbeat.
 */
export const HEARTBEAT_CAP = "heartbeat";

/**
 * Capability a server declares in its hello payloads when it exchanges user
 * bindings (USER_BINDINGS in link sync, `bindings` in SERVER_WELCOME).
 */
export const BINDINGS_CAP = "bindings";

/** A USER_ADVERTISE held back while its user is live elsewhere (server/moves.ts). */
export interface PendingAdvert {
  frame: FrameOf<"USER_ADVERTISE">;
  raw: string;
  link: Link;
}

/** Where a server can be dialled. */
export interface ServerAddress {
  host: string;
  port: number;
}

/** The current public-channel state (SOCP.md §7.1). The clear key is never held. */
export interface ChannelState {
  /** Current key version; 0 before any key exists. */
  version: number;
  /** Server id that generated the current key. */
  creator: string | null;
  /** Members the current key is wrapped for. */
  members: Set<string>;
  /** The current PUBLIC_CHANNEL_UPDATED frame, verbatim (for link sync). */
  updated?: string;
  /** The current PUBLIC_CHANNEL_KEY_SHARE frame, verbatim (for link sync). */
  keyShare?: string;
  /** When this state was adopted (Unix ms): how far a next version may plausibly jump. */
  adoptedAt: number;
}

/** One file transfer relayed for a local sender (SOCP.md §8.2). */
export interface Transfer {
  from: string;
  fileId: string;
  to: string;
  mode: "dm" | "public";
  /** Fast (AES-GCM) DM mode. */
  fast: boolean;
  size: number;
  /** Most chunks this transfer may carry. */
  maxChunks: number;
  chunks: number;
  lastActivity: number;
  /** Set when the transfer was refused: later frames are dropped silently. */
  refused?: boolean;
  /** USER_NOT_FOUND already sent for this transfer. */
  notFoundSent?: boolean;
  /** Its recipient was away at FILE_START: every frame goes to the offline queue. */
  queued?: boolean;
  /** msgRef of its FILE_START payload: refusals name it, so the sender knows which file failed. */
  ref?: string;
}

/** What the node knows of one online user. */
export interface DirectoryEntry {
  userId: string;
  /** The hosting server's id (this node's id for local users). */
  serverId: string;
  pubkey: PublicKey;
  /** Key to RSA-OAEP-wrap for this user: `meta.enc_pubkey` when given, else `pubkey`. */
  encKey: PublicKey;
  meta: UserMeta;
  /** The USER_ADVERTISE frame as JSON text, relayed verbatim to new clients. */
  advert: string;
}

/**
 * A node's in-memory state.
 *
 * @example
 * ```ts
 * import { ServerState } from "./state.ts";
 * import { generateKeyPair } from "../protocol/keys.ts";
 * const state = new ServerState({ id: crypto.randomUUID(), keys: await generateKeyPair() });
 * state.serverLinks().length; // 0
 * ```
 */
export class ServerState {
  /** This node's identity; its id may change once, when an introducer assigns one. */
  self: Identity;
  /** Where peers reach this node (public host and the port actually bound). */
  address: ServerAddress = { host: "127.0.0.1", port: 0 };
  /** `servers`: the single live link per peer server. */
  readonly links: Map<string, Link> = new Map();
  /** Every open connection, of any kind. */
  readonly allLinks: Set<Link> = new Set();
  /** `server_addrs`. */
  readonly serverAddrs: Map<string, ServerAddress> = new Map();
  /** `pins`: pinned server keys (mirrors the `servers` table). */
  readonly pins: Map<string, PublicKey> = new Map();
  /** `user_locations`: user id → {@linkcode LOCAL} or the hosting server id. */
  readonly userLocations: Map<string, string> = new Map();
  /** `directory`: online users' keys, metadata and advert frames. */
  readonly directory: Map<string, DirectoryEntry> = new Map();
  readonly #localUsers = new Map<string, Link>();
  /** Local user links without presence-lite (they get USER_ADVERTISE/USER_REMOVE verbatim). */
  readonly #verbatimPresence = new Set<Link>();
  /** `seen_ids`. */
  readonly seen: SeenIds;
  /**
   * Servers that have sent a HEARTBEAT on any link: every later link to them
   * is subject to the silence timeout from the moment it opens.
   */
  readonly heartbeatPeers: Set<string> = new Set();
  /**
   * Servers pinned from a relayed SERVER_ANNOUNCE that no link has confirmed
   * yet; forgotten if dialling them keeps failing (server/mesh.ts).
   */
  readonly unconfirmedServers: Set<string> = new Set();
  /** Dialects of servers that are not ours (server/dialects/), by server id. */
  readonly peerDialects: Map<string, Dialect> = new Map();
  /** Capabilities servers declared in their hello payloads, by server id. */
  readonly peerCaps: Map<string, ReadonlySet<string>> = new Map();
  /** Adverts waiting for their user's current location to end. */
  readonly pendingMoves: PendingMoves<PendingAdvert> = new PendingMoves();
  /** USER_HELLO replay cache: `user_id:nonce` of accepted hellos (twice the clock window). */
  readonly helloNonces: SeenIds;
  /** Failed password checks by user id and by address (dialect logins). */
  readonly passwords: PasswordThrottle;
  /** File transfers of local senders, by `from:file_id`. */
  readonly transfers: Map<string, Transfer> = new Map();
  /** The public channel. */
  channel: ChannelState = { version: 0, creator: null, members: new Set(), adoptedAt: 0 };

  constructor(
    self: Identity,
    seen: SeenIds = new SeenIds(),
    helloReplayMs = 240_000,
    passwordBackoffMs = 1000,
  ) {
    this.self = self;
    this.seen = seen;
    this.helloNonces = new SeenIds(100_000, helloReplayMs);
    this.passwords = new PasswordThrottle({ baseDelayMs: passwordBackoffMs });
  }

  /** `local_users`: user id → its link. Changed only through add/removeLocalUser. */
  get localUsers(): ReadonlyMap<string, Link> {
    return this.#localUsers;
  }

  /** Local links that take presence as verbatim frames (kept as a set: a scan is O(n) per hello). */
  get verbatimPresence(): ReadonlySet<Link> {
    return this.#verbatimPresence;
  }

  /** Hosts a user on `link` (its capabilities already set). */
  addLocalUser(userId: string, link: Link): void {
    this.#localUsers.set(userId, link);
    if (!link.caps.has(PRESENCE_LITE_CAP)) this.#verbatimPresence.add(link);
  }

  /** Stops hosting a user. */
  removeLocalUser(userId: string): void {
    const link = this.#localUsers.get(userId);
    if (link) this.#verbatimPresence.delete(link);
    this.#localUsers.delete(userId);
  }

  /** Live server links. */
  serverLinks(): Link[] {
    return [...this.links.values()];
  }

  /** Live server links except the given ones (arrival link, link of `from`). */
  serverLinksExcept(...except: (Link | undefined)[]): Link[] {
    return this.serverLinks().filter((l) => !except.includes(l));
  }

  /** Links of local users, except one user (the originator). */
  localUserLinks(exceptUser?: string): Link[] {
    return [...this.localUsers].filter(([uid]) => uid !== exceptUser).map(([, link]) => link);
  }

  /** The hosting server of an online user, or undefined. */
  locationOf(userId: string): string | undefined {
    return this.userLocations.get(userId);
  }
}
