// Public-channel version poisoning (docs/PROTOCOL.md decision 44): a peer's
// implausible version is neither adopted nor passed on, a state leaving out
// online members is repaired once (no loop), and a poisoned stored state does
// not survive a restart.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  buildKeyShare,
  encryptFor,
  type FrameOf,
  generateAesKey,
  type PublicKey,
} from "../../mod.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { ServerPeer } from "../_peer.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

async function world(firstKey: number) {
  const { cluster, nodes: [a, b] } = await Cluster.mesh(["a", "b"], firstKey);
  const alice = new TestUser(KEYS.A, "Alice");
  const bob = new TestUser(KEYS.B, "Bob");
  await alice.connect(a.url, cluster.client);
  await bob.connect(b.url, cluster.client);
  await converged([alice, bob]);
  await quiet(alice);
  const peer = new ServerPeer({ id: crypto.randomUUID(), keys: await fixtureKeys(firstKey + 6) });
  const link = await peer.link(a.url, cluster.client, a.id);
  await waitUntil(async () => (await a.health()).links.includes(peer.id), 10_000, "a to pin P");
  return { cluster, a, b, alice, bob, peer, link };
}

/** UPDATED and KEY_SHARE of `version` from the peer, wrapping a key for `members`. */
async function peerState(peer: ServerPeer, version: number, members: [string, PublicKey][]) {
  const key = generateAesKey();
  const wraps = await Promise.all(members.map(async ([id, pub]) => ({
    member_id: id,
    wrapped_key: await encryptFor(pub, key),
  })));
  const updated = await peer.sign("PUBLIC_CHANNEL_UPDATED", "*", { version, wraps });
  const shares = wraps.map((w) => ({
    member: w.member_id,
    wrapped_public_channel_key: w.wrapped_key,
  }));
  return [updated, await buildKeyShare(peer.identity, shares, version)];
}

/** Waits until every user holds the same winning channel key, of at least `minVersion`. */
async function converged(users: TestUser[], minVersion = 1): Promise<number> {
  let version = 0;
  await waitUntil(
    async () => {
      const winners = await Promise.all(users.map(async (u) => (await u.channelKeys())[0]));
      if (winners.some((k) => !k || k.version < minVersion)) return false;
      version = winners[0].version;
      return winners.every((k) =>
        k.version === version && k.key.every((byte, i) => byte === winners[0].key[i])
      );
    },
    15_000,
    "the users to converge on one channel key",
  ).catch(async (e) => {
    // Say what each user holds: version/creator of every state received.
    const held = await Promise.all(
      users.map(async (u) =>
        `${u.name}: ${(await u.channelKeys()).map((k) => `${k.version}/${k.from.slice(0, 8)}`)}`
      ),
    );
    throw new Error(`${(e as Error).message} (${held.join("; ")})`);
  });
  return version;
}

/** Waits until `user` has seen no new channel state for a second. */
async function quiet(user: TestUser): Promise<void> {
  let seen = -1;
  await waitUntil(
    async () => {
      const now = updatedVersions(user).length;
      if (now === seen) return true;
      seen = now;
      await new Promise((r) => setTimeout(r, 1000));
      return false;
    },
    15_000,
    "the channel to settle",
  );
}

/** alice's public message reaches bob and opens with the key bob holds. */
async function publicWorks(alice: TestUser, bob: TestUser, text: string) {
  const mark = bob.socket.frames.length;
  await alice.publicMessage(text);
  const frame = await bob.socket.next((f) => f.type === "MSG_PUBLIC_CHANNEL", 10_000, mark);
  const opened = await bob.openPublic(frame as FrameOf<"MSG_PUBLIC_CHANNEL">);
  assert.equal(opened?.text, text);
}

const updatedVersions = (user: TestUser) =>
  user.socket.ofType("PUBLIC_CHANNEL_UPDATED").map((f) => f.payload.version);

Deno.test("an implausible channel version is refused and not relayed; later rotations work", async () => {
  const w = await world(0);
  const carol = new TestUser(await fixtureKeys(9), "Carol");
  try {
    const poisoned = 2 ** 53 - 1;
    // Wrapped for alice and bob too: had it been relayed, they would hold it as newest.
    const members: [string, PublicKey][] = [
      [w.alice.id, w.alice.publicKey],
      [w.bob.id, w.bob.publicKey],
    ];
    const mark = w.link.frames.length;
    for (const frame of await peerState(w.peer, poisoned, members)) w.link.send(frame);
    await w.link.nextError("BAD_REQUEST", 5000, mark);
    // A join still rotates (no "not a safe integer"), and everyone converges on it.
    const before = Math.max(...updatedVersions(w.alice));
    await carol.connect(w.b.url, w.cluster.client);
    await converged([w.alice, w.bob], before + 1);
    await publicWorks(w.alice, w.bob, "still private among us");
    for (const user of [w.alice, w.bob]) {
      assert.ok(!updatedVersions(user).includes(poisoned), `${user.name} never saw it`);
    }
  } finally {
    await carol.close().catch(() => {});
    await w.alice.close();
    await w.bob.close();
    await w.peer.close();
    await w.cluster.close();
  }
});

Deno.test("a winning state that leaves out online members is repaired once, without a loop", async () => {
  const w = await world(3);
  try {
    const current = Math.max(...updatedVersions(w.alice));
    const phantom = crypto.randomUUID();
    for (const frame of await peerState(w.peer, current + 1, [[phantom, KEYS.A.publicKey]])) {
      w.link.send(frame);
    }
    // a and b each find their user missing and repair; the repairs converge on one state.
    await converged([w.alice, w.bob], current + 2);
    await publicWorks(w.alice, w.bob, "repaired");
    // Then quiet: no further rotations while nothing changes.
    const settled = updatedVersions(w.alice).length;
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(updatedVersions(w.alice).length, settled, "no rotation loop");
    assert.ok(Math.max(...updatedVersions(w.alice)) <= current + 3, "at most one repair round");
  } finally {
    await w.alice.close();
    await w.bob.close();
    await w.peer.close();
    await w.cluster.close();
  }
});

Deno.test("a poisoned version stored before the fix does not survive a restart", async () => {
  const w = await world(6);
  const a: NodeProcess = w.a;
  try {
    await w.alice.close();
    await a.stop();
    const db = new DatabaseSync(`${a.dataDir}/socp.sqlite`);
    db.exec(`UPDATE groups SET version = ${2 ** 53 - 1} WHERE group_id = 'public'`);
    db.close();
    await a.restart();
    await w.cluster.waitForMesh([a, w.b]);
    const back = new TestUser(KEYS.A, "Alice", w.alice.id);
    await back.connect(a.url, w.cluster.client);
    const version = await converged([back, w.bob]);
    assert.ok(version < 1000, `a sane version after restart (${version})`);
    await publicWorks(back, w.bob, "after the restart");
    await back.close();
  } finally {
    await w.alice.close().catch(() => {});
    await w.bob.close();
    await w.peer.close();
    await w.cluster.close();
  }
});
