// Test harness: real socp processes (introducers, servers) on 127.0.0.1
// ephemeral ports with TLS from generated dev certificates, each in its own
// temp data dir with a pre-generated test key, run with the narrow
// permissions the roles ship with. Everything is removed by close().

import { type DevCertificatePaths, ensureDevCertificates } from "../certs/mkcert.ts";
import { importPrivateKey, type KeyPair } from "../mod.ts";
import { KEY_FILE, writeIdentityKey } from "../server/identity.ts";
import { type CryptoChoice, isCryptoChoice, selectCrypto } from "../crypto/select.ts";

/**
 * The RSA backend of this test run: `SOCP_TEST_CRYPTO=openssl` runs the nodes
 * with `--crypto openssl` and this process's clients on OpenSSL too.
 */
export const TEST_CRYPTO: CryptoChoice = (() => {
  const choice = Deno.env.get("SOCP_TEST_CRYPTO") ?? "webcrypto";
  if (!isCryptoChoice(choice)) throw new Error(`SOCP_TEST_CRYPTO: ${choice}`);
  if (choice !== "webcrypto") selectCrypto(choice);
  return choice;
})();

const FIXTURE_KEYS: { private_pkcs8_der_b64url: string }[] = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/test-keys.json", import.meta.url)),
).keys;
const keyCache = new Map<number, Promise<KeyPair>>();

/** The i-th pre-generated test key pair (TEST KEYS ONLY). */
export function fixtureKeys(i: number): Promise<KeyPair> {
  const index = i % FIXTURE_KEYS.length;
  if (!keyCache.has(index)) {
    keyCache.set(index, importPrivateKey(FIXTURE_KEYS[index].private_pkcs8_der_b64url));
  }
  return keyCache.get(index)!;
}

const ENTRY = {
  server: new URL("../server/main.ts", import.meta.url).pathname,
  introducer: new URL("../introducer/main.ts", import.meta.url).pathname,
};

/** Log line of a node (JSON log format). */
export type LogEntry = Record<string, unknown> & { msg?: string; level?: string };

/** Resolves when `check` returns true, polling; rejects with `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Sends until it arrives: for messages sent while the receiver may not hold
 * the newest channel key yet (keys converge within a few hundred ms).
 */
export async function resendUntil(
  send: () => Promise<unknown>,
  arrived: () => boolean,
  what: string,
): Promise<void> {
  await waitUntil(
    async () => {
      if (arrived()) return true;
      await send();
      await new Promise((r) => setTimeout(r, 700));
      return arrived();
    },
    20_000,
    what,
  );
}

