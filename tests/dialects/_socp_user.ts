// A socp SDK user on a node of a test cluster, recording its events: the
// socp side of the dialect pairings. Plain ws:// nodes (B, C) are reached
// with --insecure, TLS ones through the cluster's CA.

import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import type { KeyPair } from "../../mod.ts";
import { type Cluster, fixtureKeys, type NodeProcess } from "../_cluster.ts";

/** Connects a socp user named `name` with fixture key `key` to `server`. */
export async function socpUser(
  cluster: Cluster,
  server: NodeProcess,
  name: string,
  key: number,
): Promise<{ client: SocpClient; events: ClientEvent[]; id: string; keys: KeyPair }> {
  const keys = await fixtureKeys(key);
  const downloadsDir = await Deno.makeTempDir({ dir: cluster.dir });
  const client = new SocpClient({
    url: server.url,
    identity: { id: crypto.randomUUID(), keys },
    displayName: name,
    adapter: new DenoAdapter(
      server.plain ? { insecure: true, downloadsDir } : { caCert: cluster.caCert, downloadsDir },
    ),
  });
  const events: ClientEvent[] = [];
  client.events.on((e) => events.push(e));
  await client.connect();
  return { client, events, id: client.identity.id, keys };
}
