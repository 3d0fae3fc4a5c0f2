// A reusable mesh fuzz driver. Against real processes (an introducer and at
// least two servers), a fuzzing user on server A and a fuzzing server peer
// linked to A send N seeded mutations of a corpus of valid frames, paced
// under the links' rate limits. Afterwards two honest users (on A and B,
// connected before the run) must still exchange verified DMs both ways and be
// the only users listed online on every node, a new user must still be
// admitted and keyed by A and B, and no node's RSS may grow past a bound
// (tests/_fuzz_checks.ts).
// tests/server/fuzz_mesh_test.ts runs it small; tools/fuzz.ts runs it large.

import type { Identity } from "../mod.ts";
import { Cluster, fixtureKeys, type NodeProcess } from "./_cluster.ts";
import { type Checks, runChecks } from "./_fuzz_checks.ts";
import { buildCorpus, type FuzzLink, poolsOf } from "./_fuzz_corpus.ts";
import { Generator } from "./_fuzz_gen.ts";
import { FuzzPeer, FuzzUser } from "./_fuzz_links.ts";
import { TestUser } from "./_user.ts";
import { KEYS } from "./_vectors.ts";

/** How a fuzz run is shaped. */
export interface FuzzOptions {
  frames: number;
  seed: number;
  /** Frames per second over both links. The user link's share stays under its 500/s. */
  rate?: number;
  /** Fraction of frames sent on the server link. */
  peerShare?: number;
  /** Servers besides the introducer (at least 2). */
  servers?: number;
  /** Where the cluster's node keys start in the fixture pool. */
  firstKey?: number;
  /** Extra flags for every server and the introducer (to isolate a cause, e.g. a raised limit). */
  nodeArgs?: string[];
  /** Re-signed frames to make before the run; later "resign" frames replay them. */
  signBudget?: number;
  /** Allowed RSS growth per node, in MB. */
  rssBoundMb?: number;
  /** Progress lines (the CLI prints them). */
  progress?: (line: string) => void;
}

/** What a run did and found. */
export interface FuzzReport {
  seed: number;
  frames: number;
  durationMs: number;
  /** Ids of the honest users, the fuzzing user and the fuzzing peer, to read node logs by. */
  ids: Record<"alice" | "bob" | "fuzzUser" | "peer" | "phantom", string>;
  /** Frames sent, by mutation kind and link ("peer:resign"). */
  sentByKind: Record<string, number>;
  /** Frames not sent because their link was down at the time, by link. */
  droppedLinkDown: Record<FuzzLink, number>;
  peer: { links: number; failedReconnects: number };
  user: { links: number; failedReconnects: number };
  /** ERROR frames each fuzzing link received, by code. */
  errorsByCode: Record<FuzzLink, Record<string, number>>;
  checks: Checks;
  /** Server A's own counters after the run (`/healthz` frames): what reached which step. */
  aCounters: Record<string, Record<string, number>>;
  /** Error-level log lines of the nodes: a handler, a cleanup or a rotation that threw. */
  handlerErrors: string[];
  /** Every failed check; empty means the run passed. */
  failures: string[];
  /** The nodes, for a caller that wants their logs (closed cluster: read-only). */
  nodes: NodeProcess[];
}

