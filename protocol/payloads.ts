/**
 * One payload validator per message type (SOCP.md §6, limits of §11), as a
 * table from type to check. Validators never throw; they return the
 * {@linkcode ProtocolError} to answer with, or `null`.
 *
 * @module
 */

import { canonicalJson } from "./canonical.ts";
import { CONTROL_CHARS } from "./display.ts";
import { ErrorCode, type ProtocolError, protocolError } from "./errors.ts";
import { DEFAULT_LIMITS, MAX_FAST_CHUNK_BYTES, MAX_LOOKUP_IDS, RSA_BYTES } from "./limits.ts";
import { MAX_PROOF_LENGTH } from "./merkle.ts";
import type { MessageType } from "./types.ts";
import {
  anyObject,
  anyOf,
  b64,
  bool,
  type Check,
  type CheckContext,
  hex64,
  id,
  int,
  isRecord,
  key,
  list,
  obj,
  oneOf,
  refine,
  signature,
  str,
} from "./_schema.ts";

const L = DEFAULT_LIMITS;
const RSA_B64 = b64({ bytes: RSA_BYTES, maxChars: 1024 });
const host = str({ min: 1, max: 253 });
const port = int({ min: 1, max: 65535 });
const version = int();
// Largest chunk blob: a fast-mode chunk of 256 KiB plus IV and tag, in base64.
const MAX_CHUNK_CHARS = Math.ceil(((MAX_FAST_CHUNK_BYTES + 32) * 4) / 3);
const FILE_TYPES = ["FILE_START", "FILE_CHUNK", "FILE_END"];

/**
 * `meta` of a hello or an advert: at most 4 KiB canonical. `strictName`
 * applies the sender-side rule (display_name ≤ 64 characters, no controls);
 * on receipt, long names are truncated for display instead.
 */
function meta(strictName: boolean): Check {
  return refine(
    obj({}, {
      display_name: str({ max: L.maxMetaBytes }),
      pubkey: key,
      enc_pubkey: key,
      caps: list(str({ max: 64 }), 64),
    }),
    (m, path) => {
      let size: number;
      try {
        size = new TextEncoder().encode(canonicalJson(m)).length;
      } catch {
        return protocolError(ErrorCode.BAD_REQUEST, `${path} holds a non-integer number`);
      }
      if (size > L.maxMetaBytes) {
        return protocolError(ErrorCode.BAD_REQUEST, `${path} exceeds ${L.maxMetaBytes} bytes`);
      }
      const name = m.display_name;
      if (strictName && typeof name === "string") {
        if ([...name].length > L.maxDisplayName || CONTROL_CHARS.test(name)) {
          return protocolError(
            ErrorCode.BAD_REQUEST,
            `${path}.display_name must be at most ${L.maxDisplayName} characters without controls`,
          );
        }
      }
      return null;
    },
  );
}

const caps = list(str({ max: 64 }), 64);
const serverAddress = obj({ host, port, pubkey: key }, { caps });

const userLocations: Check = (v, path, ctx) => {
  if (!isRecord(v)) return protocolError(ErrorCode.BAD_REQUEST, `${path} must be an object`);
  const entries = Object.entries(v);
  if (entries.length > L.maxListEntries) {
    return protocolError(ErrorCode.TOO_LARGE, `${path} exceeds ${L.maxListEntries} entries`);
  }
  for (const [user, server] of entries) {
    const err = id(user, `${path} key`, ctx) ?? id(server, `${path}.${user}`, ctx);
    if (err) return err;
  }
  return null;
};

const fileStart = refine(
  obj(
    {
      file_id: id,
      name: str({ max: 1024 }),
      size: int(),
      sha256: hex64,
      mode: oneOf("dm", "public"),
    },
    {
      key_version: version,
      enc: oneOf("aes-256-gcm"),
      wrapped_key: RSA_B64,
      chunk_size: int({ min: 1, max: MAX_FAST_CHUNK_BYTES }),
    },
  ),
  (p, path) => {
    if (p.enc != null && (p.mode !== "dm" || p.wrapped_key == null)) {
      return protocolError(
        ErrorCode.BAD_REQUEST,
        `${path}: fast mode needs mode dm and wrapped_key`,
      );
    }
    return null;
  },
);

