// Section 2: cross-server DMs. Senders on server A, receivers on server B.
// Each sender's MSG_DIRECT is encrypted and signed once before the run; every
// load send reuses it with a fresh, unique envelope ts (the transport
// signature covers only the payload, SOCP.md §5.1), so the load generator
// costs almost nothing while the servers do all the work of a real DM: A
// verifies the user and signs SERVER_DELIVER, B verifies A and signs
// USER_DELIVER. Servers never check content_sig, whose ts no longer matches;
// so afterwards every pair sends one freshly signed DM, and its delivery is
// opened and verified end to end as a receiver would.

import { Cluster, type NodeProcess } from "../tests/_cluster.ts";
import {
  buildMsgDirect,
  decryptWith,
  dmSigFieldsOf,
  type FrameOf,
  importPublicKey,
  verifyDmContentSig,
  verifyFrame,
} from "../mod.ts";
import { type BackendName, type BenchEnv, scaled } from "./_env.ts";
import {
  BENCH_NODE_ARGS,
  type NodeRates,
  nodeRates,
  sampleNode,
  startMesh,
  waitForOnline,
} from "./_nodes.ts";
import { CpuProfiler, INSPECT_FLAG, type ProfileSummary } from "./_profile.ts";
import { LoopDriver } from "./_loop.ts";
import { typeOf } from "./_socket.ts";
import { type Latency, latency, ratio, round, sleep } from "./_stats.ts";
import { type BenchUser, closeUsers, connectUsers, makeUsers } from "./_users.ts";
import { type Ceilings, rsaOf } from "./ceilings.ts";

/** Figures of the DM section. */
export interface DmResult {
  /** The servers' RSA backend. */
  crypto: BackendName;
  senders: number;
  inFlightPerSender: number;
  seconds: number;
  deliveredPerSec: number;
  latencyAtPeak: Latency;
  /** The servers' backend's sign ceiling (4 in flight) shared by the two servers on this machine. */
  signSharePerServer: number;
  /** DM/s over each server's share of the sign ceiling. */
  ratio: number;
  servers: { a: NodeRates; b: NodeRates };
  halfRate: number;
  latencyAtHalf: Latency;
  errors: number;
  verified: boolean;
  profile: { a: ProfileSummary; b: ProfileSummary };
}

/** Sends pre-signed DMs and times their delivery. */
class DmDriver extends LoopDriver<FrameOf<"MSG_DIRECT">> {
  errors = 0;
  /** The last USER_DELIVER text each receiver got. */
  readonly lastDelivery: string[] = [];

  constructor(senders: BenchUser[], receivers: BenchUser[], templates: FrameOf<"MSG_DIRECT">[]) {
    super(senders, templates, 1);
    receivers.forEach((r, pair) => {
      r.socket!.onText = (text) => {
        if (typeOf(text) !== "USER_DELIVER") return;
        const frame = JSON.parse(text) as FrameOf<"USER_DELIVER">;
        if (this.arrived(frame.payload.sender, frame.ts) === pair) this.lastDelivery[pair] = text;
      };
    });
    for (const s of senders) {
      s.socket!.onText = (t) => void (typeOf(t) === "ERROR" && this.errors++);
    }
  }
}

/** Opens a delivered DM as its receiver would: decrypt, content signature, server signature. */
async function opensEndToEnd(
  text: string | undefined,
  sent: FrameOf<"MSG_DIRECT">,
  receiver: BenchUser,
  sender: BenchUser,
  b: NodeProcess,
): Promise<boolean> {
  const frame = JSON.parse(text ?? "{}") as FrameOf<"USER_DELIVER">;
  if (frame.ts !== sent.ts) return false;
  const plain = await decryptWith(receiver.identity.keys.privateKey, frame.payload.ciphertext);
  return new TextDecoder().decode(plain ?? new Uint8Array()) === `dm ${sender.name}` &&
    await verifyDmContentSig(
      sender.identity.keys.publicKey,
      dmSigFieldsOf(frame),
      frame.payload.content_sig,
    ) &&
    await verifyFrame(await importPublicKey(b.pubkey), frame);
}