async function procText(command: string, path: string): Promise<string> {
  const out = await new Deno.Command(command, { args: [path], stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout);
}

/** One running socp process. */
export class NodeProcess {
  readonly name: string;
  readonly role: "server" | "introducer";
  readonly dataDir: string;
  readonly args: string[];
  /** Extra `deno run` flags (e.g. `--inspect=127.0.0.1:0` for profiling). */
  readonly runtimeFlags: string[];
  /** Every stdout/stderr line, in order. */
  readonly lines: string[] = [];
  port = 0;
  id = "";
  pubkey = "";
  #child?: Deno.ChildProcess;
  #readers: Promise<void>[] = [];
  #cluster: Cluster;

  constructor(
    cluster: Cluster,
    name: string,
    role: "server" | "introducer",
    dataDir: string,
    args: string[],
    runtimeFlags: string[] = [],
  ) {
    this.#cluster = cluster;
    this.name = name;
    this.role = role;
    this.dataDir = dataDir;
    this.args = args;
    this.runtimeFlags = runtimeFlags;
  }

  /** Log entries (JSON lines) from line `from` on. */
  entries(from = 0): LogEntry[] {
    return this.lines.slice(from).flatMap((line) => {
      try {
        const value = JSON.parse(line);
        return value && typeof value === "object" ? [value as LogEntry] : [];
      } catch {
        return [];
      }
    });
  }

  /** The `deno` arguments that run this node, with the narrow permissions the roles ship with. */
  denoArgs(): string[] {
    const c = this.#cluster;
    return [
      "run",
      "--allow-net",
      `--allow-read=${this.dataDir},${c.certs.caCert.replace(/\/[^/]+$/, "")},${c.bootstrapDir}`,
      `--allow-write=${this.dataDir}`,
      "--allow-env=SOCP_*",
      ...(c.crypto === "webcrypto" ? [] : ["--allow-ffi"]),
      ...this.runtimeFlags,
      ENTRY[this.role],
      ...this.args,
    ];
  }

  /** Starts (or restarts) the process and waits until it listens. */
  async start(): Promise<void> {
    const command = new Deno.Command(Deno.execPath(), {
      args: this.denoArgs(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    });
    const from = this.lines.length; // only this run's lines count on restart
    this.#child = command.spawn();
    this.#readers = [this.#collect(this.#child.stdout), this.#collect(this.#child.stderr)];
    let listening: LogEntry | undefined;
    await waitUntil(
      () => {
        listening = this.entries(from).find((e) => e.msg === "listening");
        return listening !== undefined || !this.#child;
      },
      20_000,
      `${this.name} to listen`,
    );
    if (!listening) throw new Error(`${this.name} exited:\n${this.lines.slice(from).join("\n")}`);
    this.port = listening.port as number;
    this.id = listening.id as string;
    this.pubkey = await this.#publicKey();
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      this.lines.push(...parts.filter(Boolean));
    }
    if (buffer) this.lines.push(buffer);
  }

  /** The node's public key, from the key file in its data directory (works whatever its TLS). */
  async #publicKey(): Promise<string> {
    const pem = await Deno.readTextFile(`${this.dataDir}/${KEY_FILE}`);
    const der = Uint8Array.fromBase64(pem.replace(/-----[^-]+-----|\s/g, ""));
    return (await importPrivateKey(der)).publicKey.b64;
  }

  /** The node's current health document. */
  async health(): Promise<
    Record<string, unknown> & {
      id: string;
      links: string[];
      users: { local: number; online: number };
    }
  > {
    const res = await fetch(`${this.plain ? "http" : "https"}://127.0.0.1:${this.port}/healthz`, {
      client: this.#cluster.client,
    });
    return await res.json();
  }

  /** Its WebSocket URL. */
  get url(): string {
    return `${this.plain ? "ws" : "wss"}://127.0.0.1:${this.port}/ws`;
  }

  /** Whether it runs plain ws:// (--insecure-plain: for dialects B and C, which have no TLS). */
  get plain(): boolean {
    return this.args.includes("--insecure-plain");
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Resident memory in KiB. Read through `cat`: deno test grants /proc only with --allow-all. */
  async rssKb(): Promise<number> {
    if (this.pid === undefined) return 0;
    return Number(
      /VmRSS:\s+(\d+)/.exec(await procText("cat", `/proc/${this.pid}/status`))?.[1] ?? 0,
    );
  }

  /** Open file descriptors (through `ls`, as for {@linkcode NodeProcess.rssKb}). */
  async openFds(): Promise<number> {
    if (this.pid === undefined) return 0;
    return (await procText("ls", `/proc/${this.pid}/fd`)).split("\n").filter(Boolean).length;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Sends a signal and waits for the process and its output to end; resolves with its exit code. */
  async #end(signal: Deno.Signal): Promise<number> {
    const child = this.#child;
    if (!child) return -1;
    this.#child = undefined;
    try {
      child.kill(signal);
      child.kill("SIGCONT"); // a frozen (SIGSTOPped) process only acts on the signal once resumed
    } catch {
      // already exited
    }
    const status = await child.status;
    await Promise.all(this.#readers);
    return status.code;
  }

  /** Graceful stop (SIGTERM); resolves with the exit code. */
  stop(): Promise<number> {
    return this.#end("SIGTERM");
  }

  /** Hard kill (SIGKILL): no shutdown code runs. */
  kill9(): Promise<number> {
    return this.#end("SIGKILL");
  }

  /** Starts the process again after a stop or kill, on the same port. */
  async restart(): Promise<void> {
    const at = this.args.indexOf("--port");
    this.args.splice(at, 2, "--port", String(this.port));
    await this.start();
  }

  /** Freezes or thaws the process (SIGSTOP / SIGCONT). */
  signal(signal: "SIGSTOP" | "SIGCONT"): void {
    this.#child?.kill(signal);
  }
}

/** A set of processes sharing a temp dir and a dev CA. */
export class Cluster {
  readonly dir: string;
  readonly certs: DevCertificatePaths;
  readonly caCert: string;
  readonly client: Deno.HttpClient;
  readonly bootstrapDir: string;
  readonly nodes: NodeProcess[] = [];
  /** The RSA backend its nodes run (`--crypto`). */
  readonly crypto: CryptoChoice;
  /** Flags every node gets: fast heartbeats so liveness tests take seconds. */
  readonly common: readonly string[];
  #nextKey: number;

  private constructor(
    dir: string,
    certs: DevCertificatePaths,
    caCert: string,
    firstKey: number,
    logLevel: string,
    crypto: CryptoChoice,
  ) {
    this.common = [
      "--heartbeat-ms",
      "500",
      "--timeout-ms",
      "2000",
      "--log-format",
      "json",
      "--log-level",
      logLevel,
      "--crypto",
      crypto,
    ];
    this.crypto = crypto;
    this.dir = dir;
    this.certs = certs;
    this.caCert = caCert;
    this.client = Deno.createHttpClient({ caCerts: [caCert] });
    this.bootstrapDir = `${dir}/bootstrap`;
    this.#nextKey = firstKey;
  }

  /**
   * A new cluster; `firstKey` picks where in the fixture key pool its nodes
   * start. Nodes log at `debug` unless `logLevel` says otherwise (benchmarks),
   * and run the RSA backend of the test run unless `crypto` names one.
   */
  static async create(
    firstKey = 0,
    logLevel = "debug",
    crypto: CryptoChoice = TEST_CRYPTO,
  ): Promise<Cluster> {
    const dir = await Deno.makeTempDir({ prefix: "socp-test-" });
    const certs = await ensureDevCertificates(`${dir}/certs`, ["127.0.0.1", "localhost"]);
    await Deno.mkdir(`${dir}/bootstrap`);
    const caCert = await Deno.readTextFile(certs.caCert);
    return new Cluster(dir, certs, caCert, firstKey, logLevel, crypto);
  }

  /** TLS flags for nodes. */
  tlsArgs(): string[] {
    return ["--tls-cert", this.certs.cert, "--tls-key", this.certs.key, "--ca", this.certs.caCert];
  }

  /** Writes a bootstrap file listing `entries` and returns its path. */
  async bootstrapFile(
    name: string,
    entries: { host: string; port: number; pubkey?: string; dialect?: "A" | "B" }[],
  ): Promise<string> {
    const path = `${this.bootstrapDir}/${name}.json`;
    await Deno.writeTextFile(path, JSON.stringify({ bootstrap_servers: entries }));
    return path;
  }

  /** The bootstrap entry of a running node. */
  static entryOf(node: NodeProcess): { host: string; port: number; pubkey: string } {
    return { host: "127.0.0.1", port: node.port, pubkey: node.pubkey };
  }

  async #spawn(
    name: string,
    role: "server" | "introducer",
    args: string[],
    runtimeFlags: string[] = [],
  ): Promise<NodeProcess> {
    const dataDir = `${this.dir}/${name}`;
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeIdentityKey(dataDir, await fixtureKeys(this.#nextKey++));
    const node = new NodeProcess(this, name, role, dataDir, [
      "--port",
      "0",
      "--data",
      dataDir,
      ...this.tlsArgs(),
      ...this.common,
      ...args,
    ], runtimeFlags);
    this.nodes.push(node);
    await node.start();
    return node;
  }

  /** Starts an introducer; `peers` are other introducers to link with. */
  async introducer(
    name: string,
    peers: NodeProcess[] = [],
    args: string[] = [],
  ): Promise<NodeProcess> {
    const extra = peers.length
      ? ["--introducers", await this.bootstrapFile(`${name}-peers`, peers.map(Cluster.entryOf))]
      : [];
    return await this.#spawn(name, "introducer", [...extra, ...args]);
  }

  /** Starts a server bootstrapping from `introducers` (in order); `runtimeFlags` go to `deno run`. */
  async server(
    name: string,
    introducers: NodeProcess[],
    args: string[] = [],
    runtimeFlags: string[] = [],
  ): Promise<NodeProcess> {
    const extra = introducers.length
      ? [
        "--introducers",
        await this.bootstrapFile(`${name}-intro`, introducers.map(Cluster.entryOf)),
      ]
      : [];
    return await this.#spawn(name, "server", [...extra, ...args], runtimeFlags);
  }

  /**
   * A new cluster with an introducer and one server per name, all bootstrapping
   * from it, once they form a full mesh.
   */
  static async mesh(
    names: string[],
    firstKey = 0,
    args: string[] = [],
  ): Promise<{ cluster: Cluster; intro: NodeProcess; nodes: NodeProcess[] }> {
    const cluster = await Cluster.create(firstKey);
    const intro = await cluster.introducer(
      "intro",
      [],
      args.filter((a) => a === "--insecure-plain"),
    );
    const nodes: NodeProcess[] = [];
    for (const name of names) nodes.push(await cluster.server(name, [intro], args));
    await cluster.waitForMesh([intro, ...nodes]);
    return { cluster, intro, nodes };
  }

  /** Waits until every node in `nodes` has a live link to every other. */
  async waitForMesh(nodes: NodeProcess[], timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      async () => {
        for (const node of nodes) {
          const links = new Set((await node.health()).links);
          if (!nodes.every((other) => other === node || links.has(other.id))) return false;
        }
        return true;
      },
      timeoutMs,
      `full mesh of ${nodes.map((n) => n.name).join(", ")}`,
    );
  }

  /** Stops every node and removes the temp dir. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    this.client.close();
    await Deno.remove(this.dir, { recursive: true });
  }
}
