// Section 1: what this machine can do at most, measured in the same run as
// everything compared with it: RSA-4096 PSS sign/verify and OAEP
// encrypt/decrypt (1 and 4 in flight) on each RSA backend, AES-256-GCM and
// TLS WebSocket echo once.

import { fixtureKeys } from "../tests/_cluster.ts";
import { PSS_SALT_SIGN, PSS_SALTS_VERIFY } from "../protocol/limits.ts";
import { rsaBackend } from "../protocol/rsa_backend.ts";
import { type BenchBackends, withBackend } from "./_crypto.ts";
import { BenchSocket } from "./_socket.ts";
import { rssKb } from "./_machine.ts";
import { eachLimited } from "./_users.ts";
import { opsPerSecond, round, sleep } from "./_stats.ts";
import type { BackendName, BenchEnv } from "./_env.ts";

/** Operations per second with 1 and with 4 operations in flight. */
export interface Ceiling {
  one: number;
  four: number;
}

/** One RSA backend's limits on this machine (RSA-4096, socp's parameters). */
export interface RsaCeilings {
  sign: Ceiling;
  verify: Ceiling;
  oaepEncrypt: Ceiling;
  oaepDecrypt: Ceiling;
}

/** The machine's limits. */
export interface Ceilings {
  /** RSA per backend; `openssl` is missing when it did not load. */
  rsa: Partial<Record<BackendName, RsaCeilings>>;
  /** AES-256-GCM encryption of 1 MiB buffers, MB/s (1 and 4 in flight). */
  aesMBps: Ceiling;
  /** WebSocket echo round trips per second over loopback TLS, 32 in flight. */
  wsEchoPerSec: number;
  /**
   * RSS of a bare Deno TLS WebSocket server per idle connection (KB), each
   * connection having echoed one 2.6 KB frame: the floor under socp's
   * memory per idle user.
   */
  wsIdleKb: number;
}

async function both(op: () => Promise<unknown>, ms: number): Promise<Ceiling> {
  return {
    one: round(await opsPerSecond(op, 1, ms), 1),
    four: round(await opsPerSecond(op, 4, ms), 1),
  };
}

async function aesCeiling(ms: number): Promise<Ceiling> {
  const key = await crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    "AES-GCM",
    false,
    ["encrypt"],
  );
  const data = new Uint8Array(1024 * 1024);
  const iv = new Uint8Array(12);
  const encrypt = () => crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, data);
  const perSec = await both(encrypt, ms);
  const mb = data.length / 1e6;
  return { one: round(perSec.one * mb, 1), four: round(perSec.four * mb, 1) };
}

/** Closed loop of `inFlight` echoes for `ms`; resolves with round trips per second. */
function echoLoop(
  socket: BenchSocket,
  text: string,
  inFlight: number,
  ms: number,
): Promise<number> {
  const started = performance.now();
  let done = 0;
  let outstanding = inFlight;
  return new Promise((resolve) => {
    socket.onText = () => {
      done++;
      if (performance.now() - started < ms) socket.send(text);
      else if (--outstanding === 0) resolve(done / ((performance.now() - started) / 1000));
    };
    for (let i = 0; i < inFlight; i++) socket.send(text);
  });
}

/**
 * RSS growth of the echo server per idle connection that echoed one frame,
 * KB. The connections stay in `sockets`, for the caller to close after the
 * server has gone (500 closing handshakes at once take about 15 s).
 */
async function idleKb(
  env: BenchEnv,
  port: number,
  pid: number,
  text: string,
  sockets: BenchSocket[],
): Promise<number> {
  const count = env.quick ? 50 : 500;
  await sleep(500);
  const before = rssKb(pid);
  await eachLimited(Array.from({ length: count }), 16, async () => {
    const socket = await BenchSocket.open(`wss://127.0.0.1:${port}/`, env.client);
    sockets.push(socket);
    const echoed = socket.first(() => true);
    socket.send(text);
    await echoed;
  });
  await sleep(1000);
  return round((rssKb(pid) - before) / count, 1);
}

/**
 * Round trips per second of `frameBytes` texts, `inFlight` at a time,
 * through a TLS echo server; then its memory per idle connection.
 */
