// Section 6: gossip convergence. Eight servers in a full mesh, one observer
// client on each (without presence-lite, so its server relays each
// USER_ADVERTISE the moment it has verified and applied it, i.e. the moment
// it can route to that user). Users join one at a time, round-robin over the
// servers; for each, the time from sending its hello until the observers of
// all seven other servers have the advert.

import { Cluster } from "../tests/_cluster.ts";
import { CHANNEL_KEY_CAP } from "../mod.ts";
import { BenchSocket, typeOf } from "./_socket.ts";
import { type BackendName, type BenchEnv, scaled } from "./_env.ts";
import { startMesh } from "./_nodes.ts";
import { type Latency, latency, sleep } from "./_stats.ts";
import { closeUsers, makeUsers, signHellos } from "./_users.ts";

/** Figures of the gossip section. */
export interface GossipResult {
  /** The servers' RSA backend. */
  crypto: BackendName;
  servers: number;
  joins: number;
  /** Hello sent → every other server can route to the user. */
  convergence: Latency;
  /** Hello sent → ACK from the user's own server. */
  ack: Latency;
}

const advertisedUser = (text: string) => /"user_id":"([^"]+)"/.exec(text)?.[1];

/** Runs the gossip section on `env.crypto` servers. */
export async function benchGossip(env: BenchEnv): Promise<GossipResult> {
  const cluster = await Cluster.create(80, "info", env.crypto);
  const count = scaled(env, 8, 3);
  const joins = scaled(env, 96, 6);
  const observers = await makeUsers(count, "observer", 80);
  const joiners = await makeUsers(joins, "joiner", 90);
  try {
    env.progress(`gossip (${env.crypto}): starting ${count} servers`);
    const servers = await startMesh(cluster, count);
    // Plain adverts (no presence-lite), so arrival time is the server's apply time.
    const observerHellos = await signHellos(observers, { caps: [CHANNEL_KEY_CAP] });
    for (const [i, observer] of observers.entries()) {
      observer.socket = await BenchSocket.open(servers[i].url, cluster.client);
      await observer.socket.hello(observerHellos[i]);
    }
    const hellos = await signHellos(joiners);
    const seen = new Map<string, { sentAt: number; missing: Set<number>; done: () => void }>();
    const convergence: number[] = [];
    observers.forEach((observer, i) => {
      observer.socket!.onText = (text) => {
        if (typeOf(text) !== "USER_ADVERTISE") return;
        const entry = seen.get(advertisedUser(text) ?? "");
        if (!entry?.missing.delete(i) || entry.missing.size > 0) return;
        convergence.push(performance.now() - entry.sentAt);
        entry.done();
      };
    });

    env.progress(`gossip: ${joins} users join one at a time`);
    const acks: number[] = [];
    for (const [j, joiner] of joiners.entries()) {
      const home = j % count;
      const socket = joiner.socket = await BenchSocket.open(servers[home].url, cluster.client);
      const others = new Set(servers.map((_, i) => i).filter((i) => i !== home));
      const everywhere = new Promise<void>((done) =>
        seen.set(joiner.identity.id, { sentAt: performance.now(), missing: others, done })
      );
      const sentAt = performance.now();
      await socket.hello(hellos[j]);
      acks.push(performance.now() - sentAt);
      await Promise.race([everywhere, sleep(30_000)]);
      await sleep(50);
    }
    if (convergence.length < joins) throw new Error("some users never reached every server");
    return {
      crypto: env.crypto,
      servers: count,
      joins,
      convergence: latency(convergence),
      ack: latency(acks),
    };
  } finally {
    await closeUsers([...observers, ...joiners]);
    await cluster.close();
  }
}
