// The terminal client's line editor and background transfers in a real
// pseudo-terminal (tmux, 80 columns): a 300-character line wraps and stays
// put while messages arrive, wide characters keep the cursor right, Tab
// completes, /cancel and Ctrl-C stop a transfer (only it), colours follow
// NO_COLOR, history survives a restart, /me and /clear.

import assert from "node:assert/strict";
import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import { randomBytes } from "../_bytes.ts";
import { PASSWORD, provisionIdentity } from "../_client_proc.ts";
import { Cluster, type NodeProcess, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { tmux } from "../_tmux.ts";

const CLIENT = new URL("../../client/main.ts", import.meta.url).pathname;

/** A socp-client in an 80×30 tmux pane. */
class Pane {
  readonly socket = `socp-edit-${crypto.randomUUID().slice(0, 8)}`;

  async start(cluster: Cluster, server: NodeProcess, dataDir: string, env: string, files: string) {
    const command = [
      `env ${env} SOCP_PASSWORD='${PASSWORD}'`,
      Deno.execPath(),
      "run --allow-net",
      `--allow-read=${dataDir},${cluster.certs.caCert},${files}`,
      `--allow-write=${dataDir} --allow-env=SOCP_*,NO_COLOR`,
      CLIENT,
      `--server ${server.url} --user alice --data ${dataDir} --ca ${cluster.certs.caCert}`,
    ].join(" ");
    await tmux(this.socket, "new-session", "-d", "-s", "chat", "-x", "80", "-y", "30", command);
    await this.see("connected to");
  }

  /** The screen, rows trimmed at the right (with `-e`, colours included). */
  async screen(escapes = false): Promise<string[]> {
    const text = await tmux(
      this.socket,
      "capture-pane",
      "-p",
      ...(escapes ? ["-e"] : []),
      "-t",
      "chat",
    );
    return text.split("\n").map((row) => row.trimEnd());
  }

  async see(text: string, timeoutMs = 15_000): Promise<void> {
    await waitUntil(
      async () => (await this.screen()).join("\n").includes(text),
      timeoutMs,
      `"${text}" on screen`,
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}\n${(await this.screen()).join("\n")}`);
    });
  }

  keys(...keys: string[]): Promise<string> {
    return tmux(this.socket, "send-keys", "-t", "chat", ...keys);
  }

  async type(text: string, enter = true): Promise<void> {
    await tmux(this.socket, "send-keys", "-t", "chat", "-l", text);
    if (enter) await this.keys("Enter");
  }

  async exited(): Promise<void> {
    await waitUntil(
      async () => !(await tmux(this.socket, "list-sessions").catch(() => "")).includes("chat"),
      10_000,
      "the client to exit",
    );
  }

  async close(): Promise<void> {
    await tmux(this.socket, "kill-server").catch(() => {});
  }
}

Deno.test("terminal line editor: wrapping, wide characters, Tab, /cancel, Ctrl-C, colours, history", async () => {
  const cluster = await Cluster.create(0);
  const adapter = new DenoAdapter({ caCert: cluster.caCert, downloadsDir: `${cluster.dir}/dl` });
  const pane = new Pane();
  let bob: SocpClient | undefined;
  try {
    const server = await cluster.server("solo", []);
    const dataDir = `${cluster.dir}/alice`;
    await provisionIdentity(dataDir, "alice", KEYS.A);
    const outbox = `${cluster.dir}/outbox`;
    await Deno.mkdir(outbox);
    // RSA-mode chunks (bob does not list file-aesgcm): slow enough to be cancelled.
    await Deno.writeFile(`${outbox}/big.bin`, randomBytes(400_000));
    // CI runs with NO_COLOR=1: this run is the one without it.
    await pane.start(cluster, server, dataDir, "-u NO_COLOR", outbox);

    bob = new SocpClient({
      url: server.url,
      identity: { id: crypto.randomUUID(), keys: KEYS.B },
      displayName: "bob",
      adapter,
      caps: ["channel-key"],
    });
    const bobEvents: ClientEvent[] = [];
    bob.events.on((e) => bobEvents.push(e));
    await bob.connect();
    await pane.see("bob (");
    await waitUntil(() => bob!.directory.resolve("alice").ok, 5000, "bob sees alice");

    // Colours: without NO_COLOR the names are coloured.
    await bob.sendDm("alice", "coloured");
    await pane.see("coloured");
    const coloured = (await pane.screen(true)).find((row) => row.includes("coloured"))!;
    // deno-lint-ignore no-control-regex
    assert.match(coloured, /\x1b\[\d+mbob\x1b\[\d*m/, JSON.stringify(coloured));

    // A 300-character line wraps over four rows; a message arriving meanwhile goes above it.
    const long = "x".repeat(300);
    await pane.type(long, false);
    await bob.sendDm("alice", "ping while typing");
    await pane.see("ping while typing");
    const rows = (await pane.screen()).filter(Boolean);
    const prompt = `> ${long}`;
    const expected = [
      prompt.slice(0, 80),
      prompt.slice(80, 160),
      prompt.slice(160, 240),
      prompt.slice(240),
    ];
    assert.deepEqual(rows.slice(-4), expected, rows.join("\n"));
    assert.match(rows.at(-5)!, /^\[\d\d:\d\d:\d\d\] bob → you: ping while typing ✓$/);
    assert.equal(rows.join("").split("x").length - 1, 300, "the typed line is on screen once");
    await pane.keys("C-c"); // clears the line (nothing runs), does not quit
    await waitUntil(
      async () => (await pane.screen()).filter(Boolean).at(-1) === ">",
      5000,
      "an empty prompt",
    );
    assert.ok(!(await pane.screen()).join("").includes("x"), "every row of the line is gone");

    // Wide characters: the cursor moves over them by what they show.
    await pane.type("/all 日本語", false);
    await pane.keys("Left");
    await pane.type("X", false);
    await pane.see("> /all 日本X語");
    await pane.keys("C-e");
    await pane.keys("C-u");

    // Tab completes commands, then names.
    await pane.type("/wh", false);
    await pane.keys("Tab");
    await pane.type("bo", false);
    await pane.keys("Tab");
    await pane.see("> /whois bob");
    await pane.keys("Enter");
    await pane.see("bob: id ");

    // A file in the background: the prompt stays usable; /cancel stops it.
    await pane.type(`/file bob ${outbox}/big.bin`);
    await pane.see("/cancel stops");
    await pane.type("/list");
    await pane.see("2 online:");
    await pane.type("/cancel");
    await pane.see("CANCELLED: sending big.bin was cancelled");
    // Ctrl-C stops a running transfer (and only it: the client stays).
    await pane.type(`/file bob ${outbox}/big.bin`);
    await pane.see("/cancel stops");
    await pane.keys("C-c");
    await pane.see("CANCELLED: sending big.bin was cancelled", 5000);
    await pane.type("/me waves");
    await pane.see("#public * you waves");
    await waitUntil(
      () => bobEvents.some((e) => e.type === "public" && e.text === "/me waves"),
      10_000,
      "bob gets the action",
    );
    assert.ok(!bobEvents.some((e) => e.type === "file"), "no cancelled file was delivered");

    // /clear empties the screen.
    await pane.type("/clear");
    await waitUntil(
      async () => (await pane.screen()).filter(Boolean).join("\n") === ">",
      5000,
      "a clear screen",
    );
    await pane.type("/quit");
    await pane.exited();
    assert.equal((await Deno.stat(`${dataDir}/history`)).mode! & 0o777, 0o600);

    // Next run: NO_COLOR is respected, and Up recalls the last run's commands.
    await pane.start(cluster, server, dataDir, "NO_COLOR=1", outbox);
    await bob.sendDm("alice", "plain now");
    await pane.see("plain now");
    const plain = (await pane.screen(true)).find((row) => row.includes("plain now"))!;
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(plain, /\x1b\[/, "no colour under NO_COLOR");
    await pane.keys("Up");
    await pane.see("> /quit");
    await pane.keys("Up");
    await pane.see("> /clear");
    await pane.keys("C-u");
    await pane.type("/quit");
    await pane.exited();
  } finally {
    await bob?.close();
    adapter.close();
    await pane.close();
    await cluster.close();
  }
});
