// The receive pipeline in-process: dedup order, clock window, first-frame
// rules and server-link rate limits, with fake sockets.

import assert from "node:assert/strict";
import { type Frame, signPayload } from "../../mod.ts";
import { receive } from "../../server/dispatch.ts";
import type { Effect } from "../../server/effects.ts";
import { TokenBucket } from "../../server/rate.ts";
import { ServerPeer } from "../_peer.ts";
import { KEYS } from "../_vectors.ts";
import { inProcess } from "./_inproc.ts";

function setup() {
  const env = inProcess();
  const peer = new ServerPeer({ id: crypto.randomUUID(), keys: KEYS.A });
  env.ctx.state.pins.set(peer.id, KEYS.A.publicKey);
  const link = env.link("server", peer.id);
  return { ctx: env.ctx, store: { close: env.close }, peer, link, tables: env.tables };
}

const errorCodes = (effects: Effect[]) =>
  effects.flatMap((e) => (e.kind === "error" ? [e.code] : []));

Deno.test("seen_ids: checked before verifying, inserted only after, so forgeries cannot poison it", async () => {
  const { ctx, store, peer, link, tables } = setup();
  const genuine = await peer.sign("USER_REMOVE", "*", {
    user_id: crypto.randomUUID(),
    server_id: peer.id,
  });
  const forged = { ...genuine, sig: await signPayload(KEYS.B.privateKey, genuine.payload) };
  assert.deepEqual(errorCodes(await receive(ctx, tables, link, JSON.stringify(forged))), [
    "INVALID_SIG",
  ]);
  assert.equal(ctx.state.seen.size, 0, "a forged copy is not remembered");
  await receive(ctx, tables, link, JSON.stringify(genuine));
  assert.equal(ctx.state.seen.size, 1);
  assert.deepEqual(
    await receive(ctx, tables, link, JSON.stringify(genuine)),
    [],
    "duplicate dropped silently",
  );
  assert.equal(ctx.metrics.get("frames_duplicate", "USER_REMOVE"), 1);
  assert.equal(
    ctx.metrics.get("sig_verify"),
    2,
    "the duplicate was dropped before any signature work",
  );
  store.close();
});

Deno.test("frames outside the ±120 s window get TIMEOUT", async () => {
  const { ctx, store, peer, link, tables } = setup();
  const stale = await peer.sign("USER_REMOVE", "*", {
    user_id: crypto.randomUUID(),
    server_id: peer.id,
  }, Date.now() - 121_000);
  assert.deepEqual(errorCodes(await receive(ctx, tables, link, JSON.stringify(stale))), [
    "TIMEOUT",
  ]);
  const future = { ...stale, ts: Date.now() + 121_000 };
  assert.deepEqual(errorCodes(await receive(ctx, tables, link, JSON.stringify(future))), [
    "TIMEOUT",
  ]);
  store.close();
});

Deno.test("a server link over its rate drops frames without answering", async () => {
  const { ctx, store, peer, link, tables } = setup();
  link.rate = new TokenBucket(1, 1, Date.now());
  const frame = (await peer.sign("HEARTBEAT", ctx.state.self.id, {})) as Frame;
  await receive(ctx, tables, link, JSON.stringify(frame));
  assert.deepEqual(await receive(ctx, tables, link, JSON.stringify(frame)), []);
  assert.equal(ctx.metrics.get("frames_rate_limited", "server"), 1);
  store.close();
});

Deno.test("a pending link accepts only first-frame types, and closes otherwise", async () => {
  const { ctx, store, peer, link, tables } = setup();
  link.kind = "pending";
  const effects = await receive(
    ctx,
    tables,
    link,
    JSON.stringify(await peer.sign("HEARTBEAT", "x", {})),
  );
  assert.deepEqual(effects.map((e) => [e.kind, e.kind === "error" ? e.close : undefined]), [[
    "error",
    true,
  ]]);
  assert.deepEqual(errorCodes(effects), ["UNKNOWN_TYPE"]);
  store.close();
});
