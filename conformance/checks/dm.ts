// §6.2 direct messages: delivery on one server and across two, untouched;
// USER_NOT_FOUND; a wrong sender_pub; §9.3 duplicates.

import { buildMsgDirect, buildSigned } from "../../protocol/builders.ts";
import type { Frame, FrameOf } from "../../protocol/types.ts";
import { type Check, expect, isError } from "../check.ts";
import type { SuiteUser, Target } from "../target.ts";

const isDeliverOf = (dm: FrameOf<"MSG_DIRECT">) => (f: Frame) =>
  f.type === "USER_DELIVER" &&
  (f.payload as { content_sig?: string }).content_sig === dm.payload.content_sig;

/** Alice DMs bob; bob's USER_DELIVER must keep to, ts, ciphertext, content_sig and name alice. */
async function deliveredIntact(t: Target, alice: SuiteUser, bob: SuiteUser): Promise<void> {
  const dm = await buildMsgDirect(
    alice.identity,
    bob.identity.id,
    bob.identity.keys.publicKey,
    "conformance DM",
  );
  alice.conn.send(dm);
  const got = await t.expectFrame(bob, isDeliverOf(dm), "USER_DELIVER of the DM", dm);
  const p = got.payload as Record<string, unknown>;
  const evidence = { sent: dm, got };
  expect(got.to === bob.identity.id, "USER_DELIVER to", {
    ...evidence,
    expected: `to ${bob.identity.id}`,
  });
  expect(got.ts === dm.ts, "USER_DELIVER ts", {
    ...evidence,
    expected: `the MSG_DIRECT's ts ${dm.ts}`,
  });
  expect(p.ciphertext === dm.payload.ciphertext, "ciphertext", {
    ...evidence,
    expected: "the ciphertext unchanged",
  });
  expect(p.sender === alice.identity.id, "sender", {
    ...evidence,
    expected: `sender ${alice.identity.id}`,
  });
  expect(got.from === bob.serverId, "from", {
    ...evidence,
    expected: `from bob's server ${bob.serverId}`,
  });
  expect(await t.signedByServer(bob.server, got), "USER_DELIVER signature", {
    ...evidence,
    expected: "signed by the delivering server (its welcome's server_pub)",
  });
}

export const DM_CHECKS: Check[] = [
  {
    id: "dm.same-server",
    section: "6.2",
    level: "MUST",
    title: "a DM on one server arrives as USER_DELIVER with to, ts and ciphertext untouched",
    async run(t) {
      const [alice, bob] = [await t.user("alice"), await t.user("bob")];
      await deliveredIntact(t, alice, bob);
    },
  },
  {
    id: "dm.cross-server",
    section: "6.2",
    level: "MUST",
    title: "a DM across two servers arrives untouched, signed by the recipient's server",
    needs: "two-servers",
    async run(t) {
      const [alice, bob] = [await t.user("alice", 0), await t.user("bob", 1)];
      // Presence travels between servers first.
      await new Promise((r) => setTimeout(r, 500));
      await deliveredIntact(t, alice, bob);
    },
  },
  {
    id: "dm.unknown-user",
    section: "6.2",
    level: "MUST",
    title: "a DM to a user nobody knows gets USER_NOT_FOUND",
    async run(t) {
      const alice = await t.user("alice");
      const nobody = t.identity();
      const dm = await buildMsgDirect(alice.identity, nobody.id, nobody.keys.publicKey, "anyone?");
      alice.conn.send(dm);
      const error = await alice.conn.next(isError(), t.wait);
      expect(!!error && isError("USER_NOT_FOUND")(error), "DM to nobody", {
        sent: dm,
        expected: "ERROR USER_NOT_FOUND",
        got: error,
      });
    },
  },
  {
    id: "dm.sender-pub",
    section: "6.2",
    level: "MUST",
    title: "a DM whose sender_pub is not the sender's registered key gets BAD_KEY",
    async run(t) {
      const [alice, bob] = [await t.user("alice"), await t.user("bob")];
      const dm = await buildMsgDirect(
        alice.identity,
        bob.identity.id,
        bob.identity.keys.publicKey,
        "x",
      );
      const other = t.key();
      const forged = await buildMsgDirect(
        { id: alice.identity.id, keys: other },
        bob.identity.id,
        bob.identity.keys.publicKey,
        "x",
      );
      // alice's transport signature, someone else's key in sender_pub.
      const frame = await buildSigned(alice.identity, "MSG_DIRECT", bob.identity.id, {
        ...dm.payload,
        sender_pub: forged.payload.sender_pub,
      });
      alice.conn.send(frame);
      const error = await alice.conn.next(isError(), t.wait);
      expect(!!error && isError("BAD_KEY")(error), "wrong sender_pub", {
        sent: frame,
        expected: "ERROR BAD_KEY",
        got: error,
      });
      expect(!(await bob.conn.next((f) => f.type === "USER_DELIVER", 500)), "bob", {
        expected: "no delivery",
        got: "a USER_DELIVER",
      });
    },
  },
  {
    id: "dedup.cross-server",
    section: "9.3",
    level: "MUST",
    title: "a DM across the mesh is delivered exactly once (no loops, no copies)",
    needs: "two-servers",
    async run(t) {
      const [alice, bob] = [await t.user("alice", 0), await t.user("bob", 1)];
      await new Promise((r) => setTimeout(r, 500));
      const dm = await buildMsgDirect(
        alice.identity,
        bob.identity.id,
        bob.identity.keys.publicKey,
        "once",
      );
      alice.conn.send(dm);
      await t.expectFrame(bob, isDeliverOf(dm), "the DM", dm);
      await new Promise((r) => setTimeout(r, 1000));
      const copies = bob.conn.frames.filter(isDeliverOf(dm)).length;
      expect(copies === 1, "deliveries of one DM", {
        sent: dm,
        expected: "1",
        got: String(copies),
      });
    },
  },
];
