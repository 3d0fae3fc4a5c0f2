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
 * import { MESSAGE_TYPES } from "@socp/socp";
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
  "MSG_QUEUED",
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
  /** Host name or address the server listens on. */
  host: string;
  /** Port the server listens on. */
  port: number;
  /** The server's RSA-4096 public key. */
  pubkey: string;
  /**
   * Project extension: capabilities of the server. `"heartbeat"` promises a
   * HEARTBEAT every interval, so its links are monitored from the start.
   */
  caps?: string[];
}

/** One entry of SERVER_WELCOME `servers`. */
export interface ServerEntry {
  /** The server's id. */
  server_id: string;
  /** Host to dial it at. */
  host: string;
  /** Port to dial it at. */
  port: number;
  /** The server's public key. */
  pubkey: string;
  /** Project extension: `"A"` for a dialect A server (dial it with SERVER_ANNOUNCE, PEM). */
  dialect?: "A";
}

/** One entry of SERVER_WELCOME `clients`. */
export interface ClientEntry {
  /** The user's id. */
  user_id: string;
  /** Id of the server hosting the user. */
  server_id: string;
  /** Host of that server (dialect A). */
  host?: string;
  /** Port of that server (dialect A). */
  port?: number;
  /** The user's public key, when sent. */
  pubkey?: string;
}

/** SERVER_WELCOME payload; dialects send any of `servers`, `clients` or `snapshot`. */
export interface ServerWelcomePayload {
  /** The server id the newcomer is to use (SOCP.md §6.1). */
  assigned_id: string;
  /** Servers already in the mesh. */
  servers?: ServerEntry[];
  /** Users already online, and where. */
  clients?: ClientEntry[];
  /** Where users are: user id to server id (dialect C). */
  snapshot?: { user_locations?: Record<string, string> };
  /** The introducer's public key (dialect C). */
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
  /** The user id bound. */
  user_id: string;
  /** The key bound to it. */
  pubkey: string;
  /** Id of the home server, where the user registered. */
  home: string;
  /** Bumped by the home server on every key change. */
  key_version: number;
  /** Unix milliseconds when the home server registered the id. */
  registered_at: number;
}

/** USER_BINDINGS payload (project extension, link sync): bindings the sender knows. */
export interface UserBindingsPayload {
  /** The bindings, newest knowledge of the sender. */
  bindings: BindingEntry[];
}

/**
 * A presence proof (project extension, protocol/presence_proof.ts): the
 * user's signature that it connected to `server_id` (`"*"` when the client
 * did not know the server's id yet) at `ts`. Sent in USER_HELLO, carried in
 * the user's USER_ADVERTISE.
 */
export interface PresenceProof {
  /** The server connected to, or `"*"`. */
  server_id: string;
  /** Unix milliseconds when the client signed it (the hello's `auth_ts`). */
  ts: number;
  /** base64url PSS signature of the statement under the user's key. */
  sig: string;
}

/** User metadata (SOCP.md §10.5); only `display_name` is shown, never used for routing. */
export interface UserMeta {
  /** Name shown to other users. */
  display_name?: string;
  /** The user's key, for dialects that advertise it here. */
  pubkey?: string;
  /** Key to encrypt to, when it differs from `pubkey`. */
  enc_pubkey?: string;
  /** Client capabilities, e.g. `"file-aesgcm"` or `"presence-lite"`. */
  caps?: string[];
  /** Free text, informational. */
  pronouns?: string;
  /** Informational. */
  age?: number;
  /** Informational. */
  avatar_url?: string;
  /** Anything else, informational. */
  extras?: Record<string, unknown>;
}

/**
 * USER_ADVERTISE payload. The key is `pubkey`, else `meta.pubkey`. Project
 * servers add the user's binding (`home`, `key_version`, `registered_at`,
 * see {@linkcode BindingEntry}) and, when the client gave one, its presence
 * proof; dialect servers send none of them.
 */
export interface UserAdvertisePayload {
  /** The user who came online. */
  user_id: string;
  /** The server hosting the user. */
  server_id: string;
  /** The user's public key. */
  pubkey?: string;
  /** The user's metadata. */
  meta?: UserMeta;
  /** Project extension: the user's home server. */
  home?: string;
  /** Project extension: the binding's key version. */
  key_version?: number;
  /** Project extension: when the home server registered the id. */
  registered_at?: number;
  /** Project extension: the user's presence proof. */
  presence?: PresenceProof;
}

/** USER_REMOVE payload; dialect C omits `server_id` (it is then the envelope `from`). */
export interface UserRemovePayload {
  /** The user who went offline. */
  user_id: string;
  /** The server that hosted the user. */
  server_id?: string;
}

