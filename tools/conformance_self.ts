/**
 * `deno task conformance:self`: socp against its own conformance suite. It
 * starts an introducer and two linked servers on 127.0.0.1 (TLS from a
 * fresh development CA, data in a temporary directory), runs the whole
 * suite against both servers, prints the report, and exits with the
 * suite's status (0 when every MUST passes). `.ci/run` runs it.
 *
 * @module
 */

import { ensureDevCertificates } from "../certs/mkcert.ts";
import { conformanceCli } from "../conformance/main.ts";
import type { SocpNode } from "../server/node.ts";
import { startLocalNode } from "./_local_node.ts";

const dir = await Deno.makeTempDir({ prefix: "socp-conformance-" });
const nodes: SocpNode[] = [];
let status = 1;
try {
  const certs = await ensureDevCertificates(`${dir}/certs`, ["127.0.0.1", "localhost"]);
  const local = { dataDir: dir, certs, logLevel: "error" as const };
  const start = async (role: "introducer" | "server", name: string, bootstrap: SocpNode[]) => {
    const node = await startLocalNode(local, role, name, 0, bootstrap);
    nodes.push(node);
    return node;
  };
  const introducer = await start("introducer", "introducer", []);
  const s1 = await start("server", "s1", [introducer]);
  const s2 = await start("server", "s2", [introducer]);
  // The two servers link through the introducer: wait for the mesh before testing across it.
  for (
    let i = 0;
    i < 100 && !s1.ctx.state.serverLinks().some((l) => l.peerId === s2.ctx.state.self.id);
    i++
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  status = await conformanceCli([
    "--server",
    `wss://127.0.0.1:${s1.address.port}/ws`,
    "--server",
    `wss://127.0.0.1:${s2.address.port}/ws`,
    "--ca",
    certs.caCert,
    "--keys",
    `${dir}/keys`,
    "--link-as-server",
    ...Deno.args.filter((a) => a !== "--"),
  ]);
} catch (e) {
  console.error(`socp conformance:self: ${(e as Error).message}`);
} finally {
  for (const node of nodes.reverse()) await node.stop();
  await Deno.remove(dir, { recursive: true });
}
Deno.exit(status);
