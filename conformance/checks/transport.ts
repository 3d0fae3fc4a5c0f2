// §2 transport and §6.6 first frames: endpoints, framing, first-frame rules.

import { buildSigned } from "../../protocol/builders.ts";
import { type Check, expect, isError } from "../check.ts";
import type { Target } from "../target.ts";

/** The first frame's answer on a fresh connection: the frame (or how it closed). */
async function answerTo(t: Target, data: string | Uint8Array) {
  const conn = await t.raw();
  conn.send(data);
  const error = await conn.next(isError(), t.wait);
  return { conn, error };
}

export const TRANSPORT_CHECKS: Check[] = [
  {
    id: "transport.endpoint-ws",
    section: "2",
    level: "MUST",
    title: "the WebSocket upgrade is accepted at /ws",
    async run(t) {
      await t.raw(0, "/ws");
    },
  },
  {
    id: "transport.endpoint-root",
    section: "2",
    level: "MUST",
    title: "the WebSocket upgrade is accepted at /",
    async run(t) {
      await t.raw(0, "/");
    },
  },
  {
    id: "transport.binary-refused",
    section: "2",
    level: "MUST",
    title: "a binary message gets BAD_REQUEST",
    async run(t) {
      const { error } = await answerTo(t, new Uint8Array([123, 125]));
      expect(!!error && isError("BAD_REQUEST")(error), "binary message", {
        sent: "a binary message {}",
        expected: "ERROR BAD_REQUEST",
        got: error,
      });
    },
  },
  {
    id: "transport.not-an-object",
    section: "2",
    level: "MUST",
    title: "a text message that is not a JSON object gets BAD_REQUEST",
    async run(t) {
      const { error } = await answerTo(t, "[1,2,3]");
      expect(!!error && isError("BAD_REQUEST")(error), "JSON array", {
        sent: "[1,2,3]",
        expected: "ERROR BAD_REQUEST",
        got: error,
      });
    },
  },
  {
    id: "first-frame.unknown-type",
    section: "6.6",
    level: "MUST",
    title: "a first frame that is no hello gets UNKNOWN_TYPE and the connection is closed",
    async run(t) {
      const me = t.identity();
      const frame = await buildSigned(me, "LIST_REQUEST", "*", {});
      const { conn, error } = await answerTo(t, JSON.stringify(frame));
      expect(!!error && isError("UNKNOWN_TYPE")(error), "LIST_REQUEST first", {
        sent: frame,
        expected: "ERROR UNKNOWN_TYPE",
        got: error,
      });
      expect(await conn.closesWithin(t.wait), "connection after a bad first frame", {
        expected: "closed",
        got: "still open",
      });
    },
  },
  {
    id: "first-frame.timeout",
    section: "6.6",
    level: "SHOULD",
    title: "a connection silent for 10 s gets TIMEOUT and is closed",
    async run(t) {
      const conn = await t.raw();
      const closed = await conn.closesWithin(15_000);
      expect(closed, "silent connection", {
        expected: "closed within 10 s (15 s allowed)",
        got: "still open after 15 s",
      });
      const error = conn.frames.find(isError("TIMEOUT"));
      return error ? "TIMEOUT, then closed" : "closed (without a TIMEOUT frame)";
    },
  },
];
