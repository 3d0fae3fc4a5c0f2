// §2 and §11 limits: frame size, rate.

import { buildSigned } from "../../protocol/builders.ts";
import { type Check, expect, isError } from "../check.ts";

export const LIMIT_CHECKS: Check[] = [
  {
    id: "limits.frame-size",
    section: "2",
    level: "MUST",
    title: "a message over 8 MiB gets TOO_LARGE and the connection is closed",
    async run(t) {
      const u = await t.user("big");
      const frame = await buildSigned(u.identity, "LIST_REQUEST", u.serverId, {});
      const padded = JSON.stringify({ ...frame, pad: "x".repeat(8 * 1024 * 1024 + 16) });
      u.conn.send(padded);
      const closed = await u.conn.closesWithin(t.wait * 2);
      const error = u.conn.frames.find(isError("TOO_LARGE"));
      expect(closed, "after an 8 MiB + 16 B message", {
        sent: "a LIST_REQUEST padded to 8 MiB + 16 B",
        expected: "TOO_LARGE, then close",
        got: "still open",
      });
      return error
        ? "TOO_LARGE, then closed"
        : `closed (${u.conn.closedWith?.code}) without TOO_LARGE`;
    },
  },
  {
    id: "limits.rate",
    section: "11",
    level: "SHOULD",
    title: "a user flooding 3000 frames at once gets RATE_LIMITED",
    async run(t) {
      const u = await t.user("flood");
      const frame = await buildSigned(u.identity, "HEARTBEAT", u.serverId, {});
      for (let i = 0; i < 3000 && u.conn.open; i++) u.conn.send({ ...frame, ts: frame.ts + i });
      const limited = await u.conn.next(isError("RATE_LIMITED"), t.wait);
      expect(!!limited || !!u.conn.closedWith, "3000 frames in a burst", {
        sent: "3000 HEARTBEAT frames at once (burst limit 1000)",
        expected: "ERROR RATE_LIMITED (or a close)",
        got: u.conn.frames.at(-1),
      });
    },
  },
];