/** A DM as carried between servers (SERVER_DELIVER) or to the client (USER_DELIVER). */
export interface DeliverPayload {
  /** base64url RSA-OAEP of the message under the recipient's key. */
  ciphertext: string;
  /** The sending user's id. */
  sender: string;
  /** The sender's public key. */
  sender_pub: string;
  /** The sender's content signature (SOCP.md §5.2). */
  content_sig: string;
  /**
   * When the recipient's home server queued it (offline delivery, project
   * extension): set on a message delivered later; the envelope `ts` stays
   * the sender's.
   */
  queued_at?: number;
}

/**
 * MSG_QUEUED payload (offline delivery, project extension, server → the
 * sender's server → the sender): a DM or file frame for `user_id`, who is
 * offline, was committed to the queue on the recipient's home server.
 */
export interface MsgQueuedPayload {
  /** The offline recipient. */
  user_id: string;
  /** `msgRef` of the queued frame's payload. */
  msg_ref: string;
  /** When it was queued (Unix ms); absent when refused. */
  queued_at?: number;
  /** Why it was not queued (a full queue), between servers only. */
  refused?: string;
}

/** SERVER_DELIVER payload: a DM for `user_id`. */
export interface ServerDeliverDmPayload extends DeliverPayload {
  /** The recipient. */
  user_id: string;
  /**
   * The sender's `ts` when the envelope was re-stamped (dialect C): the
   * content signature covers it, so USER_DELIVER carries it.
   */
  orig_ts?: number;
}

/** SERVER_DELIVER wrapping a FILE_* frame (dialect B; accepted, never sent). */
export interface ServerDeliverWrappedPayload {
  /** The recipient. */
  user_id: string;
  /** Type of the wrapped frame. */
  type: "FILE_START" | "FILE_CHUNK" | "FILE_END";
  /** Sender of the wrapped frame. */
  from: string;
  /** Recipient of the wrapped frame. */
  to: string;
  /** Timestamp of the wrapped frame. */
  ts: number;
  /** Payload of the wrapped frame. */
  payload: FileStartPayload | FileChunkPayload | FileEndPayload;
  /** Signature of the wrapped frame. */
  sig?: string;
}

/** SERVER_DELIVER payload, either form. */
export type ServerDeliverPayload = ServerDeliverDmPayload | ServerDeliverWrappedPayload;

/** USER_HELLO payload. */
export interface UserHelloPayload {
  /** Client software name and version, e.g. `socp-ts/0.1.0`. */
  client: string;
  /** The user's public key. */
  pubkey: string;
  /** Key to encrypt to (equal to `pubkey` in this project). */
  enc_pubkey?: string;
  /** The user's metadata (display name, caps). */
  meta?: UserMeta;
  /** Signed-fresh hello: equal to the envelope `ts`. */
  auth_ts?: number;
  /** Signed-fresh hello: 16 random bytes, base64url, never reused. */
  nonce?: string;
  /** Dialect A only: a plaintext password. Project clients never send it. */
  password?: string;
  /** Project extension: the user's presence proof for this server. */
  presence?: PresenceProof;
}

/** MSG_DIRECT payload. */
export interface MsgDirectPayload {
  /** base64url RSA-OAEP of the message under the recipient's key. */
  ciphertext: string;
  /** The sender's public key. */
  sender_pub: string;
  /** The sender's content signature (SOCP.md §5.2). */
  content_sig: string;
}

/** One LIST_RESPONSE entry (dialect servers may send bare id strings). */
export interface ListEntry {
  /** The user's id. */
  user_id: string;
  /** The server hosting the user. */
  server_id: string;
  /** The user's display name. */
  display_name: string;
  /** `false` for a known user who is offline (`{"all":true}` lists, offline delivery). */
  online?: boolean;
  /** The key of a listed offline user (its home is `server_id`). */
  pubkey?: string;
}

/** LIST_RESPONSE payload. */
export interface ListResponsePayload {
  /** Users online. */
  users: (ListEntry | string)[];
}

/**
 * The capability a client lists in `meta.caps` to get PRESENCE frames
 * instead of every user's USER_ADVERTISE, and to use USER_LOOKUP.
 *
 * @example
 * ```ts
 * import { PRESENCE_LITE_CAP } from "@socp/socp";
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
 * import { ADVERT_ACK_CAP } from "@socp/socp";
 * ADVERT_ACK_CAP; // "advert-ack"
 * ```
 */
export const ADVERT_ACK_CAP = "advert-ack";

/**
 * Client capability: "confirm my files". After relaying a sender's FILE_END
 * (every chunk accepted), the server sends it a signed ACK whose `msg_ref`
 * is that FILE_END payload's (SOCP.md §6.5), so a client says "sent" only
 * once the server took the whole file (docs/PROTOCOL.md 60).
 *
 * @example
 * ```ts
 * import { FILE_ACK_CAP } from "@socp/socp";
 * FILE_ACK_CAP; // "file-ack"
 * ```
 */
