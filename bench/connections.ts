// Section 5: connect users to one server until it hosts `target` of them;
// hellos per second (overall and per band of the ramp) and the server's RSS
// per idle user. Hellos are signed before the ramp, so the clock window of
// the bench server is widened to cover the time they wait (the window costs
// nothing per frame). A profiled tail then reconnects a slice of the users.

import { Cluster, type NodeProcess } from "../tests/_cluster.ts";
import { type BackendName, type BenchEnv, scaled } from "./_env.ts";
import { cpuMs, selfCpuMs } from "./_machine.ts";
import { BENCH_NODE_ARGS, type NodeRates, nodeRates, sampleNode, startMesh } from "./_nodes.ts";
import { CpuProfiler, INSPECT_FLAG, type ProfileSummary } from "./_profile.ts";
import { BenchSocket } from "./_socket.ts";
import { ratio, round, sleep } from "./_stats.ts";
import { type BenchUser, eachLimited, makeUsers, signHellos } from "./_users.ts";
import { type Ceilings, rsaOf } from "./ceilings.ts";

/** Figures of the connections section. */
export interface ConnectionsResult {
  /** The server's RSA backend. */
  crypto: BackendName;
  users: number;
  inFlight: number;
  /** Seconds to sign every hello before the ramp (not part of the rate). */
  presignSeconds: number;
  rampSeconds: number;
  hellosPerSec: number;
  /** Hellos per second in each band of the ramp, e.g. users 0–1000, 1000–2000… */
  bands: { upTo: number; hellosPerSec: number }[];
  /**
   * Hello rate over what RSA allows: the server's backend's sign ceiling (4 in
   * flight) divided by the server signatures a hello cost.
   */
  ratio: number;
  /** The slowest band's rate over the same bound (the rate must stay flat as users grow). */
  lowestBandRatio: number;
  /** Server signatures, OAEP wraps and public-channel rotations per hello during the ramp. */
  perHello: { signs: number; wraps: number; rotations: number };
  server: NodeRates;
  /** Cores the load generator (this process) used during the ramp. */
  driverCores: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssPerUserKb: number;
  /** Per idle user, KB, from the server's `Deno.memoryUsage()`: V8 heap in use, outside V8 (ArrayBuffers), the rest. */
  memoryPerUserKb: { heapUsed: number; heapFree: number; external: number; native: number };
  /** Seconds from the ramp's end until RSS was measured (CPU idle, then `--trim-memory` done). */
  settleSeconds: number;
  /** The server's TLS engine, from `/healthz` (`--tls-engine`). */
  tlsEngine: string;
  profile: ProfileSummary;
}

/** Opens a socket and says hello for each user, `inFlight` at a time; returns the seconds taken. */
async function connectAll(
  users: BenchUser[],
  hellos: string[],
  url: string,
  client: Deno.HttpClient,
  inFlight: number,
  onConnected: (count: number) => void = () => {},
): Promise<number> {
  const started = performance.now();
  let connected = 0;
  await eachLimited(users, inFlight, async (user, i) => {
    user.socket = await BenchSocket.open(url, client);
    await user.socket.hello(hellos[i]);
    onConnected(++connected);
  });
  return (performance.now() - started) / 1000;
}

interface MemoryNow {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

/** The server's `Deno.memoryUsage()` and its count of memory trims, from `/healthz`. */
async function memoryOf(
  server: NodeProcess,
): Promise<{ memory: MemoryNow; trims: number }> {
  const health = await server.health() as Record<string, unknown>;
  const trim = health.memory_trim as { trims: number } | null;
  return { memory: health.memory as MemoryNow, trims: trim?.trims ?? 0 };
}

/**
 * Waits until the server's trims stop (it trims for 30 s after a change), at
 * most 60 s; a quick run does not wait.
 */
async function trimsDone(server: NodeProcess, env: BenchEnv): Promise<MemoryNow> {
  let last = await memoryOf(server);
  if (env.quick) return last.memory;
  let still = 0;
  for (let i = 0; i < 30 && still < 3; i++) {
    await sleep(2000);
    const now = await memoryOf(server);
    still = now.trims === last.trims ? still + 1 : 0;
    last = now;
  }
  return last.memory;
}

/** Waits until the server's CPU use falls below a fifth of a core (rotations done). */
async function settle(pid: number): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const before = cpuMs(pid);
    await sleep(1000);
    if (cpuMs(pid) - before < 200) return;
  }
}

/** Users of a full run, per backend (two ramps must fit the run's 10 minutes). */
const CONNECTION_USERS = 3000;

