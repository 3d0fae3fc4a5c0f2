// §6.2 and §10.2: hello acceptance and refusal.

import { buildSigned } from "../../protocol/builders.ts";
import { encodeBase64url } from "../../protocol/base64url.ts";
import { verifyFrame } from "../../protocol/transport_sig.ts";
import { parsePublicKey } from "../../protocol/keys.ts";
import type { Frame, FrameOf } from "../../protocol/types.ts";
import { type Check, expect, isError, Skip } from "../check.ts";
import type { Target } from "../target.ts";

/** Sends `hello` on a fresh connection; the ERROR it gets (if any) and whether it was closed. */
async function refusal(t: Target, hello: Frame) {
  const conn = await t.raw();
  conn.send(hello);
  const answer = await conn.next(() => true, t.wait);
  const closed = answer?.type === "ERROR" ? await conn.closesWithin(t.wait) : false;
  return { answer, closed };
}

function expectRefused(
  what: string,
  sent: Frame,
  got: { answer?: Frame; closed: boolean },
  codes: string[],
): void {
  expect(!!got.answer && isError(codes)(got.answer), what, {
    sent,
    expected: `ERROR ${codes.join(" or ")}`,
    got: got.answer,
  });
  expect(got.closed, `${what}: the connection`, { expected: "closed", got: "still open" });
}

/** A hello for `identity` with its payload changed by `edit`, signed again by `signer`. */
async function edited(
  t: Target,
  edit: (p: FrameOf<"USER_HELLO">["payload"]) => void,
  signer = t.identity(),
) {
  const me = t.identity();
  const hello = await t.hello(me, "conformance");
  edit(hello.payload);
  return await buildSigned(
    { id: me.id, keys: signer.keys },
    "USER_HELLO",
    hello.to,
    hello.payload,
    hello.ts,
  );
}

export const HELLO_CHECKS: Check[] = [
  {
    id: "hello.accept",
    section: "6.2",
    level: "MUST",
    title: "a signed-fresh hello is accepted with an ACK naming it, signed by server_pub",
    needs: "socp-dialect",
    async run(t) {
      const u = await t.user("accept");
      const ack = u.conn.frames[0];
      expect(ack.type === "ACK", "the welcome", { sent: u.hello, expected: "ACK", got: ack });
      const ref = await t.helloRef(u.hello);
      expect((ack.payload as { msg_ref?: string }).msg_ref === ref, "ACK msg_ref", {
        expected: `msg_ref ${ref}`,
        got: ack,
      });
      const pub = parsePublicKey((ack.payload as { server_pub?: string }).server_pub);
      expect(pub.ok, "ACK server_pub", { expected: "a valid RSA-4096 server_pub", got: ack });
      if (!pub.ok) return;
      const signed = ack.sig ? await verifyFrame(pub.key, ack) : undefined;
      // An unsigned ACK is allowed only with the advert-ack extension, which the suite does not ask.
      expect(signed === true, "ACK signature", {
        expected: "signed under server_pub",
        got: ack.sig ? "a signature that does not verify" : "no signature",
      });
    },
  },
  {
    id: "hello.bad-user-id",
    section: "6.2",
    level: "MUST",
    title: "a hello from a user id that is no UUIDv4 gets BAD_REQUEST and a close",
    async run(t) {
      const me = { id: "not-a-uuid", keys: t.key() };
      const hello = await t.hello(me, "bad id");
      expectRefused("non-UUID user id", hello, await refusal(t, hello), ["BAD_REQUEST"]);
    },
  },
  {
    id: "hello.weak-key",
    section: "4.1",
    level: "MUST",
    title: "a hello with an RSA-2048 key gets BAD_KEY and a close",
    async run(t) {
      const weak = await crypto.subtle.generateKey(
        {
          name: "RSA-PSS",
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: "SHA-256",
        },
        true,
        ["sign", "verify"],
      );
      const spki = encodeBase64url(
        new Uint8Array(await crypto.subtle.exportKey("spki", weak.publicKey)),
      );
      const hello = await edited(t, (p) => {
        p.pubkey = spki;
        p.enc_pubkey = spki;
      });
      expectRefused("RSA-2048 key", hello, await refusal(t, hello), ["BAD_KEY"]);
    },
  },
  {
    id: "hello.wrong-signature",
    section: "10.2",
    level: "MUST",
    title: "a hello signed by another key than its pubkey is refused and closed",
    async run(t) {
      const hello = await edited(t, () => {}, t.identity());
      const got = await refusal(t, hello);
      expectRefused("hello signed by another key", hello, got, ["INVALID_SIG", "AUTH_FAILED"]);
    },
  },
  {
    id: "hello.stale",
    section: "10.2",
    level: "MUST",
    title: "a hello whose auth_ts is 10 minutes old is refused and closed",
    async run(t) {
      const me = t.identity();
      const old = Date.now() - 600_000;
      const hello = await t.hello(me, "stale");
      hello.payload.auth_ts = old;
      const resigned = await buildSigned(me, "USER_HELLO", hello.to, hello.payload, old);
      const got = await refusal(t, resigned);
      expectRefused("stale hello", resigned, got, ["AUTH_FAILED", "TIMEOUT", "INVALID_SIG"]);
    },
  },
  {
    id: "hello.replay",
    section: "10.2",
    level: "MUST",
    title: "the same signed hello sent again (same nonce) is refused",
    async run(t) {
      const first = await t.user("replay");
      await first.conn.close();
      const got = await refusal(t, first.hello);
      expectRefused("replayed hello", first.hello, got, ["AUTH_FAILED", "INVALID_SIG"]);
    },
  },
  {
    id: "hello.impersonation",
    section: "10.2",
    level: "MUST",
    title: "a hello for a registered user id with another key gets BAD_KEY",
    async run(t) {
      const owner = await t.user("owner");
      await owner.conn.close();
      const thief = { id: owner.identity.id, keys: t.key() };
      if (thief.keys === owner.identity.keys) throw new Skip("the key pool has a single key");
      const hello = await t.hello(thief, "thief");
      expectRefused("someone else's id", hello, await refusal(t, hello), ["BAD_KEY"]);
    },
  },
  {
    id: "hello.name-in-use",
    section: "6.2",
    level: "MUST",
    title: "a second session of a connected user gets NAME_IN_USE",
    async run(t) {
      const u = await t.user("twice");
      const again = await t.hello(u.identity, "twice");
      expectRefused("second session", again, await refusal(t, again), ["NAME_IN_USE"]);
      expect(u.conn.open, "the first session", { expected: "still open", got: "closed" });
    },
  },
];
