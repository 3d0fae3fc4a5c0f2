// The pure parts of the WebSocket transport: the RFC 6455 frame codec and the HTTP handshake.

import assert from "node:assert/strict";
import {
  encodeClosePayload,
  encodeFrame,
  type FrameEvent,
  FrameReader,
  Opcode,
  type OpcodeValue,
  type Role,
  unmask,
} from "../../server/ws/frames.ts";
import {
  acceptKey,
  parseRequestHead,
  parseResponseHead,
  serializeResponse,
  upgradeRequest,
  validateUpgrade,
  validateUpgradeResponse,
} from "../../server/ws/handshake.ts";

const te = new TextEncoder();
const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/** A frame as `role`'s peer sends it: masked towards a server, unmasked towards a client. */
function frame(
  to: Role,
  opcode: OpcodeValue,
  payload: Uint8Array | string,
  options: { fin?: boolean; rsv?: number } = {},
): Uint8Array {
  const bytes = typeof payload === "string" ? te.encode(payload) : payload;
  const out = encodeFrame(opcode, bytes, {
    fin: options.fin,
    mask: to === "server" ? MASK : undefined,
  });
  out[0] |= (options.rsv ?? 0) << 4;
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `bytes` in chunks of `step` (copied, as a socket's buffer would be) and collects events. */
function readAll(
  bytes: Uint8Array,
  options: { role?: Role; max?: number; step?: number } = {},
): FrameEvent[] {
  const reader = new FrameReader({
    role: options.role ?? "server",
    maxMessageBytes: options.max ?? 1 << 20,
  });
  const step = options.step ?? bytes.length;
  const events: FrameEvent[] = [];
  const buffer = new Uint8Array(Math.max(step, 1));
  for (let at = 0; at < bytes.length; at += step) {
    const chunk = bytes.subarray(at, at + step);
    buffer.set(chunk);
    reader.push(buffer.subarray(0, chunk.length));
    for (let e = reader.next(); e; e = reader.next()) events.push(e);
    buffer.fill(0xee); // the reader must not keep references into a reused buffer
  }
  return events;
}

function violation(events: FrameEvent[]): number | undefined {
  const last = events.at(-1);
  return last?.type === "violation" ? last.code : undefined;
}

Deno.test("frames: text and binary round-trip at every length encoding, both directions, fed whole or byte by byte", () => {
  for (const role of ["server", "client"] as const) {
    for (const size of [0, 1, 125, 126, 65535, 65536, 200_001]) {
      const payload = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
      const text = "é".repeat(size >> 1);
      const bytes = concat(frame(role, Opcode.Binary, payload), frame(role, Opcode.Text, text));
      for (const step of size > 70_000 ? [bytes.length, 4093] : [bytes.length, 1, 3]) {
        const events = readAll(bytes, { role, step });
        assert.equal(events.length, 2, `${role} ${size} ${step}`);
        assert.deepEqual(events[0], { type: "binary", data: payload });
        assert.deepEqual(events[1], { type: "text", data: text });
      }
    }
  }
});

Deno.test("frames: fragmented messages are reassembled, with control frames between fragments", () => {
  const bytes = concat(
    frame("server", Opcode.Text, "h", { fin: false }),
    frame("server", Opcode.Ping, "p1"),
    frame("server", Opcode.Continuation, te.encode("é").subarray(0, 1), { fin: false }),
    frame("server", Opcode.Pong, ""),
    frame("server", Opcode.Continuation, new Uint8Array([...te.encode("é").subarray(1), 0x21])),
    frame("server", Opcode.Binary, new Uint8Array([1, 2]), { fin: false }),
    frame("server", Opcode.Continuation, new Uint8Array(0), { fin: false }),
    frame("server", Opcode.Continuation, new Uint8Array([3])),
  );
  for (const step of [bytes.length, 1, 2, 5]) {
    assert.deepEqual(readAll(bytes, { step }), [
      { type: "ping", data: te.encode("p1") },
      { type: "pong", data: new Uint8Array(0) },
      { type: "text", data: "hé!" },
      { type: "binary", data: new Uint8Array([1, 2, 3]) },
    ]);
  }
});

Deno.test("frames: a message exactly at the limit passes; one byte over is 1009, also when a later fragment brings it over", () => {
  const max = 10_000;
  const exact = new Uint8Array(max);
  assert.equal(readAll(frame("server", Opcode.Binary, exact), { max })[0].type, "binary");
  const split = concat(
    frame("server", Opcode.Binary, exact.subarray(0, 6000), { fin: false }),
    frame("server", Opcode.Continuation, exact.subarray(6000)),
  );
  assert.equal(readAll(split, { max })[0].type, "binary");
  assert.equal(
    violation(readAll(frame("server", Opcode.Binary, new Uint8Array(max + 1)), { max })),
    1009,
  );
  const over = concat(
    frame("server", Opcode.Text, "a".repeat(6000), { fin: false }),
    frame("server", Opcode.Continuation, "b".repeat(4001)),
  );
  assert.equal(violation(readAll(over, { max, step: 100 })), 1009);
});

Deno.test("frames: a huge declared length is refused from the header alone, before any payload", () => {
  const reader = new FrameReader({ role: "server", maxMessageBytes: 1 << 20 });
  // FIN+binary, masked, 64-bit length 2^40, mask key; no payload at all.
  reader.push(new Uint8Array([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
  assert.deepEqual(reader.next(), {
    type: "violation",
    code: 1009,
    reason: "message larger than 1048576 bytes",
  });
  // The same from a continuation of a message already near the limit.
  const near = new FrameReader({ role: "server", maxMessageBytes: 100 });
  near.push(frame("server", Opcode.Text, "x".repeat(90), { fin: false }));
  assert.equal(near.next(), null);
  assert.equal(near.bufferedBytes, 90);
  near.push(new Uint8Array([0x80, 0xfe, 0, 11, 1, 2, 3, 4]));
  assert.equal(near.next()?.type, "violation");
  assert.equal(near.bufferedBytes, 0);
});

Deno.test("frames: many tiny fragments are packed, so they cost about their bytes", () => {
  const reader = new FrameReader({ role: "server", maxMessageBytes: 1 << 20 });
  const one = frame("server", Opcode.Continuation, "x", { fin: false });
  reader.push(frame("server", Opcode.Text, "x", { fin: false }));
  assert.equal(reader.next(), null);
  for (let i = 1; i < 20_000; i++) {
    reader.push(one.slice());
    assert.equal(reader.next(), null);
  }
  assert.equal(reader.bufferedBytes, 20_000);
  reader.push(frame("server", Opcode.Continuation, ""));
  assert.deepEqual(reader.next(), { type: "text", data: "x".repeat(20_000) });
});

Deno.test("frames: protocol violations are 1002", () => {
  const cases: [string, Uint8Array, Role?][] = [
    ["RSV1", frame("server", Opcode.Text, "a", { rsv: 4 })],
    ["RSV2", frame("server", Opcode.Text, "a", { rsv: 2 })],
    ["RSV3", frame("server", Opcode.Ping, "", { rsv: 1 })],
    ["unmasked to a server", frame("client", Opcode.Text, "a"), "server"],
    ["masked to a client", frame("server", Opcode.Text, "a"), "client"],
    ["control frame over 125 bytes", frame("server", Opcode.Ping, "p".repeat(126))],
    ["fragmented control frame", frame("server", Opcode.Ping, "p", { fin: false })],
    ["continuation without a start", frame("server", Opcode.Continuation, "a")],
    [
      "a new message inside a fragmented one",
      concat(
        frame("server", Opcode.Text, "a", { fin: false }),
        frame("server", Opcode.Binary, "b"),
      ),
    ],
    ["unknown data opcode", frame("server", 3 as OpcodeValue, "a")],
    ["unknown control opcode", frame("server", 0xb as OpcodeValue, "a")],
    [
      "64-bit length with the top bit",
      new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]),
    ],
    ["close with 1 byte", frame("server", Opcode.Close, new Uint8Array([3]))],
  ];
  for (const [name, bytes, role] of cases) {
    assert.equal(violation(readAll(bytes, { role })), 1002, name);
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 2000, 2999, 5000]) {
    const payload = encodeClosePayload(1000);
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    assert.equal(violation(readAll(frame("server", Opcode.Close, payload))), 1002, `${code}`);
  }
});

Deno.test("frames: invalid UTF-8 in a text message or a close reason is 1007; a BOM is kept", () => {
  assert.equal(violation(readAll(frame("server", Opcode.Text, new Uint8Array([0xc3])))), 1007);
  const split = concat(
    frame("server", Opcode.Text, new Uint8Array([0x61, 0xed]), { fin: false }),
    frame("server", Opcode.Continuation, new Uint8Array([0xa0, 0x80])), // a UTF-16 surrogate
  );
  assert.equal(violation(readAll(split)), 1007);
  const close = concat(encodeClosePayload(1000), new Uint8Array([0xff]));
  assert.equal(violation(readAll(frame("server", Opcode.Close, close))), 1007);
  assert.deepEqual(readAll(frame("server", Opcode.Text, "\ufeffhi")), [
    { type: "text", data: "\ufeffhi" },
  ]);
});

Deno.test("frames: close frames parse; nothing is read after a close or a violation", () => {
  assert.deepEqual(readAll(frame("client", Opcode.Close, ""), { role: "client" }), [
    { type: "close", code: 1005, reason: "" },
  ]);
  const events = readAll(
    concat(
      frame("server", Opcode.Close, encodeClosePayload(4001, "bye")),
      frame("server", Opcode.Text, "late"),
    ),
  );
  assert.deepEqual(events, [{ type: "close", code: 4001, reason: "bye" }]);
  const afterViolation = readAll(
    concat(frame("server", Opcode.Text, "a", { rsv: 4 }), frame("server", Opcode.Text, "b")),
  );
  assert.equal(afterViolation.length, 1);
});

Deno.test("frames: close payloads keep their reason within 123 bytes of valid UTF-8", () => {
  const payload = encodeClosePayload(1001, "ü".repeat(200));
  assert.ok(payload.length <= 125);
  assert.equal((payload[0] << 8) | payload[1], 1001);
  new TextDecoder("utf-8", { fatal: true }).decode(payload.subarray(2));
  assert.equal(encodeClosePayload(1005, "ignored").length, 0);
});

Deno.test("frames: unmask matches a byte-wise XOR at any alignment and mask phase", () => {
  const backing = new Uint8Array(300).map((_, i) => (i * 31) & 0xff);
  for (const offset of [0, 1, 2, 3, 5]) {
    for (const length of [0, 3, 31, 32, 33, 100, 257]) {
      for (const phase of [0, 1, 2, 3]) {
        const bytes = backing.slice().subarray(offset, offset + length);
        const expected = bytes.map((b, i) => b ^ MASK[(phase + i) & 3]);
        unmask(bytes, MASK, phase);
        assert.deepEqual(bytes, expected, `${offset} ${length} ${phase}`);
      }
    }
  }
  const masked = encodeFrame(Opcode.Text, te.encode("round trip"), { mask: MASK });
  assert.equal(masked[1] & 0x80, 0x80);
  assert.deepEqual(masked.subarray(2, 6), MASK);
  const payload = masked.slice(6);
  unmask(payload, MASK);
  assert.equal(new TextDecoder().decode(payload), "round trip");
});

const enc = (text: string) => te.encode(text);
const upgradeHead = "GET /ws?x=1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUpgrade: WebSocket\r\n" +
  "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

Deno.test("handshake: request heads parse case-insensitively, bounded, with the bytes after them left alone", () => {
  const parsed = parseRequestHead(enc(upgradeHead + "\x81\x80"));
  assert.equal(parsed.state, "complete");
  if (parsed.state !== "complete") return;
  assert.equal(parsed.head.method, "GET");
  assert.equal(parsed.head.path, "/ws");
  assert.equal(parsed.head.query, "x=1");
  assert.equal(parsed.head.headers.get("UPGRADE"), "WebSocket");
  assert.equal(parsed.length, upgradeHead.length);
  assert.deepEqual(parseRequestHead(enc("GET / HTTP/1.1\r\nHost: a\r\n")), { state: "incomplete" });
  const long = enc(`GET / HTTP/1.1\r\nX: ${"a".repeat(200)}\r\n\r\n`);
  assert.equal((parseRequestHead(long, 100) as { status: number }).status, 431);
  assert.equal((parseRequestHead(long.subarray(0, 100), 100) as { status: number }).status, 431);
  for (
    const bad of [
      "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
      "GET / HTTP/2\r\n\r\n",
      "GET http://x/ HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nbad header\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\nb\r\n\r\n",
    ]
  ) {
    assert.equal((parseRequestHead(enc(bad)) as { status?: number }).status, 400, bad);
  }
  const body = parseRequestHead(enc("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"));
  assert.equal((body as { status?: number }).status, 413);
});

Deno.test("handshake: upgrade validation, the RFC accept key, and the client's view of the 101", async () => {
  const parsed = parseRequestHead(enc(upgradeHead));
  if (parsed.state !== "complete") throw new Error("unparsed");
  const key = validateUpgrade("GET", parsed.head.headers);
  assert.equal(key, "dGhlIHNhbXBsZSBub25jZQ==");
  assert.equal(await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const variant = (name: string, value: string | null) => {
    const headers = new Headers(parsed.head.headers);
    if (value === null) headers.delete(name);
    else headers.set(name, value);
    return validateUpgrade("GET", headers);
  };
  assert.equal((validateUpgrade("POST", parsed.head.headers) as { status: number }).status, 400);
  assert.equal((variant("upgrade", null) as { status: number }).status, 400);
  assert.equal((variant("connection", "keep-alive") as { status: number }).status, 400);
  assert.equal((variant("sec-websocket-key", "c2hvcnQ=") as { status: number }).status, 400);
  const version = variant("sec-websocket-version", "8") as { status: number; headers: object };
  assert.deepEqual([version.status, version.headers], [426, { "sec-websocket-version": "13" }]);

  const request = new TextDecoder().decode(upgradeRequest("h:1", "/ws?a", "k"));
  assert.match(request, /^GET \/ws\?a HTTP\/1\.1\r\nHost: h:1\r\n/);
  const answer = (extra: string) =>
    parseResponseHead(enc(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n${extra}\r\n`,
    ));
  const ok = answer("");
  if (ok.state !== "complete") throw new Error("unparsed");
  assert.equal(await validateUpgradeResponse(ok.head, "dGhlIHNhbXBsZSBub25jZQ=="), null);
  assert.equal(
    await validateUpgradeResponse(ok.head, "AAAAAAAAAAAAAAAAAAAAAA=="),
    "wrong Sec-WebSocket-Accept",
  );
  const deflate = answer("Sec-WebSocket-Extensions: permessage-deflate\r\n");
  if (deflate.state !== "complete") throw new Error("unparsed");
  assert.equal(
    await validateUpgradeResponse(deflate.head, "dGhlIHNhbXBsZSBub25jZQ=="),
    "unrequested extension",
  );
  const notFound = parseResponseHead(enc("HTTP/1.1 404 Not Found\r\n\r\n"));
  assert.equal(notFound.state === "complete" && notFound.head.status, 404);
});

Deno.test("handshake: plain responses are serialised with their headers, a length and Connection: close", async () => {
  const response = new Response("hello", { status: 201, headers: { "x-test": "1" } });
  const text = new TextDecoder().decode(await serializeResponse(response));
  assert.match(text, /^HTTP\/1\.1 201 Created\r\n/);
  assert.match(text, /\r\nx-test: 1\r\n/);
  assert.match(text, /\r\ncontent-length: 5\r\n/);
  assert.match(text, /\r\nconnection: close\r\n\r\nhello$/);
  const head = new TextDecoder().decode(
    await serializeResponse(new Response("hello"), { head: true }),
  );
  assert.match(head, /content-length: 5\r\nconnection: close\r\n\r\n$/);
});
