/**
 * The SOCP envelope and every message type of SOCP.md §6 as TypeScript types.
 * Unknown envelope and payload fields survive parsing (they are kept when
 * forwarding) but are not part of these types.
 *
 * @module
 */

/**
 * Every message type this profile defines, v1.3 types and project types.
 *
 * @example
 * ```ts
 * import { MESSAGE_TYPES } from "./types.ts";
 * MESSAGE_TYPES.includes("MSG_DIRECT"); // true
 * ```
 */
export const MESSAGE_TYPES = [
  "SERVER_HELLO_JOIN",
  "SERVER_WELCOME",
  "SERVER_HELLO_LINK",
  "SERVER_ANNOUNCE",
  "USER_ADVERTISE",
  "USER_REMOVE",
  "SERVER_DELIVER",
  "HEARTBEAT",
  "USER_HELLO",
  "MSG_DIRECT",
  "USER_DELIVER",
  "LIST_REQUEST",
  "LIST_RESPONSE",
  "COMMAND",
  "COMMAND_RESPONSE",
  "PUBLIC_CHANNEL_ADD",
  "PUBLIC_CHANNEL_UPDATED",
  "PUBLIC_CHANNEL_KEY_SHARE",
  "PUBLIC_CHANNEL_KEY",
  "PRESENCE",
  "USER_LOOKUP",
  "USER_BINDINGS",
  "MSG_PUBLIC_CHANNEL",
  "FILE_START",
  "FILE_CHUNK",
  "FILE_END",
  "ACK",
  "ERROR",
  "CTRL_CLOSE",
] as const;

/** One of {@linkcode MESSAGE_TYPES}. */
export type MessageType = typeof MESSAGE_TYPES[number];

/** A frame as it travels: the envelope of SOCP.md §3. */
export interface Envelope<T extends string = string, P = Record<string, unknown>> {
  /** Message type, `[A-Z0-9_]{1,64}`. */
  type: T;
  /** Sender: a server_id or user_id. */
  from: string;
  /** Recipient id, `"*"`, `"public"`, or `host:port` (join only). */
  to: string;
  /** Integer Unix milliseconds. */
  ts: number;
  /** The message body. */
  payload: P;
  /** base64url PSS signature over the canonical payload; absent when unsigned. */
  sig?: string;
}

/** `host`/`port`/`pubkey`: SERVER_HELLO_JOIN, SERVER_HELLO_LINK and SERVER_ANNOUNCE. */
export interface ServerAddressPayload {
  host: string;
  port: number;
  pubkey: string;
  /**
   * Project extension: capabilities of the server. `"heartbeat"` promises a
   * HEARTBEAT every interval, so its links are monitored from the start.
   */
  caps?: string[];
}

/** One entry of SERVER_WELCOME `servers`. */
export interface ServerEntry {
  server_id: string;
  host: string;
  port: number;
  pubkey: string;
  /** Project extension: `"A"` for a dialect A server (dial it with SERVER_ANNOUNCE, PEM). */
  dialect?: "A";
}

/** One entry of SERVER_WELCOME `clients`. */
export interface ClientEntry {
  user_id: string;
  server_id: string;
  host?: string;
  port?: number;
  pubkey?: string;
}

/** SERVER_WELCOME payload; dialects send any of `servers`, `clients` or `snapshot`. */
export interface ServerWelcomePayload {
  assigned_id: string;
  servers?: ServerEntry[];
  clients?: ClientEntry[];
  snapshot?: { user_locations?: Record<string, string> };
  server_pub?: string;
  /** Project extension: the introducer's capabilities (see {@linkcode ServerAddressPayload}). */
  caps?: string[];
  /** Project extension: known user bindings (online or not), truncated to fit the frame. */
  bindings?: BindingEntry[];
}

/**
 * A user id's mesh-wide key binding as servers exchange it (project
 * extension, docs/PROTOCOL.md decision 42): the key, the home server where
 * the user registered (where its password hash lives), the key version the
 * home bumps on every key change, and when the home registered the id.
 */
