import assert from "node:assert/strict";
import {
  type ErrorCode,
  type Frame,
  MESSAGE_TYPES,
  type MessageType,
  parseFrame,
  type ParseOptions,
} from "../../mod.ts";
import { ALICE, BOB, S1, sampleFrames } from "../_samples.ts";

const SAMPLES = await sampleFrames();
type Mutable = Record<string, unknown> & { payload: Record<string, unknown> };
const clone = (type: MessageType): Mutable => structuredClone(SAMPLES[type]) as unknown as Mutable;

function expectCode(frame: unknown, code: ErrorCode, options?: ParseOptions): void {
  const text = typeof frame === "string" ? frame : JSON.stringify(frame);
  const result = parseFrame(text, options);
  assert.ok(!result.ok, `expected ${code}, frame was accepted: ${text.slice(0, 120)}`);
  assert.equal(result.error.code, code, result.error.detail);
}

function expectOk(frame: unknown, options?: ParseOptions): Frame {
  const result = parseFrame(typeof frame === "string" ? frame : JSON.stringify(frame), options);
  assert.ok(result.ok, result.ok ? "" : `${result.error.code}: ${result.error.detail}`);
  return result.frame;
}

// Required payload fields of each type (SOCP.md §6).
const REQUIRED: Record<MessageType, string[]> = {
  SERVER_HELLO_JOIN: ["host", "port", "pubkey"],
  SERVER_WELCOME: ["assigned_id"],
  SERVER_HELLO_LINK: ["host", "port", "pubkey"],
  SERVER_ANNOUNCE: ["host", "port", "pubkey"],
  USER_ADVERTISE: ["user_id", "server_id"],
  USER_REMOVE: ["user_id"], // server_id defaults to from (dialect C)
  SERVER_DELIVER: ["user_id", "ciphertext", "sender", "sender_pub", "content_sig"],
  HEARTBEAT: [],
  USER_HELLO: ["client", "pubkey"],
  MSG_DIRECT: ["ciphertext", "sender_pub", "content_sig"],
  USER_DELIVER: ["ciphertext", "sender", "sender_pub", "content_sig"],
  LIST_REQUEST: [],
  LIST_RESPONSE: ["users"],
  COMMAND: ["command"],
  COMMAND_RESPONSE: ["command", "response"],
  PUBLIC_CHANNEL_ADD: ["add"],
  PUBLIC_CHANNEL_UPDATED: ["version", "wraps"],
  PUBLIC_CHANNEL_KEY_SHARE: ["shares", "creator_pub", "content_sig"],
  PUBLIC_CHANNEL_KEY: [
    "version",
    "creator",
    "count",
    "index",
    "member_id",
    "wrapped_key",
    "proof",
    "root_sig",
  ],
  PRESENCE: ["seq", "online", "offline"],
  USER_LOOKUP: ["user_ids"],
  USER_BINDINGS: ["bindings"],
  MSG_QUEUED: ["user_id", "msg_ref"],
  MSG_PUBLIC_CHANNEL: ["ciphertext", "sender_pub", "content_sig"],
  FILE_START: ["file_id", "name", "size", "sha256", "mode"],
  FILE_CHUNK: ["file_id", "index", "ciphertext"],
  FILE_END: ["file_id"],
  ACK: ["msg_ref"],
  ERROR: ["code"],
  CTRL_CLOSE: [],
};

for (const type of MESSAGE_TYPES) {
  Deno.test(`parseFrame ${type}: accepts the built frame, rejects each missing or mistyped field`, () => {
    const frame = expectOk(SAMPLES[type]);
    assert.equal(frame.type, type);
    for (const field of REQUIRED[type]) {
      const missing = clone(type);
      delete missing.payload[field];
      assert.ok(!parseFrame(JSON.stringify(missing)).ok, `${type} without ${field}`);
      for (const wrong of [7.5, { x: 1 }, true, null]) {
        const mistyped = clone(type);
        mistyped.payload[field] = wrong;
        assert.ok(
          !parseFrame(JSON.stringify(mistyped)).ok,
          `${type}.${field} = ${JSON.stringify(wrong)}`,
        );
      }
    }
    const noPayload = clone(type);
    noPayload.payload = [] as unknown as Record<string, unknown>;
    expectCode(noPayload, "BAD_REQUEST");
  });
}

