// Public-channel convergence in the handlers (SOCP.md §7.3), in-process.

import assert from "node:assert/strict";
import {
  buildKeyShare,
  buildSigned,
  decryptWith,
  encryptFor,
  generateAesKey,
  type Identity,
  openChannelKey,
  parseFrame,
} from "../../mod.ts";
import { stateWins } from "../../server/channel.ts";
import { receive } from "../../server/dispatch.ts";
import type { Effect } from "../../server/effects.ts";
import { LOCAL } from "../../server/state.ts";
import { KEYS } from "../_vectors.ts";
import { inProcess } from "./_inproc.ts";

Deno.test("stateWins: higher version, or same version from a lower creator id", () => {
  const current = { version: 5, creator: "m" };
  assert.ok(stateWins(6, "z", current));
  assert.ok(stateWins(5, "a", current));
  assert.ok(!stateWins(5, "m", current));
  assert.ok(!stateWins(5, "z", current));
  assert.ok(!stateWins(4, "a", current));
  assert.ok(stateWins(1, "z", { version: 0, creator: null }));
});

function world() {
  const env = inProcess();
  const lowId = "00000000-0000-4000-8000-000000000001";
  const highId = "ffffffff-ffff-4fff-bfff-ffffffffffff";
  const low: Identity = { id: lowId, keys: KEYS.A };
  const high: Identity = { id: highId, keys: KEYS.A };
  for (const s of [low, high]) env.ctx.state.pins.set(s.id, KEYS.A.publicKey);
  const fromLow = env.link("server", lowId);
  const fromHigh = env.link("server", highId);
  const local = env.link("user", crypto.randomUUID());
  env.ctx.state.addLocalUser(local.peerId!, local);
  env.ctx.state.userLocations.set(local.peerId!, LOCAL);
  return { env, low, high, fromLow, fromHigh, local };
}

async function updated(by: Identity, version: number, members: string[]) {
  const key = generateAesKey();
  const wraps = await Promise.all(
    members.map(async (m) => ({
      member_id: m,
      wrapped_key: await encryptFor(KEYS.A.publicKey, key),
    })),
  );
  return await buildSigned(by, "PUBLIC_CHANNEL_UPDATED", "*", { version, wraps }, 0); // ts 0 is allowed here
}

const rotations = (effects: Effect[]) =>
  effects.filter((e) => e.kind === "rotate").map((e) => e.kind === "rotate" && e.reason);

Deno.test("UPDATED: the winner is adopted and stored; every copy is forwarded and relayed", async () => {
  const { env, low, high, fromLow, fromHigh, local } = world();
  const members = [local.peerId!];
  const v3 = await updated(high, 3, members);
  let effects = await receive(env.ctx, env.tables, fromHigh, JSON.stringify(v3));
  assert.equal(env.ctx.state.channel.version, 3);
  assert.equal(env.ctx.state.channel.creator, high.id);
  const sentTo = (e: Effect[]) => e.flatMap((x) => (x.kind === "send" ? [x.link] : []));
  assert.deepEqual(
    sentTo(effects),
    [fromLow, local],
    "forwarded to the other server and relayed to the local user",
  );

  // Same version from a lower creator wins; from a higher one it does not.
  effects = await receive(
    env.ctx,
    env.tables,
    fromLow,
    JSON.stringify(await updated(low, 3, members)),
  );
  assert.equal(env.ctx.state.channel.creator, low.id);
  effects = await receive(
    env.ctx,
    env.tables,
    fromHigh,
    JSON.stringify(await updated(high, 3, members)),
  );
  assert.equal(env.ctx.state.channel.creator, low.id, "a higher creator id does not replace it");
  assert.equal(sentTo(effects).length, 2, "a losing state is still forwarded and relayed");
  // An older version changes nothing.
  await receive(env.ctx, env.tables, fromHigh, JSON.stringify(await updated(high, 2, members)));
  assert.equal(env.ctx.state.channel.version, 3);
  env.close();
});

Deno.test("UPDATED that leaves out one of our online users triggers a repair rotation", async () => {
  const { env, high, fromHigh } = world();
  const effects = await receive(
    env.ctx,
    env.tables,
    fromHigh,
    JSON.stringify(await updated(high, 4, [crypto.randomUUID()])),
  );
  assert.equal(env.ctx.state.channel.version, 4, "adopted anyway: convergence first");
  assert.deepEqual(rotations(effects), ["repair"]);
  env.close();
});