/** Runs the connections section on an `env.crypto` server. */
export async function benchConnections(
  env: BenchEnv,
  ceilings: Ceilings,
  target: number = scaled(env, CONNECTION_USERS, 200),
): Promise<ConnectionsResult> {
  const tail = Math.ceil(target / 50);
  const inFlight = 16;
  const bandSize = Math.max(1, Math.round(target / 5));
  const cluster = await Cluster.create(20, "info", env.crypto);
  const users = await makeUsers(target, "user", 0);
  try {
    const args = [
      ...BENCH_NODE_ARGS,
      "--max-conns-per-ip",
      String(target + 100),
      "--max-pending-per-ip",
      String(inFlight * 4),
      "--clock-window-ms",
      "900000",
      // Both backends give freed memory back alike (FFI to glibc), so RSS compares,
      // and serve TLS with the engine that keeps idle connections smallest.
      "--trim-memory",
      "on",
      "--tls-engine",
      "openssl",
    ];
    const [server] = await startMesh(cluster, 1, args, [INSPECT_FLAG, "--allow-ffi"]);
    env.progress(`connections (${env.crypto}): signing ${target + tail} hellos before the ramp`);
    const presignStarted = performance.now();
    const hellos = await signHellos(users);
    const tailHellos = await signHellos(users.slice(0, tail));
    const presignSeconds = round((performance.now() - presignStarted) / 1000, 1);

    await settle(server.pid!);
    const memoryBefore = await trimsDone(server, env);
    const before = await sampleNode(server, cluster);
    const driverBefore = selfCpuMs();
    env.progress(`connections (${env.crypto}): ramp to ${target} users, ${inFlight} in flight`);
    const bands: { upTo: number; hellosPerSec: number }[] = [];
    let bandStarted = performance.now();
    const rampSeconds = await connectAll(
      users,
      hellos,
      server.url,
      cluster.client,
      inFlight,
      (count) => {
        if (count % bandSize !== 0) return;
        const now = performance.now();
        bands.push({
          upTo: count,
          hellosPerSec: round(bandSize / ((now - bandStarted) / 1000), 1),
        });
        bandStarted = now;
        if (count % (bandSize * 5) === 0) env.progress(`connections: ${count} users`);
      },
    );
    const after = await sampleNode(server, cluster);
    const driverCores = round((selfCpuMs() - driverBefore) / (after.at - before.at), 2);
    env.progress(`connections (${env.crypto}): waiting for the server to go idle, then RSS`);
    const rampEnded = performance.now();
    await settle(server.pid!);
    const memoryIdle = await trimsDone(server, env);
    const settleSeconds = round((performance.now() - rampEnded) / 1000, 1);
    const idle = await sampleNode(server, cluster);
    const tlsEngine = String(((await server.health()).tls as { engine?: string } | null)?.engine);

    env.progress(`connections (${env.crypto}): profiled tail, ${tail} users reconnect`);
    const profiler = await CpuProfiler.attach(server);
    await profiler.start();
    const leaving = users.slice(0, tail);
    const tailStarted = performance.now();
    await Promise.all(leaving.map((u) => u.socket!.close()));
    const tailLeftMs = performance.now() - tailStarted;
    await connectAll(leaving, tailHellos, server.url, cluster.client, inFlight);
    const profile = await profiler.stop();
    env.progress(
      `connections: tail done in ${((performance.now() - tailStarted) / 1000).toFixed(0)} s ` +
        `(closing took ${(tailLeftMs / 1000).toFixed(1)} s)`,
    );
    await profiler.close();

    const hellosPerSec = target / rampSeconds;
    const per = (field: "sign" | "encrypt") =>
      round(((after.rsa[field] ?? 0) - (before.rsa[field] ?? 0)) / target, 2);
    const signs = per("sign");
    // What RSA allows: the sign ceiling over the signatures one hello costs.
    const rsaBound = rsaOf(ceilings, env).sign.four / Math.max(signs, 1);
    const kb = (field: keyof MemoryNow) =>
      round((memoryIdle[field] - memoryBefore[field]) / 1024 / target, 1);
    const heapFree = (m: MemoryNow) => m.heapTotal - m.heapUsed;
    const rssDelta = (idle.rssKb - before.rssKb) * 1024;
    return {
      crypto: env.crypto,
      users: target,
      inFlight,
      presignSeconds,
      rampSeconds: round(rampSeconds, 1),
      hellosPerSec: round(hellosPerSec, 1),
      bands,
      ratio: ratio(hellosPerSec, rsaBound),
      lowestBandRatio: ratio(Math.min(...bands.map((b) => b.hellosPerSec)), rsaBound),
      perHello: {
        signs,
        wraps: per("encrypt"),
        rotations: round((after.channelVersion - before.channelVersion) / target, 3),
      },
      server: nodeRates(before, after),
      driverCores,
      rssBeforeMb: round(before.rssKb / 1024, 1),
      rssAfterMb: round(idle.rssKb / 1024, 1),
      rssPerUserKb: round((idle.rssKb - before.rssKb) / target, 1),
      tlsEngine,
      memoryPerUserKb: {
        heapUsed: kb("heapUsed"),
        heapFree: round((heapFree(memoryIdle) - heapFree(memoryBefore)) / 1024 / target, 1),
        external: kb("external"),
        native: round(
          (rssDelta - (memoryIdle.heapTotal - memoryBefore.heapTotal) -
            (memoryIdle.external - memoryBefore.external)) / 1024 / target,
          1,
        ),
      },
      settleSeconds,
      profile,
    };
  } finally {
    // Server first: its shutdown closes every socket at once, where thousands of
    // leaves would each cost a signed USER_REMOVE (about 40 s).
    await cluster.close();
    await Promise.all(users.map((u) => u.socket?.close()));
  }
}