export const FILE_ACK_CAP = "file-ack";

/**
 * PRESENCE payload (project extension, server → own clients with the
 * `"presence-lite"` capability): a numbered change to who is online, the same
 * signed frame for every such client. A `reset` frame starts a snapshot: the
 * client forgets who it thought was online, then applies the entries.
 */
export interface PresencePayload {
  /** Sequence number of this change. */
  seq: number;
  /** Whether this frame starts a snapshot. */
  reset?: boolean;
  /** Users who came online. */
  online: ListEntry[];
  /** Ids of users who went offline. */
  offline: string[];
}

/**
 * USER_LOOKUP payload (project extension, client → own server): asks for the
 * stored USER_ADVERTISE of online users, to learn their keys when needed.
 */
export interface UserLookupPayload {
  /** The users whose adverts are wanted. */
  user_ids: string[];
}

/** COMMAND payload. */
export interface CommandPayload {
  /** The command, e.g. `/list`. */
  command: string;
}

/** COMMAND_RESPONSE payload; `response` is JSON text. */
export interface CommandResponsePayload {
  /** The command answered. */
  command: string;
  /** The answer, JSON text. */
  response: string;
}

/** PUBLIC_CHANNEL_ADD payload. */
export interface PublicChannelAddPayload {
  /** User ids joining the public channel. */
  add: string[];
  /** The channel version this change builds on. */
  if_version: number;
}

/** One PUBLIC_CHANNEL_UPDATED wrap. */
export interface ChannelWrap {
  /** The member the key is wrapped for. */
  member_id: string;
  /** base64url RSA-OAEP of the 32-byte channel key under the member's key. */
  wrapped_key: string;
}

/** PUBLIC_CHANNEL_UPDATED payload. */
export interface PublicChannelUpdatedPayload {
  /** The channel key's version. */
  version: number;
  /** The key, wrapped for each member. */
  wraps: ChannelWrap[];
}

/** One key share; dialect C names the key `wrapped`. */
export interface KeyShare {
  /** The member the key is wrapped for. */
  member: string;
  /** base64url RSA-OAEP of the channel key under the member's key. */
  wrapped_public_channel_key?: string;
  /** Dialect C name of `wrapped_public_channel_key`. */
  wrapped?: string;
}

/** PUBLIC_CHANNEL_KEY_SHARE payload. */
export interface PublicChannelKeySharePayload {
  /** The key, wrapped for each member. */
  shares: KeyShare[];
  /** The creator's public key. */
  creator_pub: string;
  /** The creator's signature over `shares` and `creator_pub`. */
  content_sig: string;
  /** Extension: the channel key's version. */
  version?: number;
}

/**
 * PUBLIC_CHANNEL_KEY payload (project extension, server → own client with
 * the `"channel-key"` capability): one member's wrap of state (`version`,
 * `creator`), leaf `index` of `count` under a Merkle root the server signed
 * (`root_sig`); `proof` holds the sibling hashes, base64url.
 */
export interface PublicChannelKeyPayload {
  /** The channel key's version. */
  version: number;
  /** Id of the key's creator. */
  creator: string;
  /** Number of leaves (members) under the root. */
  count: number;
  /** This member's leaf index. */
  index: number;
  /** The member the key is wrapped for. */
  member_id: string;
  /** base64url RSA-OAEP of the channel key under the member's key. */
  wrapped_key: string;
  /** Sibling hashes from the leaf to the root, base64url. */
  proof: string[];
  /** The server's signature of the Merkle root. */
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
  /** AES-GCM blob of the message under the channel key, base64url. */
  ciphertext: string;
  /** The sender's public key. */
  sender_pub: string;
  /** The sender's content signature (SOCP.md §5.2). */
  content_sig: string;
  /** Extension: the version of the channel key used. */
  key_version?: number;
}

/** FILE_START payload. */
export interface FileStartPayload {
  /** UUIDv4 of the transfer. */
  file_id: string;
  /** The file's name (sanitised by receivers). */
  name: string;
  /** Plaintext size in bytes. */
  size: number;
  /** Hex SHA-256 of the whole plaintext. */
  sha256: string;
  /** To one user, or to the public channel. */
  mode: "dm" | "public";
  /** Extension (public mode): the channel key version used. */
  key_version?: number;
  /** Fast mode (SOCP.md §8.5): chunks are AES-GCM under a file key. */
  enc?: "aes-256-gcm";
  /** Fast mode: RSA-OAEP of the 32-byte file key under the recipient's key. */
  wrapped_key?: string;
  /** Fast mode: plaintext bytes per chunk (at most 262 144). */
  chunk_size?: number;
}

/** FILE_CHUNK payload. */
export interface FileChunkPayload {
  /** The transfer. */
  file_id: string;
  /** 0-based chunk index. */
  index: number;
  /** The sealed chunk, base64url. */
  ciphertext: string;
}

