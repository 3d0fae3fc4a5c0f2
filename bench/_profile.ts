// CPU profiles of running socp processes through the V8 inspector
// (`deno run --inspect=127.0.0.1:0`): start/stop the sampling profiler over
// the DevTools protocol and summarise self time by function and by module.
// RSA work runs on WebCrypto worker threads, outside these JS profiles; the
// section reports it separately from the node's /metrics counters.

import type { NodeProcess } from "../tests/_cluster.ts";
import { round } from "./_stats.ts";

/** The `deno run` flag that makes a node profilable. */
export const INSPECT_FLAG = "--inspect=127.0.0.1:0";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a process's main thread spent a profiled interval. */
export interface ProfileSummary {
  /** Profiled wall time, ms. */
  wallMs: number;
  /** Share of wall time the main thread was busy (not idle), 0–1, excluding the profiler's own work. */
  busy: number;
  /**
   * Share of wall time spent reporting network events to the attached
   * inspector (Deno does this while a session is attached); left out of
   * every other figure.
   */
  profilerOverhead: number;
  /** Top functions by self time: label and share of busy time. */
  functions: { name: string; share: number }[];
  /** Top modules (files, or runtime internals) by self time. */
  modules: { name: string; share: number }[];
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

function moduleOf(url: string, name: string): string {
  if (SPECIAL.has(name)) return name;
  if (!url) return "(native)";
  const local = /\/work\/[^/]+\/(.+)$/.exec(url) ?? /\/((?:protocol|server|client|tests)\/.+)$/
    .exec(url);
  if (local) return local[1];
  return url.replace(/^ext:/, "runtime:").replace(/^node:/, "runtime:node:");
}

/** Self time by function and module, from a raw V8 profile. */
export function summarise(profile: Profile, top = 8): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fnTime = new Map<string, number>();
  const modTime = new Map<string, number>();
  let wall = 0;
  let idle = 0;
  let overhead = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    wall += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    if (name === "(idle)") {
      idle += us;
      return;
    }
    if (name.startsWith("op_inspector_") || url.includes("inspector_network_bridge")) {
      overhead += us;
      return;
    }
    const module = moduleOf(url, name);
    const label = SPECIAL.has(name) ? name : `${name} (${module}:${lineNumber + 1})`;
    fnTime.set(label, (fnTime.get(label) ?? 0) + us);
    modTime.set(module, (modTime.get(module) ?? 0) + us);
  });
  const busy = wall - idle - overhead;
  const ranked = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({
      name,
      share: busy > 0 ? round(us / busy, 3) : 0,
    }));
  return {
    wallMs: round(wall / 1000),
    busy: wall > 0 ? round(busy / wall, 3) : 0,
    profilerOverhead: wall > 0 ? round(overhead / wall, 3) : 0,
    functions: ranked(fnTime),
    modules: ranked(modTime),
  };
}

/** A DevTools-protocol session with one node's inspector. */
export class CpuProfiler {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, (result: unknown) => void>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      this.#pending.get(message.id)?.(message.result);
      this.#pending.delete(message.id);
    };
  }

  /** Connects to the inspector of a node started with {@linkcode INSPECT_FLAG}. */
  static async attach(node: NodeProcess): Promise<CpuProfiler> {
    const url = node.lines.map((l) => /Debugger listening on (ws:\/\/\S+)/.exec(l)?.[1])
      .find(Boolean);
    if (!url) throw new Error(`${node.name} has no inspector (start it with ${INSPECT_FLAG})`);
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`cannot reach the inspector of ${node.name}`));
    });
    const profiler = new CpuProfiler(socket);
    await profiler.#call("Profiler.enable");
    await profiler.#call("Profiler.setSamplingInterval", { interval: 500 });
    return profiler;
  }

  #call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts sampling. */
  async start(): Promise<void> {
    await this.#call("Profiler.start");
  }

  /** Stops sampling and summarises the profile. */
  async stop(): Promise<ProfileSummary> {
    const result = await this.#call("Profiler.stop") as { profile: Profile };
    return summarise(result.profile);
  }

  /** Ends the session. */
  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.#socket.onclose = resolve);
    this.#socket.close();
    await closed;
  }
}
