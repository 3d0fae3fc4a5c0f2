// The rows of the benchmark tables: ceilings, each section per backend with
// the OpenSSL / WebCrypto ratio, and the figures measured once.

import type { BackendName } from "./_env.ts";
import type { RsaCeilings } from "./ceilings.ts";
import {
  type BackendRun,
  type BenchResults,
  DM_HALF_P99_MS,
  DM_SHARE_TARGET,
  DM_SPEEDUP_TARGET,
  HELLO_RATE_TARGET,
  IDLE_USER_KB_TARGET,
  LABEL,
  ms,
  quotient,
  type Row,
  verdict,
} from "./_results.ts";

export function ceilingRows(r: BenchResults): Row[] {
  const ops: [keyof RsaCeilings, string][] = [
    ["sign", "RSA-4096 PSS sign/s (1 / 4 in flight)"],
    ["verify", "RSA-4096 PSS verify/s (1 / 4)"],
    ["oaepEncrypt", "RSA-OAEP encrypt/s (1 / 4)"],
    ["oaepDecrypt", "RSA-OAEP decrypt/s (1 / 4)"],
  ];
  const { webcrypto: w, openssl: o } = r.ceilings.rsa;
  return ops.map(([op, figure]) => {
    const cells: Partial<Record<BackendName, string>> = {};
    for (const b of r.crypto.backends) {
      const c = r.ceilings.rsa[b]?.[op];
      if (c) cells[b] = `${c.one} / ${c.four}`;
    }
    const change = w && o
      ? `${quotient(o[op].one, w[op].one)} / ${quotient(o[op].four, w[op].four)}`
      : "";
    return { section: "1 ceilings", figure, cells, change };
  });
}

/** A row whose cells come from each backend's run. */
function perBackend(
  r: BenchResults,
  section: string,
  figure: string,
  cell: (run: BackendRun) => number | string | boolean | undefined,
  more: {
    change?: boolean;
    target?: string;
    met?: (run: BackendRun) => boolean | undefined;
    /** Whether the OpenSSL / WebCrypto ratio meets the target. */
    changeMet?: (change: number) => boolean;
  } = {},
): Row | undefined {
  const cells: Partial<Record<BackendName, string>> = {};
  const mets: string[] = [];
  for (const b of r.crypto.backends) {
    const run = r.runs[b];
    const value = run ? cell(run) : undefined;
    if (value === undefined) continue;
    cells[b] = String(value);
    const met = more.met?.(run!);
    if (met !== undefined) mets.push(verdict(met));
  }
  if (Object.keys(cells).length === 0) return undefined;
  const [w, o] = [r.runs.webcrypto, r.runs.openssl].map((run) => run ? cell(run) : undefined);
  const change = more.change && typeof w === "number" && typeof o === "number"
    ? quotient(o, w)
    : "";
  if (change && more.changeMet) mets.push(verdict(more.changeMet(Number(change))));
  return { section, figure, cells, change, target: more.target, met: mets.join(" / ") };
}

