// File relay rules in the handlers, in-process: per-user transfer bound,
// offline recipients, mode/target agreement, idle expiry.

import assert from "node:assert/strict";
import {
  buildSigned,
  encryptFor,
  FILE_ACK_CAP,
  type Identity,
  msgRef,
  sha256Hex,
  verifyFrame,
} from "../../mod.ts";
import { receive } from "../../server/dispatch.ts";
import type { Effect } from "../../server/effects.ts";
import { expireTransfers } from "../../server/handlers/files.ts";
import { LOCAL } from "../../server/state.ts";
import { KEYS } from "../_vectors.ts";
import { inProcess } from "./_inproc.ts";

function world() {
  const env = inProcess(["--max-file-bytes", "100000"]);
  const sender: Identity = { id: crypto.randomUUID(), keys: KEYS.A };
  const link = env.link("user", sender.id);
  const { state } = env.ctx;
  for (const [id, l] of [[sender.id, link]] as const) {
    state.addLocalUser(id, l);
    state.userLocations.set(id, LOCAL);
    state.directory.set(id, {
      userId: id,
      serverId: state.self.id,
      pubkey: KEYS.A.publicKey,
      encKey: KEYS.A.publicKey,
      meta: {},
      advert: "{}",
    });
  }
  return { env, sender, link };
}

const codes = (effects: Effect[]) => effects.flatMap((e) => (e.kind === "error" ? [e.code] : []));

async function start(sender: Identity, to: string, size = 10, mode: "dm" | "public" = "dm") {
  return await buildSigned(sender, "FILE_START", to, {
    file_id: crypto.randomUUID(),
    name: "f",
    size,
    sha256: await sha256Hex("x"),
    mode,
  });
}

Deno.test("at most 4 concurrent transfers per sending user", async () => {
  const { env, sender, link } = world();
  const outcomes = [];
  for (let i = 0; i < 5; i++) {
    link.lastErrorAt = -Infinity;
    outcomes.push(
      codes(
        await receive(
          env.ctx,
          env.tables,
          link,
          JSON.stringify(await start(sender, "public", 10, "public")),
        ),
      ),
    );
  }
  assert.deepEqual(outcomes, [[], [], [], [], ["RATE_LIMITED"]]);
  env.close();
});

Deno.test("a file to a user registered here but offline gets USER_NOT_FOUND saying offline, once", async () => {
  const { env, sender, link } = world();
  const offline = crypto.randomUUID();
  env.ctx.store.putUser({
    user_id: offline,
    pubkey: "k",
    privkey_store: "",
    pake_password: "",
    meta: null,
    version: 1,
  });
  const first = await start(sender, offline);
  const effects = await receive(env.ctx, env.tables, link, JSON.stringify(first));
  assert.deepEqual(effects.map((e) => e.kind === "error" && [e.code, e.detail]), [[
    "USER_NOT_FOUND",
    "recipient is registered here but offline",
  ]]);
  const chunk = await buildSigned(sender, "FILE_CHUNK", offline, {
    file_id: first.payload.file_id,
    index: 0,
    ciphertext: await encryptFor(KEYS.B.publicKey, "x"),
  });
  assert.deepEqual(
    await receive(env.ctx, env.tables, link, JSON.stringify(chunk)),
    [],
    "nothing more for that transfer",
  );
  env.close();
});

Deno.test("mode and target must agree, and a chunk's size must fit its mode", async () => {
  const { env, sender, link } = world();
  assert.deepEqual(
    codes(
      await receive(
        env.ctx,
        env.tables,
        link,
        JSON.stringify(await start(sender, "public", 10, "dm")),
      ),
    ),
    ["BAD_REQUEST"],
  );
  link.lastErrorAt = -Infinity;
  const pub = await start(sender, "public", 50_000, "public");
  await receive(env.ctx, env.tables, link, JSON.stringify(pub));
  const rsaSized = await buildSigned(sender, "FILE_CHUNK", "public", {
    file_id: pub.payload.file_id,
    index: 0,
    ciphertext: "A".repeat(10),
  });
  assert.deepEqual(codes(await receive(env.ctx, env.tables, link, JSON.stringify(rsaSized))), [
    "BAD_REQUEST",
  ]);
  env.close();
});

