/**
 * `socp-client`: the interactive chat client. Run with `--help`.
 *
 * Exit codes: 0 normal end (`/quit`, end of input); 1 cannot connect or the
 * server refused the hello; 2 bad flags or no way to get a password;
 * 3 wrong password or unusable identity file.
 *
 * @module
 */

import { ErrorCode, SocpError } from "../protocol/errors.ts";
import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import { DenoAdapter, IDENTITY_FILE, loadOrCreateIdentity } from "./deno.ts";
import { type ClientCliOptions, clientEnv, parseClientOptions } from "./options.ts";
import { runRepl } from "./repl.ts";
import { SocpClient } from "./sdk.ts";
import { selectCrypto } from "../crypto/select.ts";
import { paletteFor } from "./colour.ts";
import { complete } from "./completion.ts";
import { HISTORY_FILE, InputHistory } from "./history.ts";
import { LineEditor } from "./line_editor.ts";
import { type Console, PlainConsole } from "./terminal.ts";

function fail(code: number, message: string): never {
  console.error(`socp-client: ${message}`);
  Deno.exit(code);
}

/** Reads a password from the terminal without echo. */
async function promptPassword(question: string): Promise<string> {
  Deno.stderr.writeSync(new TextEncoder().encode(question));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(1);
  try {
    while ((await Deno.stdin.read(buffer)) === 1) {
      const b = buffer[0];
      if (b === 13 || b === 10) break;
      if (b === 3) fail(2, "cancelled");
      if (b === 127 || b === 8) bytes.pop();
      else bytes.push(b);
    }
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(new TextEncoder().encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

async function password(file: string | undefined, creating: boolean): Promise<string> {
  const given = file
    ? (await Deno.readTextFile(file)).replace(/\r?\n$/, "")
    : Deno.env.get("SOCP_PASSWORD");
  if (given !== undefined) {
    if (creating && given === "") fail(2, "an empty identity password is refused");
    return given;
  }
  if (!Deno.stdin.isTerminal()) {
    fail(2, "no password: use --password-file, SOCP_PASSWORD, or run in a terminal");
  }
  if (!creating) return await promptPassword("Identity password: ");
  for (let attempt = 0; attempt < 3; attempt++) {
    const first = await promptPassword("New identity password: ");
    if (first === "") {
      console.error("socp-client: an empty password would leave your key unprotected; type one");
      continue;
    }
    if (first === await promptPassword("Repeat password: ")) return first;
    console.error("socp-client: the passwords differ; again");
  }
  fail(2, "no password chosen");
}

/**
 * Reads a file the user sends. Without read permission for it (the bundled
 * client runs with narrow permissions), a terminal user is asked by Deno's
 * own prompt; elsewhere the error says how to allow it.
 */
async function readFileWithConsent(path: string, terminal: Console): Promise<Uint8Array> {
  const status = await Deno.permissions.query({ name: "read", path });
  if (status.state !== "granted") {
    if (!(terminal instanceof LineEditor)) {
      throw new Error(`socp-client may not read ${path}: start it with --files <dir of that file>`);
    }
    terminal.suspend();
    const answer = await Deno.permissions.request({ name: "read", path }).finally(() =>
      terminal.resume()
    );
    if (answer.state !== "granted") throw new Error(`reading ${path} was not allowed`);
  }
  // Only once reading is allowed: without the permission, a look would itself prompt.
  const info = await Deno.stat(path).catch((e) => {
    if (e instanceof Deno.errors.NotFound) throw new Deno.errors.NotFound(`no such file: ${path}`);
    throw e;
  });
  if (info.isDirectory) throw new Error(`${path} is a directory: /file sends one file`);
  return await Deno.readFile(path);
}

/** An environment variable, or undefined when it is unset or this process may not read it. */
function readEnvIfAllowed(name: string): string | undefined {
  const allowed = Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  return allowed ? Deno.env.get(name) : undefined;
}

/** The `--ca` file's text, or a clear exit when it cannot be read. */
async function readCaFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) fail(2, `--ca ${path}: no such file`);
    fail(2, `--ca ${path}: cannot be read (${(e as Error).message.split("\n")[0]})`);
  }
}

async function main(options: ClientCliOptions): Promise<number> {
  if (options.insecure) {
    console.error(
      "socp-client: WARNING: --insecure allows unencrypted ws:// connections; development only",
    );
  }
  if (options.crypto !== "webcrypto") {
    let inUse;
    try {
      inUse = selectCrypto(options.crypto);
    } catch (e) {
      fail(1, (e as Error).message);
    }
    const why = inUse.fallback ? ` (OpenSSL did not load: ${inUse.fallback})` : "";
    console.error(`socp-client: RSA backend ${inUse.backend}, ${inUse.version}${why}`);
  }
  const creating = await Deno.stat(`${options.dataDir}/${IDENTITY_FILE}`).then(
    () => false,
    () => true,
  );
  let identity;
  // A password typed at the prompt may be mistyped: two more tries (a given one is final).
  const prompted = !options.passwordFile && Deno.env.get("SOCP_PASSWORD") === undefined;
  for (let attempt = 1;; attempt++) {
    try {
      ({ identity } = await loadOrCreateIdentity(
        options.dataDir,
        await password(options.passwordFile, creating),
        options.user,
      ));
      break;
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) {
        fail(2, `${(e as Error).message} (grant access to ${options.dataDir})`);
      }
      const wrong = e instanceof SocpError && e.code === ErrorCode.AUTH_FAILED;
      if (wrong && prompted && attempt < 3) {
        console.error("socp-client: wrong password; try again");
        continue;
      }
      fail(3, (e as Error).message); // wrong password, unreadable or unsafe identity file
    }
  }
  if (creating) console.error(`socp-client: created identity ${identity.id} in ${options.dataDir}`);
  const adapter = new DenoAdapter({
    caCert: options.caFile ? await readCaFile(options.caFile) : undefined,
    insecure: options.insecure,
    downloadsDir: options.downloads,
  });
  const client = new SocpClient({
    url: options.server,
    identity,
    displayName: options.user,
    adapter,
    serverDialect: options.serverDialect,
    password: options.loginPassword,
  });
  const interactive = !options.json && Deno.stdin.isTerminal();
  const history = interactive && options.history
    ? await InputHistory.open(`${options.dataDir}/${HISTORY_FILE}`)
    : undefined;
  const terminal: Console = interactive
    ? new LineEditor({
      complete: (line) => complete(line, client.directory.online()),
      history: history?.newestFirst(),
      onLine: (line) => history?.add(line),
    })
    : new PlainConsole();
  const palette = paletteFor({
    terminal: !options.json && Deno.stdout.isTerminal(),
    noColor: readEnvIfAllowed("NO_COLOR"),
  });
  try {
    return await runRepl({
      client,
      console: terminal,
      json: options.json,
      readFile: (path) => readFileWithConsent(path, terminal),
      maxFileBytes: DEFAULT_LIMITS.maxFileBytes,
      palette,
    });
  } finally {
    adapter.close();
  }
}

/**
 * Runs the client CLI with `args`; resolves with the exit code.
 */
export async function runClientCli(args: string[]): Promise<number> {
  const env = clientEnv();
  const parsed = parseClientOptions(args, env);
  if (!parsed.ok) {
    if ("help" in parsed) {
      console.log(parsed.help);
      return 0;
    }
    fail(2, parsed.error);
  }
  return await main(parsed.options);
}

if (import.meta.main) Deno.exit(await runClientCli(Deno.args));
