// In-process fixtures for handler tests: a node context with an in-memory
// store, and links over fake sockets that record what is sent to them.

import { parseConfig } from "../../server/config.ts";
import type { NodeContext } from "../../server/context.ts";
import type { RouteTables } from "../../server/dispatch.ts";
import { Link, type LinkKind } from "../../server/link.ts";
import { createLogger } from "../../server/log.ts";
import { Metrics } from "../../server/metrics.ts";
import { routeTables } from "../../server/routes.ts";
import { ServerState } from "../../server/state.ts";
import { Store } from "../../server/store.ts";
import { KEYS } from "../_vectors.ts";

/** A link whose socket records sent texts. */
export interface FakeLink extends Link {
  sent: string[];
}

/** A node context over an in-memory store, its route tables, and a link factory. */
export function inProcess(args: string[] = []): {
  ctx: NodeContext;
  tables: RouteTables;
  link(kind: LinkKind, peerId?: string): FakeLink;
  close(): void;
} {
  const parsed = parseConfig("server", ["--insecure-plain", ...args], {});
  if (!parsed.ok) throw new Error("bad test config");
  const store = Store.open(":memory:");
  const ctx: NodeContext = {
    state: new ServerState({ id: crypto.randomUUID(), keys: KEYS.B }),
    store,
    config: parsed.config,
    log: createLogger({ sink: () => {} }),
    metrics: new Metrics(),
    now: Date.now,
  };
  return {
    ctx,
    tables: routeTables(parsed.config),
    link(kind, peerId) {
      const sent: string[] = [];
      const socket = {
        readyState: WebSocket.OPEN,
        send: (t: string) => sent.push(t),
        close() {},
      } as unknown as WebSocket;
      const link = Object.assign(
        new Link({ socket, remote: "test", dialledByUs: false, now: Date.now() }),
        { sent },
      );
      link.kind = kind;
      link.peerId = peerId;
      if (kind === "server" && peerId) ctx.state.links.set(peerId, link);
      return link;
    },
    close: () => store.close(),
  };
}