async function wsEcho(
  env: BenchEnv,
  ms: number,
  frameBytes = 2600,
  inFlight = 32,
): Promise<{ perSec: number; idleKb: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `--allow-read=${env.certs.cert},${env.certs.key}`,
      new URL("./_echo_server.ts", import.meta.url).pathname,
      env.certs.cert,
      env.certs.key,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const idle: BenchSocket[] = [];
  try {
    const { value } = await lines.read();
    const { port } = JSON.parse(value ?? "{}");
    const socket = await BenchSocket.open(`wss://127.0.0.1:${port}/`, env.client);
    const text = "x".repeat(frameBytes); // about the size of a DM frame
    await echoLoop(socket, text, inFlight, Math.min(500, ms)); // warm-up
    const perSec = await echoLoop(socket, text, inFlight, ms);
    await socket.close();
    env.progress("ceilings: idle TLS WebSocket connections");
    return { perSec: round(perSec), idleKb: await idleKb(env, port, child.pid, text, idle) };
  } finally {
    lines.releaseLock();
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await Promise.all(idle.map((s) => s.close()));
  }
}

/**
 * RSA ceilings of the backend installed now, called through the backend
 * interface with socp's parameters (so a WebCrypto verify includes its key
 * import, as in socp) but not through socp's own calls, which pass a gate of
 * cores + 2 operations and would cap the 4-in-flight figure.
 */
async function rsaCeilings(ms: number): Promise<RsaCeilings> {
  const backend = rsaBackend();
  const keys = await fixtureKeys(0);
  const message = crypto.getRandomValues(new Uint8Array(600)); // a typical canonical payload
  const plain = message.subarray(0, 32); // a wrapped AES key's size
  const sig = await backend.sign(keys.privateKey, message, PSS_SALT_SIGN);
  const wrapped = await backend.encrypt(keys.publicKey, plain);
  return {
    sign: await both(() => backend.sign(keys.privateKey, message, PSS_SALT_SIGN), ms),
    verify: await both(() => backend.verify(keys.publicKey, [message], sig, PSS_SALTS_VERIFY), ms),
    oaepEncrypt: await both(() => backend.encrypt(keys.publicKey, plain), ms),
    oaepDecrypt: await both(() => backend.decrypt(keys.privateKey, wrapped), ms),
  };
}

/** Field by field, the better of two sets of RSA ceilings. */
function best(a: RsaCeilings | undefined, b: RsaCeilings): RsaCeilings {
  if (!a) return b;
  const max = (x: Ceiling, y: Ceiling) => ({
    one: Math.max(x.one, y.one),
    four: Math.max(x.four, y.four),
  });
  return {
    sign: max(a.sign, b.sign),
    verify: max(a.verify, b.verify),
    oaepEncrypt: max(a.oaepEncrypt, b.oaepEncrypt),
    oaepDecrypt: max(a.oaepDecrypt, b.oaepDecrypt),
  };
}

/**
 * Measures every ceiling, `ms` per measurement. RSA in `rounds` rounds, each
 * backend in turn within a round (installed in this process for its
 * measurements, then the previous one restored), keeping each figure's best
 * round: a ceiling is what the machine does at most, and a burst of other
 * work on the machine then lowers one round, not the figure, and hits both
 * backends alike. AES and the WebSocket echo once.
 */
export async function measureCeilings(
  env: BenchEnv,
  backends: BenchBackends,
  ms: number,
  rounds = 1,
): Promise<Ceilings> {
  const rsa: Partial<Record<BackendName, RsaCeilings>> = {};
  for (let round = 1; round <= rounds; round++) {
    for (const name of backends.names) {
      env.progress(`ceilings: RSA on ${name}, round ${round} of ${rounds}`);
      const measured = await withBackend(backends.byName[name]!, () => rsaCeilings(ms));
      rsa[name] = best(rsa[name], measured);
    }
  }
  env.progress("ceilings: AES, TLS WebSocket");
  const echo = await wsEcho(env, ms * 3);
  return {
    rsa,
    aesMBps: await aesCeiling(ms),
    wsEchoPerSec: echo.perSec,
    wsIdleKb: echo.idleKb,
  };
}

/** The RSA ceilings of the backend the section runs. */
export function rsaOf(ceilings: Ceilings, env: BenchEnv): RsaCeilings {
  const rsa = ceilings.rsa[env.crypto];
  if (!rsa) throw new Error(`no RSA ceilings for ${env.crypto}`);
  return rsa;
}
