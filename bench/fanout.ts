// Section 3: public-channel fan-out. Three servers with 30 members each; one
// sender per server keeps a few messages in flight; a message is done when
// all 89 other members hold it. As in the DM section, each sender's message
// is encrypted and signed once and resent with a fresh envelope ts (the
// user's transport signature covers only the payload), so the servers do all
// of a real message's work: verify the user, fan out to local members, send
// once to each other server, which verifies and fans out again. A freshly
// built message is then opened and verified end to end on every server.

import { Cluster, type NodeProcess } from "../tests/_cluster.ts";
import { buildMsgPublic, type FrameOf, publicSigFieldsOf, verifyPublicContentSig } from "../mod.ts";
import { ChannelKeys } from "../client/channel_keys.ts";
import { importPublicKey } from "../protocol/keys.ts";
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
import type { Ceilings } from "./ceilings.ts";

/** Figures of the fan-out section. */
export interface FanoutResult {
  /** The servers' RSA backend. */
  crypto: BackendName;
  servers: number;
  membersPerServer: number;
  inFlightPerSender: number;
  seconds: number;
  messagesPerSec: number;
  deliveriesPerSec: number;
  /** Time until the last member holds a message. */
  latencyToLast: Latency;
  /** Deliveries per second over WebSocket echo round trips per second. */
  deliveriesPerEcho: number;
  nodes: NodeRates[];
  verified: boolean;
  profile: ProfileSummary;
}

const fromOf = (text: string) => /"from":"([^"]+)"/.exec(text)?.[1];
const tsOf = (text: string) => /"ts":(\d+)/.exec(text)?.[1];

/** Counts deliveries per message until every other member has one. */
class FanoutDriver extends LoopDriver<FrameOf<"MSG_PUBLIC_CHANNEL">> {
  constructor(
    members: BenchUser[],
    senders: BenchUser[],
    templates: FrameOf<"MSG_PUBLIC_CHANNEL">[],
  ) {
    super(senders, templates, members.length - 1);
    for (const member of members) {
      const previous = member.socket!.onText;
      member.socket!.onText = (text) => {
        if (typeOf(text) !== "MSG_PUBLIC_CHANNEL") return previous(text);
        this.arrived(fromOf(text), tsOf(text));
      };
    }
  }
}

/** Keeps each user's newest PUBLIC_CHANNEL_KEY text, to open its channel key later. */
function keepChannelKeys(users: BenchUser[]): Map<BenchUser, string> {
  const last = new Map<BenchUser, string>();
  for (const user of users) {
    const previous = user.socket!.onText;
    user.socket!.onText = (text) => {
      if (typeOf(text) === "PUBLIC_CHANNEL_KEY") last.set(user, text);
      previous(text);
    };
  }
  return last;
}

/** Waits until no server has moved its channel version for 3 s (join rotations are over). */
async function channelSettled(servers: NodeProcess[], cluster: Cluster): Promise<void> {
  let last = "";
  let stableSince = Date.now();
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(250)) {
    const now = (await Promise.all(servers.map((s) => sampleNode(s, cluster))))
      .map((s) => s.channelVersion).join();
    if (now !== last) [last, stableSince] = [now, Date.now()];
    else if (Date.now() - stableSince > 3000) return;
  }
  throw new Error("the public channel never settled");
}

async function channelKeyOf(user: BenchUser, text: string | undefined, server: NodeProcess) {
  const keys = new ChannelKeys(user.identity.id, user.identity.keys.privateKey);
  const ok = text !== undefined &&
    await keys.fromChannelKey(JSON.parse(text), await importPublicKey(server.pubkey));
  if (!ok) throw new Error(`${user.name} holds no channel key`);
  return keys;
}

