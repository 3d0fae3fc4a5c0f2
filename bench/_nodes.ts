// Snapshots of a running node for before/after deltas: CPU time and RSS from
// /proc, RSA operation counts and frame counts from its /metrics endpoint.

import type { Cluster, NodeProcess } from "../tests/_cluster.ts";
import { cpuMs, rssKb } from "./_machine.ts";

/** One node's counters at a moment. */
export interface NodeSample {
  at: number;
  cpuMs: number;
  rssKb: number;
  /** `socp_rsa_operations_total` by op (sign, verify, encrypt, decrypt). */
  rsa: Record<string, number>;
  /** `socp_frames_out_total` by type. */
  framesOut: Record<string, number>;
  /** `socp_public_channel_version`. */
  channelVersion: number;
}

function labelled(metrics: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const pattern = new RegExp(`^${name}\\{${label}="([^"]+)"\\} (\\S+)$`, "gm");
  for (const m of metrics.matchAll(pattern)) out[m[1]] = Number(m[2]);
  return out;
}

/** Reads a node's counters now. */
export async function sampleNode(node: NodeProcess, cluster: Cluster): Promise<NodeSample> {
  const res = await fetch(`https://127.0.0.1:${node.port}/metrics`, { client: cluster.client });
  const metrics = await res.text();
  const pid = node.pid!;
  return {
    at: performance.now(),
    cpuMs: cpuMs(pid),
    rssKb: rssKb(pid),
    rsa: labelled(metrics, "socp_rsa_operations_total", "op"),
    framesOut: labelled(metrics, "socp_frames_out_total", "type"),
    channelVersion: Number(/^socp_public_channel_version (\S+)$/m.exec(metrics)?.[1] ?? 0),
  };
}

/** What a node did between two samples, per second. */
export interface NodeRates {
  /** CPU cores used on average (1 = one core busy). */
  cores: number;
  signPerSec: number;
  verifyPerSec: number;
  encryptPerSec: number;
  decryptPerSec: number;
}

/** Rates between `before` and `after`. */
export function nodeRates(before: NodeSample, after: NodeSample): NodeRates {
  const seconds = (after.at - before.at) / 1000;
  const per = (op: string) => ((after.rsa[op] ?? 0) - (before.rsa[op] ?? 0)) / seconds;
  return {
    cores: Math.round(((after.cpuMs - before.cpuMs) / (after.at - before.at)) * 100) / 100,
    signPerSec: Math.round(per("sign") * 10) / 10,
    verifyPerSec: Math.round(per("verify") * 10) / 10,
    encryptPerSec: Math.round(per("encrypt") * 10) / 10,
    decryptPerSec: Math.round(per("decrypt") * 10) / 10,
  };
}

/** Waits until `node` reports at least `count` online users. */
export async function waitForOnline(
  node: NodeProcess,
  count: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await node.health()).users.online < count) {
    if (Date.now() > deadline) throw new Error(`${node.name} never saw ${count} users online`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Node flags of every benchmark: production heartbeat timing instead of the tests' fast one. */
export const BENCH_NODE_ARGS: readonly string[] = [
  "--heartbeat-ms",
  "15000",
  "--timeout-ms",
  "45000",
];

/**
 * Starts an introducer and `count` servers (named a, b, c…) in a full mesh,
 * all on the cluster's RSA backend.
 */
export async function startMesh(
  cluster: Cluster,
  count: number,
  serverArgs: readonly string[] = BENCH_NODE_ARGS,
  runtimeFlags: string[] = [],
): Promise<NodeProcess[]> {
  const intro = await cluster.introducer("intro", [], [...BENCH_NODE_ARGS]);
  const servers: NodeProcess[] = [];
  for (let i = 0; i < count; i++) {
    const name = String.fromCharCode(97 + i);
    servers.push(await cluster.server(name, [intro], [...serverArgs], runtimeFlags));
  }
  await cluster.waitForMesh([intro, ...servers], 60_000);
  await expectBackend([intro, ...servers], cluster);
  return servers;
}

/** Fails unless every node reports the RSA backend its cluster asked for. */
export async function expectBackend(nodes: NodeProcess[], cluster: Cluster): Promise<void> {
  if (cluster.crypto === "auto") return;
  for (const node of nodes) {
    const running = (await node.health()).crypto;
    if (running !== cluster.crypto) {
      throw new Error(`${node.name} runs ${running}, not ${cluster.crypto}`);
    }
  }
}
