// One valid, signed frame of every message type, built with the protocol's
// builders and the vector test keys (A plays server S1 and user alice; B plays
// server S2 and user bob).

import {
  buildChannelKeyFrames,
  buildError,
  buildKeyShare,
  buildMsgDirect,
  buildMsgPublic,
  buildServerDeliver,
  buildSigned,
  buildUserDeliver,
  buildUserHello,
  encryptFor,
  type FrameOf,
  generateAesKey,
  type Identity,
  type MessageType,
  sha256Hex,
} from "../mod.ts";
import { KEYS } from "./_vectors.ts";

export const S1: Identity = { id: crypto.randomUUID(), keys: KEYS.A };
export const S2: Identity = { id: crypto.randomUUID(), keys: KEYS.B };
export const ALICE: Identity = { id: crypto.randomUUID(), keys: KEYS.A };
export const BOB: Identity = { id: crypto.randomUUID(), keys: KEYS.B };
export const GROUP_KEY: Uint8Array = generateAesKey();

const address = { host: "127.0.0.1", port: 8443 };

/** Builds one valid frame per message type. */
export async function sampleFrames(): Promise<{ [T in MessageType]: FrameOf<T> }> {
  const a = ALICE.keys.publicKey.b64;
  const b = BOB.keys.publicKey.b64;
  const dm = await buildMsgDirect(ALICE, BOB.id, BOB.keys.publicKey, "hello bob");
  const wrapA = await encryptFor(ALICE.keys.publicKey, GROUP_KEY);
  const wrapB = await encryptFor(BOB.keys.publicKey, GROUP_KEY);
  const fileId = crypto.randomUUID();
  const chunk = await encryptFor(BOB.keys.publicKey, "file bytes");
  return {
    SERVER_HELLO_JOIN: await buildSigned(S2, "SERVER_HELLO_JOIN", "127.0.0.1:8000", {
      ...address,
      pubkey: b,
    }),
    SERVER_WELCOME: await buildSigned(S1, "SERVER_WELCOME", S2.id, {
      assigned_id: S2.id,
      servers: [{ server_id: S1.id, ...address, pubkey: a }],
      clients: [{ user_id: ALICE.id, server_id: S1.id, ...address, pubkey: a }],
    }),
    SERVER_HELLO_LINK: await buildSigned(S2, "SERVER_HELLO_LINK", S1.id, { ...address, pubkey: b }),
    SERVER_ANNOUNCE: await buildSigned(S2, "SERVER_ANNOUNCE", "*", { ...address, pubkey: b }),
    USER_ADVERTISE: await buildSigned(S1, "USER_ADVERTISE", "*", {
      user_id: ALICE.id,
      server_id: S1.id,
      pubkey: a,
      meta: { display_name: "Alice", pubkey: a, caps: ["file-aesgcm"] },
    }),
    USER_REMOVE: await buildSigned(S1, "USER_REMOVE", "*", { user_id: ALICE.id, server_id: S1.id }),
    SERVER_DELIVER: await buildServerDeliver(S1, dm, S2.id),
    HEARTBEAT: await buildSigned(S1, "HEARTBEAT", S2.id, {}),
    USER_HELLO: await buildUserHello(ALICE, { meta: { display_name: "Alice" } }),
    MSG_DIRECT: dm,
    USER_DELIVER: await buildUserDeliver(S2, dm),
    LIST_REQUEST: await buildSigned(ALICE, "LIST_REQUEST", S1.id, {}),
    LIST_RESPONSE: await buildSigned(S1, "LIST_RESPONSE", ALICE.id, {
      users: [{ user_id: ALICE.id, server_id: S1.id, display_name: "Alice" }],
    }),
    COMMAND: await buildSigned(ALICE, "COMMAND", S1.id, { command: "/list" }),
    COMMAND_RESPONSE: await buildSigned(S1, "COMMAND_RESPONSE", ALICE.id, {
      command: "/list",
      response: JSON.stringify({ users: [ALICE.id] }),
    }),
    PUBLIC_CHANNEL_ADD: await buildSigned(S1, "PUBLIC_CHANNEL_ADD", "*", {
      add: [ALICE.id],
      if_version: 4,
    }),
    PUBLIC_CHANNEL_UPDATED: await buildSigned(S1, "PUBLIC_CHANNEL_UPDATED", "*", {
      version: 5,
      wraps: [{ member_id: ALICE.id, wrapped_key: wrapA }, {
        member_id: BOB.id,
        wrapped_key: wrapB,
      }],
    }),
    PUBLIC_CHANNEL_KEY_SHARE: await buildKeyShare(S1, [
      { member: ALICE.id, wrapped_public_channel_key: wrapA },
      { member: BOB.id, wrapped_public_channel_key: wrapB },
    ], 5),
    PUBLIC_CHANNEL_KEY: (await buildChannelKeyFrames(
      S1,
      5,
      S1.id,
      [{ member_id: ALICE.id, wrapped_key: wrapA }, { member_id: BOB.id, wrapped_key: wrapB }],
      new Set([BOB.id]),
    )).get(BOB.id)!,
    PRESENCE: await buildSigned(S1, "PRESENCE", "*", {
      seq: 3,
      reset: true,
      online: [{ user_id: ALICE.id, server_id: S1.id, display_name: "Alice" }],
      offline: [BOB.id],
    }),
    USER_LOOKUP: await buildSigned(ALICE, "USER_LOOKUP", S1.id, { user_ids: [BOB.id] }),
    USER_BINDINGS: await buildSigned(S1, "USER_BINDINGS", S2.id, {
      bindings: [{
        user_id: ALICE.id,
        pubkey: ALICE.keys.publicKey.b64,
        home: S1.id,
        key_version: 1,
        registered_at: 1700000000000,
      }],
    }),
    MSG_QUEUED: await buildSigned(S1, "MSG_QUEUED", ALICE.id, {
      user_id: BOB.id,
      msg_ref: "ab".repeat(32),
      queued_at: 1700000000000,
    }),
    MSG_PUBLIC_CHANNEL: await buildMsgPublic(BOB, GROUP_KEY, 5, "hello all"),
    FILE_START: await buildSigned(BOB, "FILE_START", ALICE.id, {
      file_id: fileId,
      name: "report.pdf",
      size: 10,
      sha256: await sha256Hex("file bytes"),
      mode: "dm",
    }),
    FILE_CHUNK: await buildSigned(BOB, "FILE_CHUNK", ALICE.id, {
      file_id: fileId,
      index: 0,
      ciphertext: chunk,
    }),
    FILE_END: await buildSigned(BOB, "FILE_END", ALICE.id, { file_id: fileId }),
    ACK: await buildSigned(S1, "ACK", ALICE.id, { msg_ref: "0".repeat(64), server_pub: a }),
    ERROR: await buildError(S1, BOB.id, "USER_NOT_FOUND", "recipient is not online"),
    CTRL_CLOSE: await buildSigned(S1, "CTRL_CLOSE", S2.id, { reason: "shutdown" }),
  };
}
