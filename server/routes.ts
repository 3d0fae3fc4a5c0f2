/**
 * The dispatch tables: for each kind of link, message type → route.
 *
 * @module
 */

import type { NodeConfig } from "./config.ts";
import type { RouteTable } from "./context.ts";
import type { RouteTables } from "./dispatch.ts";
import { CHANNEL_SERVER_ROUTES, CHANNEL_USER_ROUTES } from "./handlers/channel.ts";
import { DIRECTORY_SERVER_ROUTES } from "./handlers/directory.ts";
import { FILE_SERVER_ROUTES, FILE_USER_ROUTES } from "./handlers/files.ts";
import { OFFLINE_SERVER_ROUTES } from "./handlers/offline.ts";
import { joinRoute, welcomeRoute } from "./handlers/join.ts";
import { SERVER_LINK_ROUTES, serverHelloRoute } from "./handlers/server_links.ts";
import { helloRoute } from "./handlers/hello.ts";
import {
  clientHeartbeatRoute,
  commandRoute,
  directRoute,
  listRoute,
  lookupRoute,
} from "./handlers/users.ts";

/**
 * The route tables of a node with this configuration. A type missing from a
 * link kind's table gets UNKNOWN_TYPE there: user links can never send
 * server-only frames such as USER_ADVERTISE or SERVER_DELIVER.
 *
 * @example
 * ```ts
 * import { routeTables } from "./routes.ts";
 * // routeTables(config).user.MSG_DIRECT
 * ```
 */
export function routeTables(config: NodeConfig): RouteTables {
  const pending: RouteTable = {
    SERVER_HELLO_LINK: serverHelloRoute,
    SERVER_ANNOUNCE: serverHelloRoute,
  };
  // Dialect C opens every link with a JOIN, so servers that are not introducers take it too.
  pending.SERVER_HELLO_JOIN = joinRoute;
  if (config.hostsUsers) pending.USER_HELLO = helloRoute;
  const linkLocal = {
    CTRL_CLOSE: SERVER_LINK_ROUTES.CTRL_CLOSE,
    ERROR: SERVER_LINK_ROUTES.ERROR,
    ACK: SERVER_LINK_ROUTES.ACK,
  };
  return {
    pending,
    joining: { SERVER_WELCOME: welcomeRoute },
    server: {
      ...SERVER_LINK_ROUTES,
      ...DIRECTORY_SERVER_ROUTES,
      ...CHANNEL_SERVER_ROUTES,
      ...FILE_SERVER_ROUTES,
      ...OFFLINE_SERVER_ROUTES,
    },
    user: {
      MSG_DIRECT: directRoute,
      LIST_REQUEST: listRoute,
      USER_LOOKUP: lookupRoute,
      COMMAND: commandRoute,
      HEARTBEAT: clientHeartbeatRoute,
      ...CHANNEL_USER_ROUTES,
      ...FILE_USER_ROUTES,
      ...linkLocal,
    },
  };
}