Deno.test("transfers idle for longer than the limit are dropped", async () => {
  const { env, sender, link } = world();
  await receive(
    env.ctx,
    env.tables,
    link,
    JSON.stringify(await start(sender, "public", 10, "public")),
  );
  assert.equal(env.ctx.state.transfers.size, 1);
  assert.equal(expireTransfers(env.ctx), 0);
  const realNow = env.ctx.now;
  Object.assign(env.ctx, { now: () => realNow() + 61_000 });
  assert.equal(expireTransfers(env.ctx), 1);
  assert.equal(env.ctx.state.transfers.size, 0);
  env.close();
});

Deno.test("file-ack: a whole relayed file is confirmed by a signed ACK of its FILE_END; a refused one is not", async () => {
  const { env, sender, link } = world();
  const acks = (effects: Effect[]) =>
    effects.flatMap((e) =>
      e.kind === "send" && typeof e.frame !== "string" && e.frame.type === "ACK" ? [e.frame] : []
    );
  const transfer = async (chunkText: string) => {
    const first = await start(sender, "public", 10, "public");
    const fileId = first.payload.file_id;
    const chunk = await buildSigned(sender, "FILE_CHUNK", "public", {
      file_id: fileId,
      index: 0,
      ciphertext: chunkText,
    });
    const end = await buildSigned(sender, "FILE_END", "public", { file_id: fileId });
    link.lastErrorAt = -Infinity;
    for (const frame of [first, chunk]) {
      await receive(env.ctx, env.tables, link, JSON.stringify(frame));
    }
    return { end, effects: await receive(env.ctx, env.tables, link, JSON.stringify(end)) };
  };
  const aesSized = "A".repeat(60); // an AES-GCM blob of a 10-byte chunk, as base64url
  const plain = await transfer(aesSized);
  assert.deepEqual(acks(plain.effects), [], "no ACK without the capability");

  link.caps = new Set([FILE_ACK_CAP]);
  const confirmed = await transfer(aesSized);
  const [ack] = acks(confirmed.effects);
  assert.ok(ack, "one ACK");
  assert.equal(ack.payload.msg_ref, await msgRef(confirmed.end.payload));
  assert.equal(ack.to, sender.id);
  assert.ok(await verifyFrame(env.ctx.state.self.keys.publicKey, ack), "signed by the server");

  const refused = await transfer("A".repeat(10)); // the wrong size for a public chunk
  assert.deepEqual(acks(refused.effects), [], "a refused transfer is never confirmed");
  env.close();
});

Deno.test("MSG_QUEUED from a pinned peer is passed on only when that peer is the recipient's home", async () => {
  const { env, sender, link: userLink } = world();
  const home: Identity = { id: crypto.randomUUID(), keys: KEYS.A };
  const rogue: Identity = { id: crypto.randomUUID(), keys: KEYS.B };
  for (const peer of [home, rogue]) env.ctx.state.pins.set(peer.id, peer.keys.publicKey);
  const recipient = crypto.randomUUID();
  env.ctx.store.putBinding({
    user_id: recipient,
    pubkey: KEYS.B.publicKey.b64,
    home: home.id,
    key_version: 1,
    registered_at: 1,
    first_seen: 1,
    confirmed: 1,
    proof_ts: 0,
  });
  const notice = { user_id: recipient, msg_ref: "ab".repeat(32), queued_at: Date.now() };
  const told = async (from: Identity) => {
    const frame = await buildSigned(from, "MSG_QUEUED", sender.id, notice);
    const effects = await receive(
      env.ctx,
      env.tables,
      env.link("server", from.id),
      JSON.stringify(frame),
    );
    return effects.filter((e) => e.kind === "send" && e.link === userLink).length;
  };
  assert.equal(await told(rogue), 0, "a peer that is not the home is ignored");
  assert.equal(await told(home), 1, "the home's notice reaches the sender, signed by us");
  env.close();
});