/** Seconds of the measured closed loop. */
const DM_SECONDS = 15;
/** Milliseconds of the open loop at half the peak rate. */
const HALF_RATE_MS = 12_000;

/** Runs the DM section on `env.crypto` servers. */
export async function benchDm(env: BenchEnv, ceilings: Ceilings): Promise<DmResult> {
  const cluster = await Cluster.create(0, "info", env.crypto);
  const pairs = scaled(env, 16, 4);
  const window = 2;
  const seconds = scaled(env, DM_SECONDS, 2);
  const senders = await makeUsers(pairs, "sender", 0);
  const receivers = await makeUsers(pairs, "receiver", 5);
  try {
    const [a, b] = await startMesh(cluster, 2, BENCH_NODE_ARGS, [INSPECT_FLAG]);
    await connectUsers(senders, a.url, cluster.client);
    await connectUsers(receivers, b.url, cluster.client);
    await waitForOnline(a, 2 * pairs);
    await waitForOnline(b, 2 * pairs);
    const dmOf = (pair: number) =>
      buildMsgDirect(
        senders[pair].identity,
        receivers[pair].identity.id,
        receivers[pair].identity.keys.publicKey,
        `dm ${senders[pair].name}`,
      );
    const templates = await Promise.all(senders.map((_, pair) => dmOf(pair)));
    await sleep(1000); // let the join rotations finish
    const driver = new DmDriver(senders, receivers, templates);

    env.progress(
      `dm (${env.crypto}): warm-up, then ${seconds} s closed loop (${pairs} pairs × ${window})`,
    );
    await driver.closedLoop(window, scaled(env, 2000, 500));
    const [a0, b0] = [await sampleNode(a, cluster), await sampleNode(b, cluster)];
    const peak = await driver.closedLoop(window, seconds * 1000);
    const [a1, b1] = [await sampleNode(a, cluster), await sampleNode(b, cluster)];
    const latencyAtPeak = latency(driver.latencies);

    const halfRate = round(peak / 2, 1);
    env.progress(`dm (${env.crypto}): ${halfRate} DM/s open loop for latency`);
    await driver.openLoop(halfRate, scaled(env, HALF_RATE_MS, 1000));
    const latencyAtHalf = latency(driver.latencies);

    env.progress(`dm (${env.crypto}): profiling both servers at peak`);
    const profilers = [await CpuProfiler.attach(a), await CpuProfiler.attach(b)];
    await Promise.all(profilers.map((p) => p.start()));
    await driver.closedLoop(window, scaled(env, 3000, 500));
    const [pa, pb] = await Promise.all(profilers.map((p) => p.stop()));
    await Promise.all(profilers.map((p) => p.close()));

    const fresh = await Promise.all(senders.map((_, pair) => dmOf(pair)));
    fresh.forEach((frame, pair) => driver.sendFrame(pair, frame));
    await driver.drain();
    const verified = (await Promise.all(
      receivers.map((r, i) => opensEndToEnd(driver.lastDelivery[i], fresh[i], r, senders[i], b)),
    )).every(Boolean);
    const share = rsaOf(ceilings, env).sign.four / 2;
    return {
      crypto: env.crypto,
      senders: pairs,
      inFlightPerSender: window,
      seconds,
      deliveredPerSec: round(peak, 1),
      latencyAtPeak,
      signSharePerServer: round(share, 1),
      ratio: ratio(peak, share),
      servers: { a: nodeRates(a0, a1), b: nodeRates(b0, b1) },
      halfRate,
      latencyAtHalf,
      errors: driver.errors,
      verified,
      profile: { a: pa, b: pb },
    };
  } finally {
    await closeUsers([...senders, ...receivers]);
    await cluster.close();
  }
}
