// §6.1, §9.3–§9.5: the suite links to the target as a server peer
// (`--link-as-server`; the target must accept unknown servers, pinning them
// on first use) and checks what a peer sees: signed gossip, heartbeats,
// duplicate suppression, refused forgeries, nothing echoed back.

import { buildMsgDirect, buildSigned, type Identity } from "../../protocol/builders.ts";
import { verifyFrame } from "../../protocol/transport_sig.ts";
import type { Frame } from "../../protocol/types.ts";
import { type Check, CheckFailure, expect, Skip } from "../check.ts";
import type { Conn } from "../_conn.ts";
import type { SuiteUser, Target } from "../target.ts";

/** A server link from the suite to server `index`, bound by a signed SERVER_HELLO_LINK. */
async function link(t: Target, index = 0): Promise<{ conn: Conn; self: Identity }> {
  if (!t.options.linkAsServer) {
    throw new Skip("needs --link-as-server (and a target that accepts unknown servers)");
  }
  const self: Identity = { id: crypto.randomUUID(), keys: t.key() };
  const conn = await t.raw(index);
  const hello = await buildSigned(self, "SERVER_HELLO_LINK", "*", {
    host: "127.0.0.1",
    port: 9, // nothing listens: the target has this inbound link, and needs no other
    pubkey: self.keys.publicKey.b64,
    caps: ["heartbeat"],
  });
  conn.send(hello);
  const refused = await conn.next((f) => f.type === "ERROR", 1500);
  if (refused || !conn.open) {
    throw new CheckFailure("the target refused the suite as a server peer", {
      sent: hello,
      expected: "the link kept (a new server pinned on first use)",
      got: refused ?? conn.closedWith,
    });
  }
  return { conn, self };
}

/** A frame from the target on the link matching `match`, or a failure saying what was expected. */
async function fromLink(
  t: Target,
  conn: Conn,
  match: (f: Frame) => boolean,
  expected: string,
  after = 0,
) {
  const f = await conn.next(match, t.wait, after);
  if (!f) {
    const seen = [...new Set(conn.frames.slice(after).map((x) => x.type))].join(", ");
    throw new CheckFailure(`the link did not carry ${expected}`, {
      expected,
      got: seen ? `only ${seen}` : conn.closedWith ?? "nothing",
    });
  }
  return f;
}

/** A SERVER_DELIVER from the suite's server for `to`, as if `from` had sent a DM. */
async function deliverFrom(self: Identity, from: SuiteUser, to: SuiteUser, text: string) {
  const dm = await buildMsgDirect(from.identity, to.identity.id, to.identity.keys.publicKey, text);
  return await buildSigned(self, "SERVER_DELIVER", to.serverId, {
    user_id: to.identity.id,
    ciphertext: dm.payload.ciphertext,
    sender: from.identity.id,
    sender_pub: dm.payload.sender_pub,
    content_sig: dm.payload.content_sig,
  });
}

const deliveries = (u: SuiteUser, after: number) =>
  u.conn.frames.slice(after).filter((f) => f.type === "USER_DELIVER");

export const LINK_CHECKS: Check[] = [
  {
    id: "links.gossip-signed",
    section: "6.1",
    level: "MUST",
    title: "a linked peer gets the adverts of users who log in, signed by the target's key",
    async run(t) {
      const { conn } = await link(t);
      const after = conn.frames.length;
      const u = await t.user("gossiped");
      const advert = await fromLink(
        t,
        conn,
        (f) =>
          f.type === "USER_ADVERTISE" &&
          (f.payload as { user_id?: string }).user_id === u.identity.id,
        "the new user's USER_ADVERTISE",
        after,
      );
      expect(!!u.serverKey && await verifyFrame(u.serverKey, advert), "advert signature", {
        expected: "signed by the target (its welcome's server_pub)",
        got: advert,
      });
    },
  },
  {
    id: "links.heartbeat",
    section: "9.5",
    level: "SHOULD",
    title: "a linked peer gets HEARTBEAT frames (every 15 s), signed",
    async run(t) {
      const { conn } = await link(t);
      const u = await t.user("heartbeat key");
      const beat = await conn.next((f) => f.type === "HEARTBEAT", 20_000);
      expect(!!beat, "heartbeats", { expected: "a HEARTBEAT within 20 s", got: "none" });
      expect(!!u.serverKey && await verifyFrame(u.serverKey, beat!), "heartbeat signature", {
        expected: "signed by the target",
        got: beat,
      });
    },
  },
  {
    id: "links.duplicates",
    section: "9.3",
    level: "MUST",
    title: "the same frame arriving twice on a server link is acted on once",
    async run(t) {
      const { conn, self } = await link(t);
      const [alice, bob] = [await t.user("alice"), await t.user("bob")];
      const frame = await deliverFrom(self, alice, bob, "sent twice");
      const after = bob.conn.frames.length;
      conn.send(frame);
      conn.send(frame);
      await t.expectFrame(bob, (f) => f.type === "USER_DELIVER", "the delivery", frame, after);
      await new Promise((r) => setTimeout(r, 1000));
      const n = deliveries(bob, after).length;
      expect(n === 1, "deliveries", { sent: frame, expected: "1", got: String(n) });
    },
  },
  {
    id: "links.bad-signature",
    section: "5.1",
    level: "MUST",
    title: "a server frame whose signature does not verify is not acted on",
    async run(t) {
      const { conn, self } = await link(t);
      const [alice, bob] = [await t.user("alice"), await t.user("bob")];
      const good = await deliverFrom(self, alice, bob, "forged");
      const other = await buildSigned(
        { id: self.id, keys: t.key() },
        "SERVER_DELIVER",
        good.to,
        good.payload,
      );
      const forged = { ...good, sig: other.sig };
      const after = bob.conn.frames.length;
      conn.send(forged);
      await new Promise((r) => setTimeout(r, 1500));
      expect(deliveries(bob, after).length === 0, "a forged SERVER_DELIVER", {
        sent: forged,
        expected: "no USER_DELIVER",
        got: deliveries(bob, after)[0],
      });
    },
  },
  {
    id: "links.no-echo",
    section: "9.3",
    level: "MUST",
    title: "an advert from a peer reaches the target's users and is never sent back to that peer",
    async run(t) {
      const { conn, self } = await link(t);
      const watcher = await t.user("watcher");
      const remote = t.identity();
      const advert = await buildSigned(self, "USER_ADVERTISE", "*", {
        user_id: remote.id,
        server_id: self.id,
        pubkey: remote.keys.publicKey.b64,
        meta: { display_name: "remote" },
      });
      const after = conn.frames.length;
      conn.send(advert);
      await t.expectFrame(
        watcher,
        (f) =>
          f.type === "USER_ADVERTISE" && (f.payload as { user_id?: string }).user_id === remote.id,
        "the peer's advert",
        advert,
      );
      await new Promise((r) => setTimeout(r, 500));
      const echoed = conn.frames.slice(after).find((f) =>
        f.type === "USER_ADVERTISE" && (f.payload as { user_id?: string }).user_id === remote.id
      );
      expect(!echoed, "the advert on its arrival link", {
        sent: advert,
        expected: "not sent back",
        got: echoed,
      });
    },
  },
];