/** FILE_END payload. */
export interface FileEndPayload {
  /** The transfer that is complete. */
  file_id: string;
}

/** ACK payload. */
export interface AckPayload {
  /** Hex SHA-256 of the canonical payload acknowledged. */
  msg_ref: string;
  /** Extension: the acknowledging server's public key. */
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
  /** Error code, e.g. `USER_NOT_FOUND`. */
  code: string;
  /** Human-readable reason. */
  detail: string;
  /** Extension: hex SHA-256 of the canonical payload refused. */
  msg_ref?: string;
}

/** CTRL_CLOSE payload. */
export interface CtrlClosePayload {
  /** Why the connection closes, e.g. `shutdown`. */
  reason?: string;
}

/** The payload type of each message type. */
export interface PayloadMap {
  /** Payload of SERVER_HELLO_JOIN. */
  SERVER_HELLO_JOIN: ServerAddressPayload;
  /** Payload of SERVER_WELCOME. */
  SERVER_WELCOME: ServerWelcomePayload;
  /** Payload of SERVER_HELLO_LINK. */
  SERVER_HELLO_LINK: ServerAddressPayload;
  /** Payload of SERVER_ANNOUNCE. */
  SERVER_ANNOUNCE: ServerAddressPayload;
  /** Payload of USER_ADVERTISE. */
  USER_ADVERTISE: UserAdvertisePayload;
  /** Payload of USER_REMOVE. */
  USER_REMOVE: UserRemovePayload;
  /** Payload of SERVER_DELIVER. */
  SERVER_DELIVER: ServerDeliverPayload;
  /** Payload of HEARTBEAT. */
  HEARTBEAT: Record<string, unknown>;
  /** Payload of USER_HELLO. */
  USER_HELLO: UserHelloPayload;
  /** Payload of MSG_DIRECT. */
  MSG_DIRECT: MsgDirectPayload;
  /** Payload of USER_DELIVER. */
  USER_DELIVER: DeliverPayload;
  /** Payload of LIST_REQUEST. */
  LIST_REQUEST: Record<string, unknown>;
  /** Payload of LIST_RESPONSE. */
  LIST_RESPONSE: ListResponsePayload;
  /** Payload of COMMAND. */
  COMMAND: CommandPayload;
  /** Payload of COMMAND_RESPONSE. */
  COMMAND_RESPONSE: CommandResponsePayload;
  /** Payload of PUBLIC_CHANNEL_ADD. */
  PUBLIC_CHANNEL_ADD: PublicChannelAddPayload;
  /** Payload of PUBLIC_CHANNEL_UPDATED. */
  PUBLIC_CHANNEL_UPDATED: PublicChannelUpdatedPayload;
  /** Payload of PUBLIC_CHANNEL_KEY_SHARE. */
  PUBLIC_CHANNEL_KEY_SHARE: PublicChannelKeySharePayload;
  /** Payload of PUBLIC_CHANNEL_KEY. */
  PUBLIC_CHANNEL_KEY: PublicChannelKeyPayload;
  /** Payload of PRESENCE. */
  PRESENCE: PresencePayload;
  /** Payload of USER_LOOKUP. */
  USER_LOOKUP: UserLookupPayload;
  /** Payload of MSG_QUEUED. */
  MSG_QUEUED: MsgQueuedPayload;
  /** Payload of USER_BINDINGS. */
  USER_BINDINGS: UserBindingsPayload;
  /** Payload of MSG_PUBLIC_CHANNEL. */
  MSG_PUBLIC_CHANNEL: MsgPublicChannelPayload;
  /** Payload of FILE_START. */
  FILE_START: FileStartPayload;
  /** Payload of FILE_CHUNK. */
  FILE_CHUNK: FileChunkPayload;
  /** Payload of FILE_END. */
  FILE_END: FileEndPayload;
  /** Payload of ACK. */
  ACK: AckPayload;
  /** Payload of ERROR. */
  ERROR: ErrorPayload;
  /** Payload of CTRL_CLOSE. */
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
 * import { SERVER_SIGNED_TYPES } from "@socp/socp";
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
  "MSG_QUEUED",
  "ACK",
  "ERROR",
]);

/**
 * Types allowed as the first frame on a new connection (SOCP.md §6.6).
 *
 * @example
 * ```ts
 * import { FIRST_FRAME_TYPES } from "@socp/socp";
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
 * import { isMessageType } from "@socp/socp";
 * isMessageType("HEARTBEAT"); // true
 * isMessageType("heartbeat"); // false
 * ```
 */
export function isMessageType(type: unknown): type is MessageType {
  return typeof type === "string" && KNOWN.has(type);
}

const KNOWN: ReadonlySet<string> = new Set(MESSAGE_TYPES);
