// socp-client processes for end-to-end tests: each gets a data directory
// with a pre-made identity (a fixture key, sealed as the client would seal
// it), runs with narrow permissions, is driven through stdin, and reports
// `--json` events on stdout.

import { IDENTITY_FILE } from "../client/deno.ts";
import { sealIdentity } from "../client/keystore.ts";
import type { KeyPair } from "../mod.ts";
import { type Cluster, type NodeProcess, waitUntil } from "./_cluster.ts";

const ENTRY = new URL("../client/main.ts", import.meta.url).pathname;
export const PASSWORD = "correct horse battery staple";

/** A `--json` event line. */
export type JsonEvent = Record<string, unknown> & { event: string };

/** Writes an identity for `keys` into `dataDir`, as the client would on first run. */
export async function provisionIdentity(
  dataDir: string,
  name: string,
  keys: KeyPair,
): Promise<string> {
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const id = crypto.randomUUID();
  const sealed = await sealIdentity({ id, keys }, PASSWORD, name);
  await Deno.writeTextFile(`${dataDir}/${IDENTITY_FILE}`, JSON.stringify(sealed), { mode: 0o600 });
  return id;
}

/** One running `socp-client --json`. */
export class ClientProcess {
  readonly name: string;
  readonly dataDir: string;
  readonly events: JsonEvent[] = [];
  readonly stderr: string[] = [];
  userId = "";
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #readers: Promise<void>[];

  private constructor(name: string, dataDir: string, child: Deno.ChildProcess) {
    this.name = name;
    this.dataDir = dataDir;
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#readers = [
      this.#collect(child.stdout, (line) => {
        try {
          this.events.push(JSON.parse(line));
        } catch {
          this.stderr.push(`stdout: ${line}`);
        }
      }),
      this.#collect(child.stderr, (line) => this.stderr.push(line)),
    ];
  }

  /** Starts a client for `name` on `server`, with an identity made from `keys`; `readable` lists extra readable dirs. */
  static async start(
    cluster: Cluster,
    server: NodeProcess,
    name: string,
    keys: KeyPair,
    readable: string[] = [],
  ): Promise<ClientProcess> {
    const dataDir = `${cluster.dir}/client-${name}`;
    const permissions = [
      "--allow-net",
      `--allow-read=${[dataDir, cluster.certs.caCert, ...readable].join(",")}`,
      `--allow-write=${dataDir}`,
      "--allow-env=SOCP_*,NO_COLOR",
    ];
    return await ClientProcess.run([Deno.execPath(), "run", ...permissions, ENTRY], {
      name,
      dataDir,
      keys,
      url: server.url,
      caCert: cluster.certs.caCert,
    });
  }

  /** Starts `previous`'s user again (same data directory and identity) on `server`. */
  static async again(
    cluster: Cluster,
    server: NodeProcess,
    previous: ClientProcess,
  ): Promise<ClientProcess> {
    const dataDir = previous.dataDir;
    const permissions = [
      "--allow-net",
      `--allow-read=${[dataDir, cluster.certs.caCert].join(",")}`,
      `--allow-write=${dataDir}`,
      "--allow-env=SOCP_*,NO_COLOR",
    ];
    return await ClientProcess.run([Deno.execPath(), "run", ...permissions, ENTRY], {
      name: previous.name,
      dataDir,
      userId: previous.userId,
      url: server.url,
      caCert: cluster.certs.caCert,
    });
  }

  /**
   * Runs `command` (e.g. a bundled socp-client) for a user whose identity is
   * made from `keys` (or, given `userId`, is already in `dataDir`).
   */
  static async run(
    command: string[],
    user: {
      name: string;
      dataDir: string;
      url: string;
      caCert: string;
      cwd?: string;
    } & ({ keys: KeyPair } | { userId: string }),
  ): Promise<ClientProcess> {
    const userId = "userId" in user
      ? user.userId
      : await provisionIdentity(user.dataDir, user.name, user.keys);
    const child = new Deno.Command(command[0], {
      args: [
        ...command.slice(1),
        "--server",
        user.url,
        "--user",
        user.name,
        "--data",
        user.dataDir,
        "--ca",
        user.caCert,
        "--json",
      ],
      cwd: user.cwd,
      env: { SOCP_PASSWORD: PASSWORD, NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const client = new ClientProcess(user.name, user.dataDir, child);
    client.userId = userId;
    await client.next((e) => e.event === "ready", 20_000);
    return client;
  }

  async #collect(stream: ReadableStream<Uint8Array>, sink: (line: string) => void): Promise<void> {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      parts.filter(Boolean).forEach(sink);
    }
    if (buffer) sink(buffer);
  }

  /** Types a command. */
  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /** Waits for an event matching `match`. */
  async next(match: (e: JsonEvent) => boolean, timeoutMs = 15_000): Promise<JsonEvent> {
    let found: JsonEvent | undefined;
    await waitUntil(
      () => (found = this.events.find(match)) !== undefined,
      timeoutMs,
      `${this.name}: matching event (stderr: ${this.stderr.join(" | ")})`,
    );
    return found!;
  }

  /** Sends /quit, closes stdin and waits for the exit code. */
  async quit(): Promise<number> {
    try {
      await this.send("/quit");
      await this.#stdin.close();
    } catch {
      // already gone
    }
    const status = await this.#child.status;
    await Promise.all(this.#readers);
    return status.code;
  }
}