/** Runs the fan-out section on `env.crypto` servers. */
export async function benchFanout(env: BenchEnv, ceilings: Ceilings): Promise<FanoutResult> {
  const cluster = await Cluster.create(40, "info", env.crypto);
  const perServer = scaled(env, 30, 4);
  const window = 4;
  const seconds = scaled(env, 12, 2);
  const groups = await Promise.all([0, 1, 2].map((s) => makeUsers(perServer, `m${s}-`, s * 30)));
  const members = groups.flat();
  try {
    // Members, server links and /healthz polls all come from 127.0.0.1: above the default 32.
    const args = [...BENCH_NODE_ARGS, "--max-conns-per-ip", String(perServer + 32)];
    const servers = await startMesh(cluster, 3, args, [INSPECT_FLAG]);
    env.progress(`fanout (${env.crypto}): ${members.length} members joining 3 servers`);
    for (const [s, group] of groups.entries()) {
      await connectUsers(group, servers[s].url, cluster.client);
    }
    const lastKey = keepChannelKeys(members);
    for (const server of servers) await waitForOnline(server, members.length);
    await channelSettled(servers, cluster);
    const senders = groups.map((g) => g[0]);
    const keys = await Promise.all(
      senders.map((u, s) => channelKeyOf(u, lastKey.get(u), servers[s])),
    );
    const build = (s: number, text: string) => {
      const { key, version } = keys[s].current()!;
      return buildMsgPublic(senders[s].identity, key, version, text);
    };
    const templates = await Promise.all(senders.map((u, s) => build(s, `hello from ${u.name}`)));
    const driver = new FanoutDriver(members, senders, templates);

    env.progress(
      `fanout (${env.crypto}): ${seconds} s closed loop, ${senders.length} senders × ${window}`,
    );
    await driver.closedLoop(window, scaled(env, 1500, 300));
    const before = await Promise.all(servers.map((s) => sampleNode(s, cluster)));
    const perSec = await driver.closedLoop(window, seconds * 1000);
    const after = await Promise.all(servers.map((s) => sampleNode(s, cluster)));
    const latencyToLast = latency(driver.latencies);

    env.progress(`fanout (${env.crypto}): profiling server a`);
    const profiler = await CpuProfiler.attach(servers[0]);
    await profiler.start();
    await driver.closedLoop(window, scaled(env, 3000, 300));
    const profile = await profiler.stop();
    await profiler.close();

    // One fresh message, opened and verified by a member on each server.
    const fresh = await build(0, "fresh from a0");
    const readers = groups.map((g) => g[g.length - 1]);
    const got = readers.map((r) =>
      r.socket!.first((t) => typeOf(t) === "MSG_PUBLIC_CHANNEL" && tsOf(t) === String(fresh.ts))
    );
    driver.sendFrame(0, fresh);
    const texts = await Promise.all(got);
    const verified = (await Promise.all(readers.map(async (reader, s) => {
      const frame = JSON.parse(texts[s]) as FrameOf<"MSG_PUBLIC_CHANNEL">;
      const readerKeys = await channelKeyOf(reader, lastKey.get(reader), servers[s]);
      const plain = await readerKeys.open(frame.payload.ciphertext, frame.payload.key_version);
      return plain !== null && new TextDecoder().decode(plain) === "fresh from a0" &&
        await verifyPublicContentSig(
          senders[0].identity.keys.publicKey,
          publicSigFieldsOf(frame),
          frame.payload.content_sig,
        );
    }))).every(Boolean);

    const deliveriesPerSec = perSec * (members.length - 1);
    return {
      crypto: env.crypto,
      servers: servers.length,
      membersPerServer: perServer,
      inFlightPerSender: window,
      seconds,
      messagesPerSec: round(perSec, 1),
      deliveriesPerSec: round(deliveriesPerSec),
      latencyToLast,
      deliveriesPerEcho: ratio(deliveriesPerSec, ceilings.wsEchoPerSec),
      nodes: before.map((b, i) => nodeRates(b, after[i])),
      verified,
      profile,
    };
  } finally {
    await closeUsers(members);
    await cluster.close();
  }
}