/** Re-signed frames made before the run, at most (about 20 ms of RSA each). */
const SIGN_BUDGET = 2500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one fuzz campaign on a fresh cluster and returns its report; the cluster is closed. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const rate = options.rate ?? 800;
  const peerShare = options.peerShare ?? 0.6;
  const serverCount = Math.max(2, options.servers ?? 2);
  const firstKey = options.firstKey ?? 0;
  const log = options.progress ?? (() => {});
  const cluster = await Cluster.create(firstKey);
  const started = Date.now();
  const users: TestUser[] = [];
  let fuzzUser: FuzzUser | undefined;
  let peer: FuzzPeer | undefined;
  try {
    const nodeArgs = options.nodeArgs ?? [];
    const intro = await cluster.introducer("intro", [], nodeArgs);
    const servers: NodeProcess[] = [];
    for (let i = 0; i < serverCount; i++) {
      servers.push(await cluster.server(`s${String.fromCharCode(65 + i)}`, [intro], nodeArgs));
    }
    const [a, b] = servers;
    await cluster.waitForMesh([intro, ...servers]);
    log(`mesh up: intro, ${servers.map((s) => s.name).join(", ")}`);

    // Keys after the cluster's own, so no identity shares a key with a node.
    const key = (i: number) => fixtureKeys(firstKey + serverCount + 1 + i);
    const alice = new TestUser(KEYS.A, "Alice");
    const bob = new TestUser(KEYS.B, "Bob");
    users.push(alice, bob);
    await alice.connect(a.url, cluster.client);
    await bob.connect(b.url, cluster.client);
    const fuzzIdentity: Identity = { id: crypto.randomUUID(), keys: await key(0) };
    const peerIdentity: Identity = { id: crypto.randomUUID(), keys: await key(1) };
    const phantom: Identity = { id: crypto.randomUUID(), keys: await key(2) };
    fuzzUser = new FuzzUser(fuzzIdentity, a.url, cluster.client);
    peer = new FuzzPeer(peerIdentity, a, cluster.client);
    await fuzzUser.start();
    await peer.start();

    const world = {
      nodes: [a, ...servers.slice(1), intro].map((n) => ({
        id: n.id,
        port: n.port,
        pubkey: n.pubkey,
      })),
      honest: [alice, bob].map((u) => ({ id: u.id, publicKey: u.publicKey })),
      fuzzUser: fuzzIdentity,
      peer: peerIdentity,
      phantom,
    };
    const generator = new Generator(
      options.seed,
      poolsOf(world),
      await buildCorpus(world),
      peerShare,
    );
    const signed = await generator.presign(options.frames, options.signBudget ?? SIGN_BUDGET);
    log(`corpus ready: ${signed} re-signed frames`);
    const nodes = [intro, ...servers];
    await sleep(1000); // let the peer's link sync and the join rotations settle
    const rssBefore = await Promise.all(nodes.map((n) => n.rssKb()));
    // Sampled during the run too: a leak freed at the end would hide from "after".
    const rssPeak = [...rssBefore];
    let sampling = Promise.resolve();
    const sampler = setInterval(() => {
      sampling = sampling.then(async () => {
        const now = await Promise.all(nodes.map((n) => n.rssKb()));
        now.forEach((kb, i) => rssPeak[i] = Math.max(rssPeak[i], kb));
      });
    }, 2000);
    log(`fuzzing: ${options.frames} frames at ${rate}/s, seed ${options.seed}`);

    const sentByKind: Record<string, number> = {};
    const dropped: Record<FuzzLink, number> = { user: 0, peer: 0 };
    const send = (link: FuzzLink, kind: string, text: string) => {
      const ok = link === "user" ? fuzzUser!.send(text) : peer!.send(text);
      if (!ok) dropped[link]++;
      else sentByKind[`${link}:${kind}`] = (sentByKind[`${link}:${kind}`] ?? 0) + 1;
    };
    const t0 = performance.now();
    for (let i = 0; i < options.frames; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 4) await sleep(wait);
      const { link, kind, text } = generator.frame(i);
      send(link, kind, text);
      if (i > 0 && i % 10_000 === 0) {
        log(`  ${i} frames; peer links ${peer.links}, failed reconnects ${peer.failures}`);
      }
    }
    clearInterval(sampler);
    await sampling;
    const aCounters = (await a.health()).frames as Record<string, Record<string, number>>;
    log("fuzzing done; closing the fuzzing links and checking the honest users");
    await fuzzUser.stop();
    await peer.stop();

    const checks = await runChecks({
      cluster,
      nodes,
      alice,
      bob,
      a,
      b,
      rssBefore,
      rssPeak,
      rssBoundMb: options.rssBoundMb ?? 200,
      probeKeys: await key(3),
    });
    const handlerErrors = nodes.flatMap((n) =>
      n.entries().filter((e) => e.level === "error").map((e) =>
        `${n.name}: ${e.msg} ${String(e.error ?? "")}`.slice(0, 300)
      )
    );
    return {
      seed: options.seed,
      frames: options.frames,
      ids: {
        alice: alice.id,
        bob: bob.id,
        fuzzUser: fuzzIdentity.id,
        peer: peerIdentity.id,
        phantom: phantom.id,
      },
      durationMs: Date.now() - started,
      sentByKind,
      droppedLinkDown: dropped,
      peer: { links: peer.links, failedReconnects: peer.failures },
      user: { links: fuzzUser.links, failedReconnects: fuzzUser.failures },
      errorsByCode: { user: fuzzUser.errors, peer: peer.errors },
      checks,
      aCounters,
      handlerErrors,
      failures: checks.failures,
      nodes,
    };
  } finally {
    await fuzzUser?.stop();
    await peer?.stop();
    for (const u of users) await u.close().catch(() => {});
    await cluster.close();
  }
}