Deno.test("parseFrame tolerates surrounding whitespace and keeps unknown fields for forwarding", () => {
  const frame = clone("USER_REMOVE");
  frame.x_extra = { keep: true };
  frame.payload.x_note = "kept";
  const parsed = expectOk(`  ${JSON.stringify(frame)}\n`) as unknown as Mutable;
  assert.deepEqual(parsed.x_extra, { keep: true });
  assert.equal(parsed.payload.x_note, "kept");
});

Deno.test("parseFrame treats null and empty sig as unsigned", () => {
  for (const sig of [null, ""]) {
    expectCode({ ...clone("HEARTBEAT"), sig }, "INVALID_SIG");
    const hello = expectOk({ ...clone("USER_HELLO"), sig });
    assert.equal(hello.sig, undefined);
    assert.ok(!("sig" in hello));
  }
  expectCode({ ...clone("MSG_DIRECT"), sig: 12 }, "INVALID_SIG");
  expectCode({ ...clone("MSG_DIRECT"), sig: "MDEyMzQ1Njc4OQ" }, "INVALID_SIG");
});

Deno.test("parseFrame enforces the `to` rule of each type", () => {
  expectOk({ ...clone("USER_ADVERTISE"), to: "*" });
  expectOk({ ...clone("USER_ADVERTISE"), to: BOB.id });
  expectCode({ ...clone("MSG_DIRECT"), to: "*" }, "BAD_REQUEST");
  expectCode({ ...clone("MSG_DIRECT"), to: "public" }, "BAD_REQUEST");
  for (const to of ["public", "*", BOB.id]) expectOk({ ...clone("MSG_PUBLIC_CHANNEL"), to });
  for (const to of ["public", "*"]) expectOk({ ...clone("FILE_CHUNK"), to });
  expectCode({ ...clone("MSG_PUBLIC_CHANNEL"), to: "g123" }, "BAD_REQUEST");
  expectOk({ ...clone("MSG_PUBLIC_CHANNEL"), to: "g123" }, { dialects: true });
  for (const type of ["USER_HELLO", "LIST_REQUEST", "COMMAND", "HEARTBEAT"] as const) {
    expectOk({ ...clone(type), to: "server" });
  }
  expectOk({ ...clone("SERVER_HELLO_JOIN"), to: "10.0.0.1:443" });
  expectCode({ ...clone("SERVER_WELCOME"), to: "10.0.0.1:443" }, "BAD_REQUEST");
  expectCode({ ...clone("ERROR"), to: 5 }, "BAD_REQUEST");
});

Deno.test("parseFrame requires a non-negative safe integer ts", () => {
  for (const ts of [-1, 2 ** 53, 1.5, "1", null]) {
    expectCode({ ...clone("HEARTBEAT"), ts }, "BAD_REQUEST");
  }
  expectOk({ ...clone("PUBLIC_CHANNEL_UPDATED"), ts: 0 });
});

Deno.test("parseFrame answers TOO_LARGE above the frame limit, counting UTF-8 bytes", () => {
  const frame = clone("HEARTBEAT");
  frame.payload.pad = "é".repeat(600); // 1200 bytes, 600 UTF-16 units
  const text = JSON.stringify(frame);
  expectCode(text, "TOO_LARGE", { maxFrameBytes: text.length + 100 });
  expectOk(text, { maxFrameBytes: text.length + 700 });
});

