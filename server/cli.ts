/**
 * The command-line entry shared by `socp-server` and `socp-introducer`:
 * configuration from flags and `SOCP_*` variables, the files they name,
 * startup, and graceful shutdown on SIGINT/SIGTERM.
 *
 * @module
 */

import { fingerprint } from "../protocol/keys.ts";
import { ENV_NAMES, parseBootstrapFile, parseConfig, type Role } from "./config.ts";
import { writeFileAtomic } from "./identity.ts";
import { type NodeStartOptions, SocpNode } from "./node.ts";

/**
 * The `SOCP_*` variables the roles read.
 *
 * @example
 * ```ts
 * import { readEnv } from "./cli.ts";
 * typeof readEnv(); // "object"
 * ```
 */
export function readEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ENV_NAMES) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function readFile(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/**
 * Runs a node of `role` until SIGINT or SIGTERM. Exits 2 on bad
 * configuration, 1 if startup fails.
 *
 * @example
 * ```ts
 * import { runCli } from "./cli.ts";
 * // await runCli("server", Deno.args);
 * ```
 */
export async function runCli(role: Role, args: string[]): Promise<void> {
  const parsed = parseConfig(role, args, readEnv());
  if (!parsed.ok) {
    if ("help" in parsed) {
      console.log(parsed.help);
      Deno.exit(0);
    }
    console.error(`socp-${role}: ${parsed.error}`);
    Deno.exit(2);
  }
  const config = parsed.config;
  const denied = await missingPermission(config.dataDir);
  if (denied) {
    console.error(`socp-${role}: ${denied}`);
    Deno.exit(2);
  }
  let node: SocpNode;
  try {
    const options: NodeStartOptions = { bootstrap: [...config.introducers] };
    if (config.tlsCert && config.tlsKey) {
      options.tls = {
        cert: await readFile(config.tlsCert, "--tls-cert"),
        key: await readFile(config.tlsKey, "--tls-key"),
      };
    }
    if (config.caFile) options.caCerts = [await readFile(config.caFile, "--ca")];
    if (config.introducersFile) {
      options.bootstrap!.push(
        ...parseBootstrapFile(await readFile(config.introducersFile, "--introducers")),
      );
    }
    node = await SocpNode.start(config, options);
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      console.error(
        `socp-${role}: port ${config.port} on ${config.host} is already in use (another ` +
          "socp node, or `deno task dev`, may be running there): stop it or choose --port",
      );
      Deno.exit(1);
    }
    console.error(`socp-${role}: ${(e as Error).message}`);
    Deno.exit(1);
  }
  if (role === "introducer") await publishBootstrapEntry(node);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await node.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

/** A clear message when this process may not use its data directory (narrow permissions). */
async function missingPermission(dataDir: string): Promise<string | undefined> {
  for (const name of ["read", "write"] as const) {
    const status = await Deno.permissions.query({ name, path: dataDir });
    if (status.state !== "granted") {
      return `needs ${name} access to its data directory ${dataDir}: run with --allow-read=${dataDir} --allow-write=${dataDir} (or choose --data inside the granted directories)`;
    }
  }
  return undefined;
}

/** Writes `bootstrap.json` (with the key), ready for servers' `--introducers`, and logs where. */
async function publishBootstrapEntry(node: SocpNode): Promise<void> {
  const { state, config } = node.ctx;
  const entry = {
    host: state.address.host,
    port: state.address.port,
    pubkey: state.self.keys.publicKey.b64,
  };
  const path = `${config.dataDir}/bootstrap.json`;
  await writeFileAtomic(
    path,
    JSON.stringify({ bootstrap_servers: [entry] }, null, 2) + "\n",
    0o644,
  );
  // Through the logger, so that with --log-format json every line on stdout is JSON.
  node.ctx.log.info("bootstrap entry written", {
    path,
    key_fingerprint: await fingerprint(node.ctx.state.self.keys.publicKey),
    use: `socp-server --introducers ${path}`,
  });
}
