// §3 envelope validation on a logged-in user link, and §6.6 later unknown types.

import { buildSigned } from "../../protocol/builders.ts";
import type { FrameOf } from "../../protocol/types.ts";
import { type Check, expect, isError } from "../check.ts";
import type { SuiteUser, Target } from "../target.ts";

/**
 * Logs a user in, sends one bad frame (built from a signed LIST_REQUEST by
 * `spoil`) and expects an ERROR with one of `codes`; `kept` also requires
 * the link to stay open.
 */
function badFrame(
  id: string,
  section: string,
  title: string,
  codes: string[],
  spoil: (
    frame: FrameOf<"LIST_REQUEST">,
    user: SuiteUser,
    t: Target,
  ) => Promise<unknown> | unknown,
  kept = false,
): Check {
  return {
    id,
    section,
    level: "MUST",
    title,
    async run(t) {
      const u = await t.user("envelope");
      const frame = await buildSigned(u.identity, "LIST_REQUEST", u.serverId, {});
      const spoiled = await spoil(frame, u, t);
      const sent = typeof spoiled === "string" ? spoiled : JSON.stringify(spoiled);
      const after = u.conn.frames.length;
      u.conn.send(sent);
      const answer = await u.conn.next(
        (f) => f.type === "ERROR" || f.type === "LIST_RESPONSE",
        t.wait,
        after,
      );
      expect(!!answer && isError(codes)(answer), title, {
        sent,
        expected: `ERROR ${codes.join(" or ")}`,
        got: answer,
      });
      if (kept) {
        expect(!(await u.conn.closesWithin(500)), "the link after it", {
          expected: "kept open",
          got: u.conn.closedWith,
        });
      }
    },
  };
}

export const ENVELOPE_CHECKS: Check[] = [
  badFrame(
    "envelope.ts-not-integer",
    "3",
    "a non-integer ts gets BAD_REQUEST",
    ["BAD_REQUEST"],
    (f) => ({ ...f, ts: (f.ts as number) + 0.5 }),
  ),
  badFrame(
    "envelope.ts-window",
    "3",
    "a ts 10 minutes off the server's clock gets TIMEOUT",
    ["TIMEOUT"],
    (f, u) => buildSigned(u.identity, "LIST_REQUEST", f.to, {}, Date.now() - 600_000),
  ),
  badFrame(
    "envelope.from-not-bound",
    "6.2",
    "a frame whose from is not the link's user gets INVALID_SIG",
    ["INVALID_SIG"],
    (f, _u, t) => buildSigned(t.identity(), "LIST_REQUEST", f.to, {}),
  ),
  badFrame(
    "envelope.bad-signature",
    "5.1",
    "a frame whose signature does not verify gets INVALID_SIG",
    ["INVALID_SIG"],
    async (f, u, t) => {
      const other = await buildSigned(
        { id: u.identity.id, keys: t.key() },
        "LIST_REQUEST",
        f.to,
        {},
      );
      return { ...f, sig: other.sig };
    },
  ),
  badFrame(
    "envelope.payload-not-object",
    "3",
    "a payload that is not an object gets BAD_REQUEST",
    ["BAD_REQUEST"],
    (f) => ({ ...f, payload: [] }),
  ),
  badFrame(
    "envelope.unknown-type",
    "6.6",
    "a later frame of an unknown type gets UNKNOWN_TYPE and the link is kept",
    ["UNKNOWN_TYPE"],
    (f) => ({ ...f, type: "NO_SUCH_TYPE" }),
    true,
  ),
];
