// A pinned but hostile server peer and the offline queue (in-process): it may
// name any sender, so only the per-recipient bounds hold against it; they
// must, and other recipients' queues stay usable. Items for users whose home
// is elsewhere are never queued here.

import assert from "node:assert/strict";
import { buildSigned, encryptFor, type Identity, signBytes } from "../../mod.ts";
import { receive } from "../../server/dispatch.ts";
import type { Effect } from "../../server/effects.ts";
import { KEYS } from "../_vectors.ts";
import { inProcess } from "./_inproc.ts";

type Env = ReturnType<typeof inProcess>;

function bindOffline(env: Env, home: string): string {
  const user = crypto.randomUUID();
  env.ctx.store.putBinding({
    user_id: user,
    pubkey: KEYS.B.publicKey.b64,
    home,
    key_version: 1,
    registered_at: 1,
    first_seen: 1,
    confirmed: 1,
    proof_ts: 0,
  });
  return user;
}

/** Runs a frame from `link` and applies its database writes, as the node's applier does. */
async function deliver(env: Env, link: ReturnType<Env["link"]>, frame: unknown): Promise<Effect[]> {
  const effects = await receive(env.ctx, env.tables, link, JSON.stringify(frame));
  for (const e of effects) if (e.kind === "persist") e.write(env.ctx.store);
  return effects;
}

function queuedFor(env: Env, user: string): number {
  return (env.ctx.store.prepare("SELECT COUNT(*) AS n FROM offline_queue WHERE recipient = ?")
    .get(user) as { n: number }).n;
}

/** A SERVER_DELIVER of a fresh DM for `recipient`, claiming a new random sender each time. */
async function forgedDm(env: Env, rogue: Identity, recipient: string): Promise<unknown> {
  const ciphertext = await encryptFor(KEYS.B.publicKey, "let me in");
  return await buildSigned(rogue, "SERVER_DELIVER", env.ctx.state.self.id, {
    user_id: recipient,
    ciphertext,
    sender: crypto.randomUUID(),
    sender_pub: KEYS.A.publicKey.b64,
    content_sig: await signBytes(KEYS.A.privateKey, new TextEncoder().encode(ciphertext)),
  });
}

Deno.test("a hostile peer naming a new sender for every DM fills one recipient's queue to its bound, no further", async () => {
  const env = inProcess(["--queue-messages", "5", "--queue-sender-messages", "2"]);
  try {
    const rogue: Identity = { id: crypto.randomUUID(), keys: KEYS.A };
    env.ctx.state.pins.set(rogue.id, rogue.keys.publicKey);
    const link = env.link("server", rogue.id);
    const victim = bindOffline(env, env.ctx.state.self.id);
    const bystander = bindOffline(env, env.ctx.state.self.id);

    let refused = 0;
    for (let i = 0; i < 12; i++) {
      const effects = await deliver(env, link, await forgedDm(env, rogue, victim));
      const replies = effects.flatMap((e) =>
        e.kind === "send" ? [typeof e.frame === "string" ? JSON.parse(e.frame) : e.frame] : []
      );
      if (replies.some((f) => f.type === "MSG_QUEUED" && typeof f.payload.refused === "string")) {
        refused++;
      }
    }
    assert.equal(queuedFor(env, victim), 5, "the per-recipient bound holds whoever the sender is");
    assert.equal(refused, 7, "every item past it is refused, and said so");

    // Another user's queue is untouched by the flood.
    await deliver(env, link, await forgedDm(env, rogue, bystander));
    assert.equal(queuedFor(env, bystander), 1);

    // A user whose home is another server is never queued here on a peer's word.
    const elsewhere = bindOffline(env, crypto.randomUUID());
    const effects = await deliver(env, link, await forgedDm(env, rogue, elsewhere));
    assert.equal(queuedFor(env, elsewhere), 0);
    assert.ok(effects.some((e) => e.kind === "error" && e.code === "USER_NOT_FOUND"));
  } finally {
    env.close();
  }
});
