// The bundled client in a terminal asks before reading a file outside its
// --files directories, as its --help promises (issue 15, item 6): the
// relaunched child may prompt when stdin is a terminal. In tmux, against a
// real server; the user answers y and the file goes out.

import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import { bundleAll } from "../../tools/bundle.ts";
import { randomBytes } from "../_bytes.ts";
import { PASSWORD, provisionIdentity } from "../_client_proc.ts";
import { Cluster, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { tmux } from "../_tmux.ts";

Deno.test("the bundled client asks in a terminal before reading a file, and sends it once allowed", async () => {
  const cluster = await Cluster.create(0);
  const socket = `socp-test-${crypto.randomUUID().slice(0, 8)}`;
  const adapter = new DenoAdapter({
    caCert: cluster.caCert,
    downloadsDir: await Deno.makeTempDir({ dir: cluster.dir }),
  });
  let bob: SocpClient | undefined;
  try {
    const [, , clientBin] = await bundleAll(`${cluster.dir}/dist`);
    const server = await cluster.server("solo", []);
    const dataDir = `${cluster.dir}/alice`;
    await provisionIdentity(dataDir, "alice", KEYS.A);
    const elsewhere = await Deno.makeTempDir({ dir: cluster.dir });
    await Deno.writeFile(`${elsewhere}/photo.bin`, randomBytes(2000));
    const command = [
      `env SOCP_PASSWORD='${PASSWORD}' NO_COLOR=1`,
      clientBin,
      `--server ${server.url} --user alice --data ${dataDir} --ca ${cluster.certs.caCert}`,
    ].join(" ");
    await tmux(socket, "new-session", "-d", "-s", "chat", "-x", "160", "-y", "45", command);
    const screen = () => tmux(socket, "capture-pane", "-p", "-t", "chat");
    const see = (text: string) =>
      waitUntil(async () => (await screen()).includes(text), 20_000, `"${text}"`).catch(
        async (e) => {
          throw new Error(`${(e as Error).message}\n${await screen()}`);
        },
      );
    await see("connected to");
    bob = new SocpClient({
      url: server.url,
      identity: { id: crypto.randomUUID(), keys: KEYS.B },
      displayName: "bob",
      adapter,
    });
    const bobEvents: ClientEvent[] = [];
    bob.events.on((e) => bobEvents.push(e));
    await bob.connect();
    await see("bob (");
    await tmux(socket, "send-keys", "-t", "chat", "-l", `/file bob ${elsewhere}/photo.bin`);
    await tmux(socket, "send-keys", "-t", "chat", "Enter");
    // Deno's own permission prompt, for this one file.
    await see("read access");
    // Deno flushes what was typed ahead of its question: answer once it waits.
    await new Promise((r) => setTimeout(r, 500));
    await tmux(socket, "send-keys", "-t", "chat", "y", "Enter");
    await see("sent photo.bin to bob");
    await waitUntil(() => bobEvents.some((e) => e.type === "file"), 10_000, "bob's file");
  } finally {
    await bob?.close();
    adapter.close();
    await tmux(socket, "kill-server").catch(() => {});
    await cluster.close();
  }
});
