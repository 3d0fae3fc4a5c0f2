// The interactive REPL in a real pseudo-terminal (tmux), the CLI's exit
// codes, and the SDK reconnecting after its server restarts.

import assert from "node:assert/strict";
import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import { randomBytes } from "../_bytes.ts";
import { ClientProcess, PASSWORD, provisionIdentity } from "../_client_proc.ts";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { tmux } from "../_tmux.ts";

const CLIENT = new URL("../../client/main.ts", import.meta.url).pathname;

Deno.test("REPL in a terminal: /help, /list, a received message, a progress bar, history", async () => {
  const cluster = await Cluster.create(0);
  const socket = `socp-test-${crypto.randomUUID().slice(0, 8)}`;
  const downloads = await Deno.makeTempDir({ dir: cluster.dir });
  const adapter = new DenoAdapter({ caCert: cluster.caCert, downloadsDir: downloads });
  let bob: SocpClient | undefined;
  try {
    const server = await cluster.server("solo", []);
    const dataDir = `${cluster.dir}/alice`;
    await provisionIdentity(dataDir, "alice", KEYS.A);
    const outbox = `${cluster.dir}/outbox`;
    await Deno.mkdir(outbox);
    await Deno.writeFile(`${outbox}/notes.bin`, randomBytes(3000));
    const command = [
      `env SOCP_PASSWORD='${PASSWORD}' NO_COLOR=1`,
      Deno.execPath(),
      "run --allow-net",
      `--allow-read=${dataDir},${cluster.certs.caCert},${outbox}`,
      `--allow-write=${dataDir} --allow-env=SOCP_*`,
      CLIENT,
      `--server ${server.url} --user alice --data ${dataDir} --ca ${cluster.certs.caCert}`,
    ].join(" ");
    await tmux(socket, "new-session", "-d", "-s", "chat", "-x", "160", "-y", "45", command);
    const screen = () => tmux(socket, "capture-pane", "-p", "-t", "chat");
    const see = (text: string, timeoutMs = 15_000) =>
      waitUntil(
        async () => (await screen()).includes(text),
        timeoutMs,
        `"${text}" on screen:\n${"" /* filled below */}`,
      ).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await screen()}`);
      });
    const type = async (text: string) => {
      await tmux(socket, "send-keys", "-t", "chat", "-l", text);
      await tmux(socket, "send-keys", "-t", "chat", "Enter");
    };

    await see("connected to");
    await type("/help");
    await see("/tell <name|id> <text>");

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
    await type("/list");
    await see("2 online:");
    await waitUntil(() => bob!.directory.resolve("alice").ok, 5000, "bob sees alice");
    await bob.sendDm("alice", "hello tty");
    await see("bob → you: hello tty ✓");

    await type(`/file bob ${outbox}/notes.bin`);
    await see("100%");
    await see("sent notes.bin to bob");
    await waitUntil(
      () => bobEvents.some((e) => e.type === "file"),
      10_000,
      "bob receives the file",
    );

    // Up recalls the previous command into the prompt.
    await tmux(socket, "send-keys", "-t", "chat", "Up");
    await see(`> /file bob ${outbox}/notes.bin`);
    await tmux(socket, "send-keys", "-t", "chat", "C-u");
    await type("/quit");
    await waitUntil(
      async () => !(await tmux(socket, "list-sessions").catch(() => "")).includes("chat"),
      10_000,
      "the client to exit",
    );
  } finally {
    await bob?.close();
    adapter.close();
    await tmux(socket, "kill-server").catch(() => {});
    await cluster.close();
  }
});

async function runClient(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string; stdout: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLIENT, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
    stdout: new TextDecoder().decode(out.stdout),
  };
}

Deno.test("CLI exit codes: usage 2, wrong password or unsafe identity file 3, refused hello 1", async () => {
  const cluster = await Cluster.create(2);
  try {
    const server = await cluster.server("solo", []);
    const base = ["--server", server.url, "--ca", cluster.certs.caCert, "--json"];
    const missing = await runClient(["--server", server.url], {});
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--user NAME are required/);

    const dataDir = `${cluster.dir}/carol`;
    await provisionIdentity(dataDir, "carol", await fixtureKeys(9));
    const wrong = await runClient([...base, "--user", "carol", "--data", dataDir], {
      SOCP_PASSWORD: "not it",
    });
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /wrong password/);

    await Deno.chmod(`${dataDir}/identity.json`, 0o644);
    const exposed = await runClient([...base, "--user", "carol", "--data", dataDir], {
      SOCP_PASSWORD: PASSWORD,
    });
    assert.equal(exposed.code, 3);
    assert.match(exposed.stderr, /must not be readable/);
    await Deno.chmod(`${dataDir}/identity.json`, 0o600);

    // The same identity twice: the second session is refused (NAME_IN_USE) and exits 1.
    const first = await ClientProcess.start(cluster, server, "dave", KEYS.A);
    const dave = first.dataDir;
    const second = await runClient([...base, "--user", "dave", "--data", dave], {
      SOCP_PASSWORD: PASSWORD,
    });
    assert.equal(second.code, 1);
    assert.match(second.stdout, /"NAME_IN_USE"/);
    assert.equal(await first.quit(), 0);
  } finally {
    await cluster.close();
  }
});

Deno.test("the SDK reconnects with backoff after its server restarts, and works again", async () => {
  const cluster = await Cluster.create(4);
  const downloads = await Deno.makeTempDir({ dir: cluster.dir });
  const adapter = new DenoAdapter({ caCert: cluster.caCert, downloadsDir: downloads });
  const events: ClientEvent[] = [];
  let client: SocpClient | undefined;
  try {
    const server = await cluster.server("solo", []);
    client = new SocpClient({
      url: server.url,
      identity: { id: crypto.randomUUID(), keys: KEYS.A },
      displayName: "ann",
      adapter,
    });
    client.events.on((e) => events.push(e));
    await client.connect();
    await server.kill9();
    await waitUntil(
      () => events.some((e) => e.type === "disconnected" && e.retryInMs !== undefined),
      5000,
      "a disconnected event",
    );
    await server.restart();
    await waitUntil(
      () => events.filter((e) => e.type === "ready").length === 2,
      30_000,
      "ready again",
    );
    assert.ok(client.connected);
    const users = await client.list();
    assert.deepEqual(users.map((u) => u.display_name), ["ann"]);
  } finally {
    await client?.close();
    adapter.close();
    await cluster.close();
  }
});