const fileChunk = refine(
  obj({ file_id: id, index: int(), ciphertext: b64({ maxChars: MAX_CHUNK_CHARS }) }),
  (p, path) =>
    (p.index as number) >= L.maxChunks
      ? protocolError(ErrorCode.TOO_LARGE, `${path}.index exceeds ${L.maxChunks - 1}`)
      : null,
);

const fileEnd = obj({ file_id: id });

const FILE_PAYLOADS: Record<string, Check> = {
  FILE_START: fileStart,
  FILE_CHUNK: fileChunk,
  FILE_END: fileEnd,
};

const serverDeliverDm = obj({
  user_id: id,
  ciphertext: RSA_B64,
  sender: id,
  sender_pub: key,
  content_sig: signature,
}, { orig_ts: int(), queued_at: int() });

// §8.3: a FILE_* frame wrapped in SERVER_DELIVER (accepted, never sent).
const serverDeliverWrapped = refine(
  obj({
    user_id: id,
    type: oneOf(...FILE_TYPES),
    from: id,
    to: str({ min: 1, max: 64 }),
    ts: int(),
    payload: anyObject,
  }, { sig: str({ max: 1024 }) }),
  (p, path, ctx) => FILE_PAYLOADS[p.type as string](p.payload, `${path}.payload`, ctx),
);

const serverDeliver: Check = (v, path, ctx) =>
  isRecord(v) && typeof v.type === "string" && FILE_TYPES.includes(v.type)
    ? serverDeliverWrapped(v, path, ctx)
    : serverDeliverDm(v, path, ctx);

// The server a proof names: an id, or "*" when the client did not know it yet.
const proofServer: Check = (v, path, ctx) => v === "*" ? null : id(v, path, ctx);
const presenceProof = obj({ server_id: proofServer, ts: int(), sig: signature });

const bindingEntry = obj({
  user_id: id,
  pubkey: key,
  home: id,
  key_version: int(),
  registered_at: int(),
});

const userAdvertise = refine(
  obj({ user_id: id, server_id: id }, {
    pubkey: key,
    meta: meta(false),
    home: id,
    key_version: int(),
    registered_at: int(),
    presence: presenceProof,
  }),
  (p, path) => {
    const metaKey = isRecord(p.meta) ? p.meta.pubkey : undefined;
    return p.pubkey == null && metaKey == null
      ? protocolError(ErrorCode.BAD_KEY, `${path} carries no pubkey`)
      : null;
  },
);

const keyShare = refine(
  obj({ member: id }, { wrapped_public_channel_key: RSA_B64, wrapped: RSA_B64 }),
  (s, path) =>
    s.wrapped_public_channel_key == null && s.wrapped == null
      ? protocolError(ErrorCode.BAD_REQUEST, `${path} has no wrapped key`)
      : null,
);

const listEntry = anyOf(
  obj({ user_id: id, server_id: id }, { display_name: str({ max: L.maxMetaBytes }) }),
  id,
);

/**
 * The payload validator of each message type.
 *
 * @example
 * ```ts
 * import { PAYLOAD_CHECKS } from "@socp/socp";
 * PAYLOAD_CHECKS.FILE_END({ file_id: 1 }, "payload", { dialects: false })?.code; // "BAD_REQUEST"
 * ```
 */
