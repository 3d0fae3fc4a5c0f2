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
import { parseConfig, type Role } from "../server/config.ts";
import { createLogger } from "../server/log.ts";
import { SocpNode } from "../server/node.ts";

const dir = await Deno.makeTempDir({ prefix: "socp-conformance-" });
const nodes: SocpNode[] = [];
let status = 1;
try {
  const certs = await ensureDevCertificates(`${dir}/certs`, ["127.0.0.1", "localhost"]);
  const tls = {
    cert: await Deno.readTextFile(certs.cert),
    key: await Deno.readTextFile(certs.key),
  };
  const caCerts = [await Deno.readTextFile(certs.caCert)];
  const start = async (role: Role, name: string, bootstrap: SocpNode[]) => {
    const parsed = parseConfig(role, [
      "--port",
      "0",
      "--data",
      `${dir}/${name}`,
      "--tls-cert",
      certs.cert,
      "--tls-key",
      certs.key,
      "--ca",
      certs.caCert,
    ], {});
    if (!parsed.ok) throw new Error("error" in parsed ? parsed.error : "bad config");
    const log = createLogger({ level: "error", format: "text", fields: { node: name } });
    const entries = bootstrap.map((n) => ({
      host: "127.0.0.1",
      port: n.address.port,
      pubkey: n.ctx.state.self.keys.publicKey.b64,
    }));
    const node = await SocpNode.start(parsed.config, { tls, caCerts, bootstrap: entries, log });
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