Deno.test("parseFrame rejects JSON nested deeper than the limit", () => {
  const deep = (n: number): unknown => (n === 0 ? {} : { d: deep(n - 1) });
  expectOk({ ...clone("HEARTBEAT"), payload: deep(20) });
  expectCode({ ...clone("HEARTBEAT"), payload: deep(40) }, "BAD_REQUEST");
  expectCode("[".repeat(100_000) + "]".repeat(100_000), "BAD_REQUEST");
  expectCode({ ...clone("HEARTBEAT"), payload: deep(10) }, "BAD_REQUEST", { maxJsonDepth: 5 });
});

Deno.test("parseFrame caps list fields at 10 000 entries with TOO_LARGE", () => {
  const add = clone("PUBLIC_CHANNEL_ADD");
  add.payload.add = Array.from({ length: 10_001 }, () => ALICE.id);
  expectCode(add, "TOO_LARGE");
  add.payload.add = Array.from({ length: 10_000 }, () => ALICE.id);
  expectOk(add);
});

Deno.test("parseFrame enforces ciphertext sizes of DMs and public messages", () => {
  const dm = clone("MSG_DIRECT");
  dm.payload.ciphertext = "QUJD";
  expectCode(dm, "BAD_REQUEST");
  const pub = clone("MSG_PUBLIC_CHANNEL");
  pub.payload.ciphertext = "A".repeat(22_004);
  expectCode(pub, "BAD_REQUEST");
});

Deno.test("parseFrame checks file frames: mode, digest, fast-mode fields, chunk index", () => {
  const start = () => clone("FILE_START");
  for (
    const [field, value] of [["mode", "x"], ["sha256", "zz".repeat(32)], ["size", -1], [
      "chunk_size",
      262_145,
    ]] as const
  ) {
    const f = start();
    f.payload[field] = value;
    expectCode(f, "BAD_REQUEST");
  }
  const fast = start();
  fast.payload.enc = "aes-256-gcm";
  expectCode(fast, "BAD_REQUEST"); // no wrapped_key
  fast.payload.wrapped_key = SAMPLES.MSG_DIRECT.payload.ciphertext;
  fast.payload.chunk_size = 262_144;
  expectOk(fast);
  const chunk = clone("FILE_CHUNK");
  chunk.payload.index = 65_536;
  expectCode(chunk, "TOO_LARGE");
  chunk.payload.index = 65_535;
  expectOk(chunk);
});

Deno.test("parseFrame applies sender rules to USER_HELLO meta and receipt rules to adverts", () => {
  const longName = "n".repeat(65);
  for (
    const meta of [{ display_name: longName }, { display_name: "a\u0007b" }, {
      extras: { pad: "x".repeat(5000) },
    }]
  ) {
    expectCode(
      { ...clone("USER_HELLO"), payload: { ...clone("USER_HELLO").payload, meta } },
      "BAD_REQUEST",
    );
  }
  expectOk({
    ...clone("USER_HELLO"),
    payload: { ...clone("USER_HELLO").payload, meta: { display_name: "Zoë 🚀" } },
  });
  const advert = clone("USER_ADVERTISE");
  (advert.payload.meta as Record<string, unknown>).display_name = longName;
  expectOk(advert);
  delete advert.payload.pubkey;
  expectOk(advert); // meta.pubkey still present
  delete (advert.payload.meta as Record<string, unknown>).pubkey;
  expectCode(advert, "BAD_KEY");
});

Deno.test("parseFrame requires USER_HELLO from a UUIDv4, even with dialects on", () => {
  expectCode({ ...clone("USER_HELLO"), from: "Alice" }, "BAD_REQUEST", { dialects: true });
  const weak = clone("USER_HELLO");
  weak.payload.enc_pubkey = "MIIBIjANBgkq";
  expectCode(weak, "BAD_KEY");
});