export const PAYLOAD_CHECKS: Readonly<Record<MessageType, Check>> = {
  SERVER_HELLO_JOIN: serverAddress,
  SERVER_WELCOME: obj({ assigned_id: id }, {
    servers: list(obj({ server_id: id, host, port, pubkey: key }, { dialect: oneOf("A") })),
    clients: list(obj({ user_id: id, server_id: id }, { host, port, pubkey: key })),
    snapshot: obj({}, { user_locations: userLocations }),
    server_pub: key,
    caps,
    bindings: list(bindingEntry),
  }),
  SERVER_HELLO_LINK: serverAddress,
  SERVER_ANNOUNCE: serverAddress,
  USER_ADVERTISE: userAdvertise,
  // Dialect C omits server_id; receivers take the envelope `from` for it.
  USER_REMOVE: obj({ user_id: id }, { server_id: id }),
  SERVER_DELIVER: serverDeliver,
  HEARTBEAT: anyObject,
  USER_HELLO: obj({ client: str({ min: 1, max: 128 }), pubkey: key }, {
    enc_pubkey: key,
    meta: meta(true),
    auth_ts: int(),
    nonce: str({ min: 1, max: 128 }),
    password: str({ max: 1024 }),
    presence: presenceProof,
  }),
  MSG_DIRECT: obj({ ciphertext: RSA_B64, sender_pub: key, content_sig: signature }),
  USER_DELIVER: obj({
    ciphertext: b64({ maxChars: L.maxPublicBlobChars }),
    sender: id,
    sender_pub: key,
    content_sig: signature,
  }, { queued_at: int() }),
  MSG_QUEUED: obj({ user_id: id, msg_ref: str({ min: 1, max: 128 }) }, {
    queued_at: int(),
    refused: str({ max: 200 }),
  }),
  LIST_REQUEST: anyObject,
  LIST_RESPONSE: obj({ users: list(listEntry) }),
  COMMAND: obj({ command: str({ min: 1, max: 1024 }) }),
  COMMAND_RESPONSE: obj({ command: str({ max: 1024 }), response: str({ max: L.sendFrameBytes }) }),
  PUBLIC_CHANNEL_ADD: obj({ add: list(id) }, { if_version: version }),
  PUBLIC_CHANNEL_UPDATED: obj({
    version,
    wraps: list(obj({ member_id: id, wrapped_key: RSA_B64 })),
  }),
  PUBLIC_CHANNEL_KEY_SHARE: obj(
    { shares: list(keyShare), creator_pub: key, content_sig: signature },
    { version },
  ),
  PUBLIC_CHANNEL_KEY: obj({
    version,
    creator: id,
    count: int({ min: 1, max: L.maxListEntries }),
    index: int({ min: 0, max: L.maxListEntries - 1 }),
    member_id: id,
    wrapped_key: RSA_B64,
    proof: list(b64({ bytes: 32, maxChars: 44 }), MAX_PROOF_LENGTH),
    root_sig: signature,
  }, { sender_pub_form: oneOf("pem") }),
  PRESENCE: obj({
    seq: int(),
    online: list(obj({ user_id: id, server_id: id, display_name: str({ max: L.maxMetaBytes }) })),
    offline: list(id),
  }, { reset: bool }),
  USER_LOOKUP: obj({ user_ids: list(id, MAX_LOOKUP_IDS) }),
  USER_BINDINGS: obj({ bindings: list(bindingEntry) }),
  MSG_PUBLIC_CHANNEL: obj(
    {
      ciphertext: b64({ maxChars: L.maxPublicBlobChars }),
      sender_pub: key,
      content_sig: signature,
    },
    { key_version: version },
  ),
  FILE_START: fileStart,
  FILE_CHUNK: fileChunk,
  FILE_END: fileEnd,
  ACK: obj({ msg_ref: str({ max: 128 }) }, { server_pub: key, advert: anyObject }),
  ERROR: obj({ code: str({ min: 1, max: 64 }) }, {
    detail: str({ max: 4096 }),
    msg_ref: str({ max: 128 }),
  }),
  CTRL_CLOSE: obj({}, { reason: str({ max: 256 }) }),
};

/**
 * Validates the payload of a frame of type `type`.
 *
 * @example
 * ```ts
 * import { validatePayload } from "@socp/socp";
 * validatePayload("FILE_END", { file_id: "nope" }, { dialects: false })?.code; // "BAD_REQUEST"
 * validatePayload("HEARTBEAT", {}, { dialects: false }); // null
 * ```
 */
export function validatePayload(
  type: MessageType,
  payload: unknown,
  ctx: CheckContext,
): ProtocolError | null {
  return PAYLOAD_CHECKS[type](payload, "payload", ctx);
}
