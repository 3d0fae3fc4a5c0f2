// The after-run checks of tests/_fuzz.ts: what an honest user must still get
// from a mesh that was fuzzed, and whether the servers' memory stayed bounded.

import {
  decryptWith,
  dmSigFieldsOf,
  type Frame,
  type FrameOf,
  importPublicKey,
  type KeyPair,
  verifyDmContentSig,
} from "../mod.ts";
import { type Cluster, type NodeProcess, waitUntil } from "./_cluster.ts";
import { TestUser } from "./_user.ts";

/** What the checks measured. */
export interface Checks {
  rss: { name: string; beforeKb: number; peakKb: number; afterKb: number; growthMb: number }[];
  /** `/healthz` users.online per node once the fuzzing links are gone (2 expected: Alice, Bob). */
  online: { name: string; online: number }[];
  /** LIST_RESPONSE user ids seen by Alice (on A) and Bob (on B). */
  lists: { name: string; users: string[] }[];
  /** "ok", or why the DM did not arrive verified. */
  dm: { aliceToBob: string; bobToAlice: string };
  /** Whether a new user can still connect to each user-hosting server, and gets a channel key. */
  freshConnect: { name: string; connect: string; channel: string }[];
  failures: string[];
}

/** Inputs of {@linkcode runChecks}. */
export interface CheckInputs {
  cluster: Cluster;
  nodes: NodeProcess[];
  alice: TestUser;
  bob: TestUser;
  a: NodeProcess;
  b: NodeProcess;
  rssBefore: number[];
  /** Highest RSS sampled during the run, per node. */
  rssPeak: number[];
  rssBoundMb: number;
  /** Key of the probe user that tries a fresh connection. */
  probeKeys: KeyPair;
}

/** Sends a DM and waits for that very frame (same ts and content_sig) to arrive and verify. */
async function dmArrives(from: TestUser, to: TestUser, text: string): Promise<string> {
  try {
    const mark = to.socket.frames.length;
    const sent = await from.dm(to, text);
    const fromMark = from.socket.frames.length;
    const got = await to.socket.next(
      (f) =>
        f.type === "USER_DELIVER" && f.ts === sent.ts &&
        f.payload.content_sig === sent.payload.content_sig,
      10_000,
      mark,
    ).catch((e) => {
      const refusal = from.socket.frames.slice(fromMark).find((f) => f.type === "ERROR");
      throw refusal ? new Error(`sender got ${JSON.stringify(refusal.payload)}`) : e;
    }) as FrameOf<"USER_DELIVER">;
    const plain = await decryptWith(to.identity.keys.privateKey, got.payload.ciphertext);
    if (!plain || new TextDecoder().decode(plain) !== text) return "arrived but does not decrypt";
    const ok = await verifyDmContentSig(
      await importPublicKey(got.payload.sender_pub),
      dmSigFieldsOf(got),
      got.payload.content_sig,
    );
    return ok && got.payload.sender === from.id ? "ok" : "arrived but does not verify";
  } catch (e) {
    return String(e instanceof Error ? e.message : e).slice(0, 300);
  }
}

async function listOf(user: TestUser, serverId: string): Promise<string[]> {
  const mark = user.socket.frames.length;
  user.socket.send(await user.sign("LIST_REQUEST", serverId, {}));
  const list = await user.socket.next((f) => f.type === "LIST_RESPONSE", 10_000, mark)
    .catch(() => undefined) as FrameOf<"LIST_RESPONSE"> | undefined;
  return (list?.payload.users ?? []).map((u) => typeof u === "string" ? u : u.user_id);
}

/**
 * A new user connects to `node` and must get an ACK, then a channel key
 * wrapped for it (a join always rotates the public channel, SOCP.md §7.2).
 */
async function freshConnect(
  input: CheckInputs,
  node: NodeProcess,
): Promise<{ connect: string; channel: string }> {
  const probe = new TestUser(input.probeKeys, "Probe");
  try {
    const answer: Frame = await probe.connect(node.url, input.cluster.client);
    if (answer.type !== "ACK") {
      return { connect: `refused: ${JSON.stringify(answer.payload)}`, channel: "-" };
    }
    const keyed = await probe.socket.next(
      (f) =>
        f.type === "PUBLIC_CHANNEL_UPDATED" &&
        f.payload.wraps.some((w) => w.member_id === probe.id),
      8000,
    ).then(() => "ok", () => "no channel key wrapped for it within 8 s");
    return { connect: "ok", channel: keyed };
  } catch (e) {
    return { connect: `could not connect: ${e instanceof Error ? e.message : e}`, channel: "-" };
  } finally {
    await probe.socket?.close().catch(() => {});
  }
}

/** Runs every check; `failures` lists the ones that did not hold. */
export async function runChecks(input: CheckInputs): Promise<Checks> {
  const { nodes, alice, bob, a, b } = input;
  const failures: string[] = [];
  // The fuzzing user's leave and the peer's loss settle within a few seconds
  // (a superseded link waits 5 s for its replacement).
  const counts = async () =>
    await Promise.all(nodes.map(async (n) => ({
      name: n.name,
      online: (await n.health()).users.online,
    })));
  let online = await counts();
  await waitUntil(async () => (online = await counts()).every((c) => c.online === 2), 8000, "")
    .catch(() => {});
  for (const c of online) {
    if (c.online !== 2) failures.push(`${c.name} lists ${c.online} users online, not 2`);
  }
  const dm = {
    aliceToBob: await dmArrives(alice, bob, "after the fuzz, Alice to Bob"),
    bobToAlice: await dmArrives(bob, alice, "after the fuzz, Bob to Alice"),
  };
  if (dm.aliceToBob !== "ok") failures.push(`DM Alice (A) → Bob (B): ${dm.aliceToBob}`);
  if (dm.bobToAlice !== "ok") failures.push(`DM Bob (B) → Alice (A): ${dm.bobToAlice}`);
  const lists = [
    { name: a.name, users: await listOf(alice, a.id) },
    { name: b.name, users: await listOf(bob, b.id) },
  ];
  for (const list of lists) {
    for (const user of [alice, bob]) {
      if (!list.users.includes(user.id)) {
        failures.push(`${list.name}'s LIST_RESPONSE lacks ${user.name}`);
      }
    }
  }
  const freshConnects = [];
  for (const node of [a, b]) {
    const result = await freshConnect(input, node);
    freshConnects.push({ name: node.name, ...result });
    if (result.connect !== "ok") {
      failures.push(`a new user cannot connect to ${node.name}: ${result.connect}`);
    } else if (result.channel !== "ok") {
      failures.push(`a new user on ${node.name} gets no channel key: ${result.channel}`);
    }
  }
  const after = await Promise.all(nodes.map((n) => n.rssKb()));
  const rss = nodes.map((n, i) => {
    const afterKb = after[i];
    const growthMb = Math.round((afterKb - input.rssBefore[i]) / 102.4) / 10;
    const peakKb = Math.max(input.rssPeak[i], afterKb);
    return { name: n.name, beforeKb: input.rssBefore[i], peakKb, afterKb, growthMb };
  });
  for (const r of rss) {
    if (r.afterKb === 0) failures.push(`${r.name} is not running`);
    else if (r.growthMb > input.rssBoundMb) {
      failures.push(`${r.name} RSS grew ${r.growthMb} MB (bound ${input.rssBoundMb} MB)`);
    }
  }
  return { rss, online, lists, dm, freshConnect: freshConnects, failures };
}
