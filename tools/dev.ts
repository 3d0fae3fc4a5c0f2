/**
 * `deno task dev`: a local network in one command. It makes a development CA
 * and certificate in `certs/` (only when missing), starts an introducer and
 * two servers on 127.0.0.1 with their data in `.socp/dev/` (identities and
 * SQLite kept across runs), pins the introducer's key in the servers'
 * bootstrap list, and prints the web addresses and the commands to connect
 * clients. Ctrl-C stops everything cleanly.
 *
 * Flags (for tests and custom setups): `--data DIR`, `--certs DIR`,
 * `--ports INTRODUCER,S1,S2`, `--web-ports S1,S2` (0 picks free ports).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ensureDevCertificates } from "../certs/mkcert.ts";
import type { SocpNode } from "../server/node.ts";
import { startLocalNode } from "./_local_node.ts";
import { type BrowserDoor, openBrowserDoor } from "./_dev_web.ts";

const DEV_HELP = `deno task dev [options]

A local network: an introducer and two servers on 127.0.0.1 with TLS from a
development CA, ready to chat; it prints the web addresses (one per server,
plain http on 127.0.0.1, so the browser needs no certificate) and the
terminal client commands. Ctrl-C stops it.

  --ports I,S1,S2   introducer and server ports (default 8765,8443,8444; 0 picks a free one)
  --web-ports S1,S2 browser ports of the servers (default 8090,8091; 0 picks a free one)
  --data DIR        identities and databases (default .socp/dev; kept between runs)
  --certs DIR       development CA and certificate (default certs; made on first run)
  -h, --help        this text`;

function options() {
  try {
    return parseArgs({
      args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
      options: {
        data: { type: "string", default: ".socp/dev" },
        certs: { type: "string", default: "certs" },
        ports: { type: "string", default: "8765,8443,8444" },
        "web-ports": { type: "string", default: "8090,8091" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    console.error(`socp dev: ${(e as Error).message} (try --help)`);
    Deno.exit(2);
  }
}
const values = options();
if (values.help) {
  console.log(DEV_HELP);
  Deno.exit(0);
}
const ports = values.ports.split(",").map(Number);
if (ports.length !== 3 || ports.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) {
  console.error(
    "socp dev: --ports needs three ports: INTRODUCER,SERVER1,SERVER2 (0 picks a free one)",
  );
  Deno.exit(2);
}
const webPorts = values["web-ports"].split(",").map(Number);
if (webPorts.length !== 2 || webPorts.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) {
  console.error("socp dev: --web-ports needs two ports: SERVER1,SERVER2 (0 picks a free one)");
  Deno.exit(2);
}

const certs = await ensureDevCertificates(values.certs, ["127.0.0.1", "localhost"]);
const caCerts = [await Deno.readTextFile(certs.caCert)];
const local = { dataDir: values.data, certs, logLevel: "info" as const };

console.log(
  "socp dev: starting an introducer and two servers (first run: generating RSA-4096 keys, a few seconds)…",
);
let nodes: SocpNode[] = [];
const doors: BrowserDoor[] = [];
try {
  const introducer = await startLocalNode(local, "introducer", "introducer", ports[0], []);
  nodes = [introducer];
  nodes.push(await startLocalNode(local, "server", "s1", ports[1], [introducer]));
  nodes.push(await startLocalNode(local, "server", "s2", ports[2], [introducer]));
  for (const [i, server] of nodes.slice(1).entries()) {
    const url = `wss://127.0.0.1:${server.address.port}/ws`;
    try {
      doors.push(openBrowserDoor(webPorts[i], url, caCerts[0]));
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
      throw new Error(
        `web port ${webPorts[i]} is in use (another dev network?); pick others with --web-ports`,
      );
    }
  }
} catch (e) {
  console.error(`socp dev: ${(e as Error).message}`);
  for (const door of doors) await door.close();
  for (const node of nodes) await node.stop();
  Deno.exit(1);
}

const [introducer, s1, s2] = nodes;
console.log(`
socp dev network is up:
  introducer  wss://127.0.0.1:${introducer.address.port}/ws  (data ${values.data}/introducer)
  server s1   wss://127.0.0.1:${s1.address.port}/ws  (data ${values.data}/s1)   health https://127.0.0.1:${s1.address.port}/healthz
  server s2   wss://127.0.0.1:${s2.address.port}/ws  (data ${values.data}/s2)   health https://127.0.0.1:${s2.address.port}/healthz

Chat in the browser: open each address in its own tab and create a user there:
  http://127.0.0.1:${doors[0].port}/   (server s1)
  http://127.0.0.1:${doors[1].port}/   (server s2)

Or connect users, each in its own terminal:
  deno task client -- --server wss://127.0.0.1:${s1.address.port}/ws --user alice --ca ${certs.caCert}
  deno task client -- --server wss://127.0.0.1:${s2.address.port}/ws --user bob --ca ${certs.caCert}

Press Ctrl-C to stop.
`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("socp dev: stopping…");
  for (const door of doors) await door.close();
  for (const node of [...nodes].reverse()) await node.stop();
  console.log("socp dev: stopped");
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