export interface BindingEntry {
  user_id: string;
  pubkey: string;
  home: string;
  key_version: number;
  registered_at: number;
}

/** USER_BINDINGS payload (project extension, link sync): bindings the sender knows. */
export interface UserBindingsPayload {
  bindings: BindingEntry[];
}

/**
 * A presence proof (project extension, protocol/presence_proof.ts): the
 * user's signature that it connected to `server_id` (`"*"` when the client
 * did not know the server's id yet) at `ts`. Sent in USER_HELLO, carried in
 * the user's USER_ADVERTISE.
 */
export interface PresenceProof {
  server_id: string;
  /** Unix milliseconds when the client signed it (the hello's `auth_ts`). */
  ts: number;
  /** base64url PSS signature of the statement under the user's key. */
  sig: string;
}

/** User metadata (SOCP.md §10.5); only `display_name` is shown, never used for routing. */
export interface UserMeta {
  display_name?: string;
  pubkey?: string;
  enc_pubkey?: string;
  caps?: string[];
  pronouns?: string;
  age?: number;
  avatar_url?: string;
  extras?: Record<string, unknown>;
}

/**
 * USER_ADVERTISE payload. The key is `pubkey`, else `meta.pubkey`. Project
 * servers add the user's binding (`home`, `key_version`, `registered_at`,
 * see {@linkcode BindingEntry}) and, when the client gave one, its presence
 * proof; dialect servers send none of them.
 */
export interface UserAdvertisePayload {
  user_id: string;
  server_id: string;
  pubkey?: string;
  meta?: UserMeta;
  home?: string;
  key_version?: number;
  registered_at?: number;
  presence?: PresenceProof;
}

/** USER_REMOVE payload; dialect C omits `server_id` (it is then the envelope `from`). */
export interface UserRemovePayload {
  user_id: string;
  server_id?: string;
}

/** A DM as carried between servers (SERVER_DELIVER) or to the client (USER_DELIVER). */
export interface DeliverPayload {
  ciphertext: string;
  sender: string;
  sender_pub: string;
  content_sig: string;
}

/** SERVER_DELIVER payload: a DM for `user_id`. */
export interface ServerDeliverDmPayload extends DeliverPayload {
  user_id: string;
  /**
   * The sender's `ts` when the envelope was re-stamped (dialect C): the
   * content signature covers it, so USER_DELIVER carries it.
   */
  orig_ts?: number;
}

/** SERVER_DELIVER wrapping a FILE_* frame (dialect B; accepted, never sent). */
export interface ServerDeliverWrappedPayload {
  user_id: string;
  type: "FILE_START" | "FILE_CHUNK" | "FILE_END";
  from: string;
  to: string;
  ts: number;
  payload: FileStartPayload | FileChunkPayload | FileEndPayload;
  sig?: string;
}

/** SERVER_DELIVER payload, either form. */
export type ServerDeliverPayload = ServerDeliverDmPayload | ServerDeliverWrappedPayload;

/** USER_HELLO payload. */
export interface UserHelloPayload {
  client: string;
  pubkey: string;
  enc_pubkey?: string;
  meta?: UserMeta;
  auth_ts?: number;
  nonce?: string;
  /** Dialect A only: a plaintext password. Project clients never send it. */
  password?: string;
  /** Project extension: the user's presence proof for this server. */
  presence?: PresenceProof;
}

/** MSG_DIRECT payload. */
export interface MsgDirectPayload {
  ciphertext: string;
  sender_pub: string;
  content_sig: string;
}

/** One LIST_RESPONSE entry (dialect servers may send bare id strings). */
export interface ListEntry {
  user_id: string;
  server_id: string;
  display_name: string;
}

/** LIST_RESPONSE payload. */
export interface ListResponsePayload {
  users: (ListEntry | string)[];
}

/**
 * The capability a client lists in `meta.caps` to get PRESENCE frames
 * instead of every user's USER_ADVERTISE, and to use USER_LOOKUP.
 *
 * @example
 * ```ts
 * import { PRESENCE_LITE_CAP } from "./types.ts";
 * PRESENCE_LITE_CAP; // "presence-lite"
 * ```
 */