export function resultRows(r: BenchResults): Row[] {
  const rows: (Row | undefined)[] = [];
  const first = (pick: (run: BackendRun) => unknown) =>
    r.crypto.backends.map((b) => r.runs[b]).find((run) => run && pick(run));
  const shares = r.crypto.backends.map((b) => `${DM_SHARE_TARGET[b]} ${LABEL[b]}`).join(", ");

  if (first((run) => run.dm)) {
    const s = "2 DM";
    rows.push(
      perBackend(r, s, "delivered DM/s, A → B, closed loop", (x) => x.dm?.deliveredPerSec, {
        change: true,
        target: r.runs.webcrypto?.dm && r.runs.openssl?.dm
          ? `OpenSSL ÷ WebCrypto ≥ ${DM_SPEEDUP_TARGET}`
          : undefined,
        changeMet: (change) => change >= DM_SPEEDUP_TARGET,
      }),
      perBackend(
        r,
        s,
        "per-server sign share (half the 4-in-flight sign ceiling)",
        (x) => x.dm?.signSharePerServer,
        { change: true },
      ),
      perBackend(r, s, "DM/s ÷ per-server sign share", (x) => x.dm?.ratio, {
        target: `≥ ${shares}`,
        met: (x) => x.dm && x.dm.ratio >= DM_SHARE_TARGET[x.dm.crypto],
      }),
      perBackend(
        r,
        s,
        "server cores used, A / B",
        (x) => x.dm && `${x.dm.servers.a.cores} / ${x.dm.servers.b.cores}`,
      ),
      perBackend(r, s, "latency at peak p50 / p95 / p99", (x) => x.dm && ms(x.dm.latencyAtPeak)),
      perBackend(r, s, "half-peak rate, DM/s (open loop)", (x) => x.dm?.halfRate),
      perBackend(
        r,
        s,
        "latency at half peak p50 / p95 / p99",
        (x) => x.dm && ms(x.dm.latencyAtHalf),
        {
          target: `p99 < ${DM_HALF_P99_MS} ms`,
          met: (x) => x.dm && x.dm.latencyAtHalf.p99 < DM_HALF_P99_MS,
        },
      ),
      perBackend(
        r,
        s,
        "end-to-end check: decrypts, content_sig and server sig verify",
        (x) => x.dm?.verified,
      ),
    );
  }
  const fan = first((run) => run.fanout)?.fanout;
  if (fan) {
    const s = "3 fan-out";
    rows.push(
      perBackend(
        r,
        s,
        `messages/s, ${fan.servers} servers × ${fan.membersPerServer} members`,
        (x) => x.fanout?.messagesPerSec,
        { change: true },
      ),
      perBackend(r, s, "deliveries/s", (x) => x.fanout?.deliveriesPerSec, { change: true }),
      perBackend(
        r,
        s,
        `deliveries/s ÷ echo round trips/s (${r.ceilings.wsEchoPerSec})`,
        (x) => x.fanout?.deliveriesPerEcho,
      ),
      perBackend(
        r,
        s,
        "latency to the last member p50 / p95 / p99",
        (x) => x.fanout && ms(x.fanout.latencyToLast),
      ),
      perBackend(r, s, "end-to-end check on every server", (x) => x.fanout?.verified),
    );
  }
  const file = first((run) => run.files)?.files;
  if (file) {
    const s = "4 file";
    rows.push(
      perBackend(
        r,
        s,
        `${Math.round(file.bytes / 1024)} KB across servers, RSA mode, KB/s`,
        (x) => x.files?.kbPerSec,
        { change: true },
      ),
      perBackend(
        r,
        s,
        "receiver's OAEP-decrypt ceiling, KB/s",
        (x) => x.files?.ceilingKbPerSec,
        { change: true },
      ),
      perBackend(r, s, "KB/s ÷ receiver's ceiling", (x) => x.files?.ratio, {
        target: "≥ 0.90",
        met: (x) => x.files && x.files.ratio >= 0.9,
      }),
      perBackend(r, s, "byte-identical and verified", (x) => x.files?.verified),
    );
  }
  const conn = first((run) => run.connections)?.connections;
  if (conn) {
    const s = "5 connections";
    rows.push(
      perBackend(
        r,
        s,
        `hellos/s up to ${conn.users} users`,
        (x) => x.connections?.hellosPerSec,
        { change: true },
      ),
      perBackend(
        r,
        s,
        "hellos/s ÷ (sign ceiling ÷ signatures per hello), whole ramp / slowest band",
        (x) => x.connections && `${x.connections.ratio} / ${x.connections.lowestBandRatio}`,
        {
          target: `≥ ${HELLO_RATE_TARGET} in every band`,
          met: (x) => x.connections && x.connections.lowestBandRatio >= HELLO_RATE_TARGET,
        },
      ),
      perBackend(r, s, "server signatures per hello", (x) => x.connections?.perHello.signs),
      perBackend(
        r,
        s,
        `server RSS per idle user, KB (bare WebSocket ${r.ceilings.wsIdleKb} KB)`,
        (x) => x.connections?.rssPerUserKb,
        {
          target: `≤ ${IDLE_USER_KB_TARGET} KB`,
          met: (x) => x.connections && x.connections.rssPerUserKb <= IDLE_USER_KB_TARGET,
        },
      ),
      perBackend(
        r,
        s,
        "of which V8 heap in use / V8 heap free / ArrayBuffers / native, KB",
        (x) => {
          const m = x.connections?.memoryPerUserKb;
          return m && `${m.heapUsed} / ${m.heapFree} / ${m.external} / ${m.native}`;
        },
      ),
    );
  }
  return rows.filter((x): x is Row => x !== undefined);
}

/** Figures measured once: not RSA-bound, or (gossip) on one backend. */
export function sharedRows(r: BenchResults): [string, string][] {
  const c = r.ceilings;
  const rows: [string, string][] = [
    ["AES-256-GCM MB/s, 1 MiB buffers (1 / 4 in flight)", `${c.aesMBps.one} / ${c.aesMBps.four}`],
    ["TLS WebSocket echo round trips/s (2.6 KB, 32 in flight)", `${c.wsEchoPerSec}`],
    ["bare TLS WebSocket server, RSS per idle connection", `${c.wsIdleKb} KB`],
  ];
  const g = r.gossip;
  if (g) {
    const on = LABEL[g.crypto];
    rows.push(
      [
        `gossip (${on}): hello → routable on all ${g.servers - 1} other servers, p50 / p99`,
        `${g.convergence.p50} / ${g.convergence.p99} ms`,
      ],
      [`gossip (${on}): hello → ACK p50 / p99`, `${g.ack.p50} / ${g.ack.p99} ms`],
    );
  }
  return rows;
}

export function bothColumns(r: BenchResults): boolean {
  return r.crypto.backends.length > 1;
}

/** The tables as Markdown. */
