/**
 * The dispatch tables: for each kind of link, message type → route.
 *
 * @module
 */

import type { RouteTable } from "./context.ts";
import type { NodeConfig } from "./config.ts";
import type { RouteTables } from "./dispatch.ts";
import { joinRoute, welcomeRoute } from "./handlers/join.ts";
import { SERVER_LINK_ROUTES, serverHelloRoute } from "./handlers/server_links.ts";

/**
 * The route tables of a node with this configuration.
 *
 * @example
 * ```ts
 * import { routeTables } from "./routes.ts";
 * // routeTables(config).pending.SERVER_HELLO_LINK
 * ```
 */
export function routeTables(config: NodeConfig): RouteTables {
  const pending: RouteTable = {
    SERVER_HELLO_LINK: serverHelloRoute,
    SERVER_ANNOUNCE: serverHelloRoute,
  };
  if (config.acceptJoins) pending.SERVER_HELLO_JOIN = joinRoute;
  return {
    pending,
    joining: { SERVER_WELCOME: welcomeRoute },
    server: SERVER_LINK_ROUTES,
    user: {},
  };
}
