// Section 1: what this machine can do at most, measured in the same run as
// everything compared with it: RSA-4096 PSS sign/verify and OAEP
// encrypt/decrypt (1 and 4 in flight), AES-256-GCM, TLS WebSocket echo.

import { fixtureKeys } from "../tests/_cluster.ts";
import { PSS_SALT_SIGN } from "../protocol/limits.ts";
import { BenchSocket } from "./_socket.ts";
import { rssKb } from "./_machine.ts";
import { eachLimited } from "./_users.ts";
import { opsPerSecond, round, sleep } from "./_stats.ts";
import type { BenchEnv } from "./_env.ts";

/** Operations per second with 1 and with 4 operations in flight. */
export interface Ceiling {
  one: number;
  four: number;
}

/** The machine's limits. */
export interface Ceilings {
  sign: Ceiling;
  verify: Ceiling;
  oaepEncrypt: Ceiling;
  oaepDecrypt: Ceiling;
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

/** RSS growth of the echo server per idle connection that echoed one frame, KB. */
async function idleKb(env: BenchEnv, port: number, pid: number, text: string): Promise<number> {
  const count = env.quick ? 50 : 500;
  await sleep(500);
  const before = rssKb(pid);
  const sockets: BenchSocket[] = [];
  try {
    await eachLimited(Array.from({ length: count }), 16, async () => {
      const socket = await BenchSocket.open(`wss://127.0.0.1:${port}/`, env.client);
      sockets.push(socket);
      const echoed = socket.first(() => true);
      socket.send(text);
      await echoed;
    });
    await sleep(1000);
    return round((rssKb(pid) - before) / count, 1);
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
  }
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
  try {
    const { value } = await lines.read();
    const { port } = JSON.parse(value ?? "{}");
    const socket = await BenchSocket.open(`wss://127.0.0.1:${port}/`, env.client);
    const text = "x".repeat(frameBytes); // about the size of a DM frame
    await echoLoop(socket, text, inFlight, Math.min(500, ms)); // warm-up
    const perSec = await echoLoop(socket, text, inFlight, ms);
    await socket.close();
    return { perSec: round(perSec), idleKb: await idleKb(env, port, child.pid, text) };
  } finally {
    lines.releaseLock();
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
}

/**
 * Measures every ceiling; `ms` per measurement. RSA goes straight to
 * WebCrypto with socp's parameters: the library's own calls pass a gate of
 * one operation per core, which would cap the 4-in-flight figure.
 */
export async function measureCeilings(env: BenchEnv, ms: number): Promise<Ceilings> {
  const keys = await fixtureKeys(0);
  const message = crypto.getRandomValues(new Uint8Array(600)); // a typical canonical payload
  const pss = { name: "RSA-PSS", saltLength: PSS_SALT_SIGN };
  const oaep = { name: "RSA-OAEP" };
  const [verifyKey, encryptKey] = [await keys.publicKey.pss(), await keys.publicKey.oaep()];
  const sig = await crypto.subtle.sign(pss, keys.privateKey.pss, message);
  const wrapped = await crypto.subtle.encrypt(oaep, encryptKey, message.subarray(0, 32));
  const echo = await wsEcho(env, ms * 2);
  return {
    sign: await both(() => crypto.subtle.sign(pss, keys.privateKey.pss, message), ms),
    verify: await both(() => crypto.subtle.verify(pss, verifyKey, sig, message), ms),
    oaepEncrypt: await both(
      () => crypto.subtle.encrypt(oaep, encryptKey, message.subarray(0, 32)),
      ms,
    ),
    oaepDecrypt: await both(() => crypto.subtle.decrypt(oaep, keys.privateKey.oaep, wrapped), ms),
    aesMBps: await aesCeiling(ms),
    wsEchoPerSec: echo.perSec,
    wsIdleKb: echo.idleKb,
  };
}