Deno.test("parseFrame accepts key shares named `wrapped` and wrapped SERVER_DELIVER files", () => {
  const share = clone("PUBLIC_CHANNEL_KEY_SHARE");
  const shares = share.payload.shares as Record<string, unknown>[];
  shares[0] = { member: ALICE.id, wrapped: shares[0].wrapped_public_channel_key };
  expectOk(share);
  shares[0] = { member: ALICE.id };
  expectCode(share, "BAD_REQUEST");

  const inner = SAMPLES.FILE_CHUNK;
  const wrapped = { ...clone("SERVER_DELIVER"), payload: { user_id: ALICE.id, ...inner } };
  expectOk(wrapped);
  (wrapped.payload as Record<string, unknown>).payload = {
    file_id: "x",
    index: 0,
    ciphertext: "AA",
  };
  expectCode(wrapped, "BAD_REQUEST");
});

Deno.test("parseFrame accepts the dialect WELCOME snapshot and LIST_RESPONSE id strings", () => {
  const welcome = clone("SERVER_WELCOME");
  welcome.payload = { assigned_id: BOB.id, snapshot: { user_locations: { [ALICE.id]: S1.id } } };
  expectOk(welcome);
  welcome.payload.snapshot = { user_locations: { [ALICE.id]: 5 } };
  expectCode(welcome, "BAD_REQUEST");
  const list = clone("LIST_RESPONSE");
  list.payload.users = [ALICE.id, BOB.id];
  expectOk(list);
});

Deno.test("dialect mode: free-name ids, MSG_PRIVATE, SERVER_GOODBYE and bare CTRL_CLOSE", () => {
  const advert = {
    ...clone("USER_REMOVE"),
    from: "server-a",
    payload: { user_id: "Bob", server_id: "server-a" },
  };
  expectCode(advert, "BAD_REQUEST");
  expectOk(advert, { dialects: true });

  expectCode({ ...clone("MSG_DIRECT"), type: "MSG_PRIVATE" }, "UNKNOWN_TYPE");
  assert.equal(
    expectOk({ ...clone("MSG_DIRECT"), type: "MSG_PRIVATE" }, { dialects: true }).type,
    "MSG_DIRECT",
  );

  const goodbye = {
    type: "SERVER_GOODBYE",
    from: S1.id,
    to: BOB.id,
    ts: 1,
    payload: { reason: "shutdown" },
  };
  expectCode(goodbye, "UNKNOWN_TYPE");
  assert.equal(expectOk(goodbye, { dialects: true }).type, "CTRL_CLOSE");

  expectCode('{"type":"CTRL_CLOSE"}', "BAD_REQUEST");
  assert.equal(expectOk('{"type":"CTRL_CLOSE"}', { dialects: true }).type, "CTRL_CLOSE");
});

Deno.test("parseFrame reports when it normalised a frame, so its text is not forwarded as is", () => {
  const plain = parseFrame(JSON.stringify(SAMPLES.USER_REMOVE));
  assert.ok(plain.ok && !plain.rewritten);
  const emptySig = parseFrame(JSON.stringify({ ...clone("USER_HELLO"), sig: "" }));
  assert.ok(emptySig.ok && emptySig.rewritten);
  const alias = parseFrame(JSON.stringify({ ...clone("MSG_DIRECT"), type: "MSG_PRIVATE" }), {
    dialects: true,
  });
  assert.ok(alias.ok && alias.rewritten);
  const bare = parseFrame('{"type":"CTRL_CLOSE"}', { dialects: true });
  assert.ok(bare.ok && bare.rewritten);
  const full = parseFrame(JSON.stringify(SAMPLES.CTRL_CLOSE), { dialects: true });
  assert.ok(full.ok && !full.rewritten);
});

Deno.test("a rejection reports the frame's type and sender when it could read them", () => {
  const bad = clone("MSG_DIRECT");
  delete bad.payload.content_sig;
  const result = parseFrame(JSON.stringify(bad));
  assert.ok(!result.ok);
  assert.equal(result.type, "MSG_DIRECT");
  assert.equal(result.from, ALICE.id);
});
