/**
 * Mesh bookkeeping that needs no socket: which server holds an address,
 * forgetting an announced server that never answered, and forgetting the
 * users of servers we have had no link to for too long.
 *
 * @module
 */

import type { NodeContext } from "./context.ts";
import type { Effect } from "./effects.ts";
import { forgetPeerUsers } from "./_link_sync.ts";
import { releasePendingMove } from "./handlers/directory.ts";
import { LOCAL, type ServerAddress, type ServerState } from "./state.ts";

/**
 * The server that is this node, or that holds a live link, at `address`:
 * an announcement naming another id there is a lie (or stale), and dialling
 * it would only cut the real link as a duplicate.
 */
export function addressTaken(
  state: ServerState,
  serverId: string,
  address: ServerAddress,
): string | undefined {
  const same = (a?: ServerAddress) => a?.host === address.host && a?.port === address.port;
  if (same(state.address)) return state.self.id;
  for (const [id, link] of state.links) {
    if (id !== serverId && !link.closed && same(state.serverAddrs.get(id))) return id;
  }
  return undefined;
}

/** Forgets what we keep of an announced server that never answered: pin, address, caps. */
export function forgetAnnouncedServer(ctx: NodeContext, serverId: string): Effect[] {
  const { state, log } = ctx;
  log.info("forgetting an announced server that never answered", { server: serverId });
  state.unconfirmedServers.delete(serverId);
  state.pins.delete(serverId);
  state.serverAddrs.delete(serverId);
  state.peerCaps.delete(serverId);
  state.peerDialects.delete(serverId);
  state.heartbeatPeers.delete(serverId);
  return [{ kind: "persist", write: (store) => store.deleteServer(serverId) }];
}

/**
 * Users learned (through another server's relay) on a server we have had no
 * link to for two link timeouts cannot be routed to: they are forgotten, as
 * after a lost link.
 */
export class UnreachableHosts {
  readonly #since = new Map<string, number>();

  /** A link to `serverId` is up (or expected): its clock restarts. */
  linked(serverId: string): void {
    this.#since.delete(serverId);
  }

  /** Forgets the users of servers unlinked for too long; `awaiting` are not counted yet. */
  async sweep(ctx: NodeContext, now: number, awaiting: ReadonlySet<string>): Promise<Effect[]> {
    const { state, config } = ctx;
    const hosts = new Set<string>();
    for (const at of state.userLocations.values()) {
      if (at !== LOCAL && !state.links.has(at) && !awaiting.has(at)) hosts.add(at);
    }
    for (const id of this.#since.keys()) {
      if (!hosts.has(id)) this.#since.delete(id);
    }
    const effects: Effect[] = [];
    for (const id of hosts) {
      const since = this.#since.get(id) ?? now;
      this.#since.set(id, since);
      if (now - since < 2 * config.limits.linkTimeoutMs) continue;
      this.#since.delete(id);
      const { gone, effects: notices } = await forgetPeerUsers(ctx, id);
      effects.push(...notices);
      for (const userId of gone) effects.push(...await releasePendingMove(ctx, userId));
    }
    return effects;
  }
}