export const PRESENCE_LITE_CAP = "presence-lite";

/**
 * Client capability: "welcome me with my own advert". The server then signs
 * one frame per hello (the advert, which its peers need anyway) instead of
 * two: the ACK goes out unsigned, carrying that advert (docs/PROTOCOL.md 59).
 *
 * @example
 * ```ts
 * import { ADVERT_ACK_CAP } from "./types.ts";
 * ADVERT_ACK_CAP; // "advert-ack"
 * ```
 */
export const ADVERT_ACK_CAP = "advert-ack";

/**
 * PRESENCE payload (project extension, server → own clients with the
 * `"presence-lite"` capability): a numbered change to who is online, the same
 * signed frame for every such client. A `reset` frame starts a snapshot: the
 * client forgets who it thought was online, then applies the entries.
 */
export interface PresencePayload {
  seq: number;
  reset?: boolean;
  online: ListEntry[];
  offline: string[];
}

/**
 * USER_LOOKUP payload (project extension, client → own server): asks for the
 * stored USER_ADVERTISE of online users, to learn their keys when needed.
 */
export interface UserLookupPayload {
  user_ids: string[];
}

/** COMMAND payload. */
export interface CommandPayload {
  command: string;
}

/** COMMAND_RESPONSE payload; `response` is JSON text. */
export interface CommandResponsePayload {
  command: string;
  response: string;
}

/** PUBLIC_CHANNEL_ADD payload. */
export interface PublicChannelAddPayload {
  add: string[];
  if_version: number;
}

/** One PUBLIC_CHANNEL_UPDATED wrap. */
export interface ChannelWrap {
  member_id: string;
  wrapped_key: string;
}

/** PUBLIC_CHANNEL_UPDATED payload. */
export interface PublicChannelUpdatedPayload {
  version: number;
  wraps: ChannelWrap[];
}

/** One key share; dialect C names the key `wrapped`. */
export interface KeyShare {
  member: string;
  wrapped_public_channel_key?: string;
  wrapped?: string;
}

/** PUBLIC_CHANNEL_KEY_SHARE payload. */
export interface PublicChannelKeySharePayload {
  shares: KeyShare[];
  creator_pub: string;
  content_sig: string;
  version?: number;
}

/**
 * PUBLIC_CHANNEL_KEY payload (project extension, server → own client with
 * the `"channel-key"` capability): one member's wrap of state (`version`,
 * `creator`), leaf `index` of `count` under a Merkle root the server signed
 * (`root_sig`); `proof` holds the sibling hashes, base64url.
 */
export interface PublicChannelKeyPayload {
  version: number;
  creator: string;
  count: number;
  index: number;
  member_id: string;
  wrapped_key: string;
  proof: string[];
  root_sig: string;
  /**
   * `"pem"` when members of this state read keys only as PEM text (dialect
   * A servers pass `sender_pub` on to their clients as it came): public
   * messages then carry the sender's key as PEM. Signed with the root.
   */
  sender_pub_form?: "pem";
}

/** MSG_PUBLIC_CHANNEL payload. */
export interface MsgPublicChannelPayload {
  ciphertext: string;
  sender_pub: string;
  content_sig: string;
  key_version?: number;
}

/** FILE_START payload. */
export interface FileStartPayload {
  file_id: string;
  name: string;
  size: number;
  sha256: string;
  mode: "dm" | "public";
  key_version?: number;
  enc?: "aes-256-gcm";
  wrapped_key?: string;
  chunk_size?: number;
}

/** FILE_CHUNK payload. */
export interface FileChunkPayload {
  file_id: string;
  index: number;
  ciphertext: string;
}

/** FILE_END payload. */
export interface FileEndPayload {
  file_id: string;
}

/** ACK payload. */
export interface AckPayload {
  msg_ref: string;
  server_pub?: string;
  /**
   * The user's own advert, signed by the server (project extension, for
   * clients listing {@linkcode ADVERT_ACK_CAP}): the ACK itself is then
   * unsigned, and the advert's signature, over the presence proof of this
   * very hello, vouches for it.
   */
  advert?: Frame;
}

