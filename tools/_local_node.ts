/**
 * Starting a node in this process on 127.0.0.1 with the development
 * certificates: what `deno task dev` and `deno task conformance:self` share.
 *
 * @module
 */

import type { DevCertificatePaths } from "../certs/mkcert.ts";
import { parseConfig, type Role } from "../server/config.ts";
import { createLogger, type LogLevel } from "../server/log.ts";
import { SocpNode } from "../server/node.ts";

/** Where the local nodes live and how they log. */
export interface LocalNodes {
  dataDir: string;
  certs: DevCertificatePaths;
  logLevel: LogLevel;
}

/** An introducer entry for `node`, pinned by its key. */
export function entryOf(node: SocpNode): { host: string; port: number; pubkey: string } {
  return {
    host: "127.0.0.1",
    port: node.address.port,
    pubkey: node.ctx.state.self.keys.publicKey.b64,
  };
}

/** Starts the node `name` of `role` on `port` (0: any), joining through `introducers`. */
export async function startLocalNode(
  local: LocalNodes,
  role: Role,
  name: string,
  port: number,
  introducers: SocpNode[],
): Promise<SocpNode> {
  const { certs } = local;
  const parsed = parseConfig(role, [
    "--port",
    String(port),
    "--data",
    `${local.dataDir}/${name}`,
    "--tls-cert",
    certs.cert,
    "--tls-key",
    certs.key,
    "--ca",
    certs.caCert,
  ], {});
  if (!parsed.ok) throw new Error("error" in parsed ? parsed.error : "bad config");
  const tls = {
    cert: await Deno.readTextFile(certs.cert),
    key: await Deno.readTextFile(certs.key),
  };
  const caCerts = [await Deno.readTextFile(certs.caCert)];
  const log = createLogger({ level: local.logLevel, format: "text", fields: { node: name } });
  return await SocpNode.start(parsed.config, {
    tls,
    caCerts,
    bootstrap: introducers.map(entryOf),
    log,
  });
}