Deno.test("KEY_SHARE: creator_pub must be the sender's key and content_sig must verify", async () => {
  const { env, high, fromHigh } = world();
  const share = await buildKeyShare(high, [{
    member: crypto.randomUUID(),
    wrapped_public_channel_key: await encryptFor(KEYS.A.publicKey, generateAesKey()),
  }], 7);
  const wrongCreator = {
    ...share,
    payload: { ...share.payload, creator_pub: KEYS.B.publicKey.b64 },
  };
  const resigned = await buildSigned(high, "PUBLIC_CHANNEL_KEY_SHARE", "*", wrongCreator.payload);
  let effects = await receive(env.ctx, env.tables, fromHigh, JSON.stringify(resigned));
  assert.deepEqual(effects.map((e) => e.kind === "error" && e.code), ["BAD_KEY"]);
  // Transport signature fine, content_sig over other shares: refused by the content check.
  const tampered = await buildSigned(high, "PUBLIC_CHANNEL_KEY_SHARE", "*", {
    ...share.payload,
    shares: [],
    version: 8,
  });
  fromHigh.lastErrorAt = -Infinity;
  effects = await receive(env.ctx, env.tables, fromHigh, JSON.stringify(tampered));
  assert.deepEqual(effects.map((e) => e.kind === "error" && [e.code, e.detail]), [[
    "INVALID_SIG",
    "key-share content_sig does not verify",
  ]]);
  assert.equal(env.ctx.state.channel.version, 0);
  effects = await receive(env.ctx, env.tables, fromHigh, JSON.stringify(share));
  assert.equal(env.ctx.state.channel.version, 7, "the genuine share is adopted");
  assert.ok(env.ctx.state.channel.keyShare?.includes(share.payload.content_sig));
  env.close();
});

Deno.test("channel-key clients get only their own wrap, signed by this server; others get the frames verbatim", async () => {
  const { env, high, fromHigh, local } = world();
  const keyed = env.link("user", crypto.randomUUID());
  keyed.caps = new Set(["file-aesgcm", "channel-key"]);
  env.ctx.state.addLocalUser(keyed.peerId!, keyed);
  env.ctx.state.userLocations.set(keyed.peerId!, LOCAL);
  const key = generateAesKey();
  const members = [local.peerId!, crypto.randomUUID(), keyed.peerId!];
  const wraps = await Promise.all(members.map(async (member_id) => ({
    member_id,
    wrapped_key: await encryptFor(KEYS.A.publicKey, key), // KEYS.A: every test user's key
  })));
  const v5 = await buildSigned(high, "PUBLIC_CHANNEL_UPDATED", "*", { version: 5, wraps }, 0);
  const effects = await receive(env.ctx, env.tables, fromHigh, JSON.stringify(v5));
  const to = (link: unknown) =>
    effects.flatMap((e) => e.kind === "send" && e.link === link ? [String(e.frame)] : []);
  assert.deepEqual(to(local).map((t) => JSON.parse(t).type), ["PUBLIC_CHANNEL_UPDATED"]);
  const [text, ...more] = to(keyed);
  assert.equal(more.length, 0);
  const parsed = parseFrame(text);
  assert.ok(parsed.ok && parsed.frame.type === "PUBLIC_CHANNEL_KEY");
  assert.equal(parsed.frame.from, env.ctx.state.self.id);
  assert.equal(parsed.frame.payload.creator, high.id);
  const wrap = await openChannelKey(parsed.frame, env.ctx.state.self.keys.publicKey);
  assert.deepEqual(wrap, wraps[2]);
  assert.deepEqual(await decryptWith(KEYS.A.privateKey, wrap!.wrapped_key), key);

  // The creator's KEY_SHARE of the same state changes nothing for keyed clients.
  const share = await buildKeyShare(
    high,
    wraps.map((w) => ({ member: w.member_id, wrapped_public_channel_key: w.wrapped_key })),
    5,
  );
  const again = await receive(env.ctx, env.tables, fromHigh, JSON.stringify(share));
  assert.ok(!again.some((e) => e.kind === "send" && e.link === keyed));
  assert.ok(again.some((e) => e.kind === "send" && e.link === local));
  // A losing state is relayed verbatim only; keyed clients hear nothing.
  const older = await buildSigned(high, "PUBLIC_CHANNEL_UPDATED", "*", { version: 4, wraps }, 0);
  const lost = await receive(env.ctx, env.tables, fromHigh, JSON.stringify(older));
  assert.ok(!lost.some((e) => e.kind === "send" && e.link === keyed));
  env.close();
});