/** ERROR payload. */
export interface ErrorPayload {
  code: string;
  detail: string;
  msg_ref?: string;
}

/** CTRL_CLOSE payload. */
export interface CtrlClosePayload {
  reason?: string;
}

/** The payload type of each message type. */
export interface PayloadMap {
  SERVER_HELLO_JOIN: ServerAddressPayload;
  SERVER_WELCOME: ServerWelcomePayload;
  SERVER_HELLO_LINK: ServerAddressPayload;
  SERVER_ANNOUNCE: ServerAddressPayload;
  USER_ADVERTISE: UserAdvertisePayload;
  USER_REMOVE: UserRemovePayload;
  SERVER_DELIVER: ServerDeliverPayload;
  HEARTBEAT: Record<string, unknown>;
  USER_HELLO: UserHelloPayload;
  MSG_DIRECT: MsgDirectPayload;
  USER_DELIVER: DeliverPayload;
  LIST_REQUEST: Record<string, unknown>;
  LIST_RESPONSE: ListResponsePayload;
  COMMAND: CommandPayload;
  COMMAND_RESPONSE: CommandResponsePayload;
  PUBLIC_CHANNEL_ADD: PublicChannelAddPayload;
  PUBLIC_CHANNEL_UPDATED: PublicChannelUpdatedPayload;
  PUBLIC_CHANNEL_KEY_SHARE: PublicChannelKeySharePayload;
  PUBLIC_CHANNEL_KEY: PublicChannelKeyPayload;
  PRESENCE: PresencePayload;
  USER_LOOKUP: UserLookupPayload;
  USER_BINDINGS: UserBindingsPayload;
  MSG_PUBLIC_CHANNEL: MsgPublicChannelPayload;
  FILE_START: FileStartPayload;
  FILE_CHUNK: FileChunkPayload;
  FILE_END: FileEndPayload;
  ACK: AckPayload;
  ERROR: ErrorPayload;
  CTRL_CLOSE: CtrlClosePayload;
}

/** The frame type of one message type. */
export type FrameOf<T extends MessageType> = Envelope<T, PayloadMap[T]>;

/** Any valid frame: a union discriminated by `type`. */
export type Frame = { [T in MessageType]: FrameOf<T> }[MessageType];

/**
 * Types that only a server originates: a frame of these types without `sig`
 * is rejected with INVALID_SIG (SOCP.md §5.1).
 *
 * @example
 * ```ts
 * import { SERVER_SIGNED_TYPES } from "./types.ts";
 * SERVER_SIGNED_TYPES.has("USER_ADVERTISE"); // true
 * ```
 */
export const SERVER_SIGNED_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  "SERVER_WELCOME",
  "USER_ADVERTISE",
  "USER_REMOVE",
  "SERVER_DELIVER",
  "HEARTBEAT",
  "USER_DELIVER",
  "PUBLIC_CHANNEL_ADD",
  "PUBLIC_CHANNEL_UPDATED",
  "PRESENCE",
  "USER_BINDINGS",
  "ACK",
  "ERROR",
]);

/**
 * Types allowed as the first frame on a new connection (SOCP.md §6.6).
 *
 * @example
 * ```ts
 * import { FIRST_FRAME_TYPES } from "./types.ts";
 * FIRST_FRAME_TYPES.has("LIST_REQUEST"); // false
 * ```
 */
export const FIRST_FRAME_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  "USER_HELLO",
  "SERVER_HELLO_JOIN",
  "SERVER_HELLO_LINK",
  "SERVER_ANNOUNCE",
]);

/**
 * Whether a string names a known message type.
 *
 * @example
 * ```ts
 * import { isMessageType } from "./types.ts";
 * isMessageType("HEARTBEAT"); // true
 * isMessageType("heartbeat"); // false
 * ```
 */
export function isMessageType(type: unknown): type is MessageType {
  return typeof type === "string" && KNOWN.has(type);
}

const KNOWN: ReadonlySet<string> = new Set(MESSAGE_TYPES);
