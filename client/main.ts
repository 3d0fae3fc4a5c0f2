/**
 * `socp-client`: the interactive chat client. Run with `--help`.
 *
 * Exit codes: 0 normal end (`/quit`, end of input); 1 cannot connect or the
 * server refused the hello; 2 bad flags or no way to get a password;
 * 3 wrong password or unusable identity file.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import { DenoAdapter, loadOrCreateIdentity } from "./deno.ts";
import { sanitizeFileName } from "./filename.ts";
import { runRepl } from "./repl.ts";
import { SocpClient } from "./sdk.ts";
import { type Console, LineEditor, PlainConsole } from "./terminal.ts";

const HELP = `socp-client: end-to-end encrypted SOCP v1.3 chat.

Usage: socp-client --server URL --user NAME [options]

  --server URL          server endpoint, e.g. wss://127.0.0.1:8443/ws        [SOCP_SERVER]
  --user NAME           your display name                                     [SOCP_USER]
  --data DIR            identity and state (default .socp/clients/NAME)       [SOCP_DATA]
  --downloads DIR       where received files go (default DATA/downloads)      [SOCP_DOWNLOADS]
  --ca FILE             CA certificate (PEM) to trust for wss://              [SOCP_CA]
  --password-file FILE  identity password (else SOCP_PASSWORD, else a prompt)
  --insecure            allow plain ws:// (development only; never disables certificate checks)
  --json                one JSON object per line on stdout for every event
  --help                this help

In the chat: /list, /tell <name|id> <text>, /all <text>, /file <name|id|public> <path>, /help, /quit.
Exit codes: 0 done, 1 cannot connect or refused, 2 usage, 3 wrong password or bad identity file.
`;

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
  if (file) return (await Deno.readTextFile(file)).replace(/\r?\n$/, "");
  const fromEnv = Deno.env.get("SOCP_PASSWORD");
  if (fromEnv !== undefined) return fromEnv;
  if (!Deno.stdin.isTerminal()) {
    fail(2, "no password: use --password-file, SOCP_PASSWORD, or run in a terminal");
  }
  const first = await promptPassword(creating ? "New identity password: " : "Identity password: ");
  if (creating && first !== await promptPassword("Repeat password: ")) {
    fail(2, "the passwords differ");
  }
  return first;
}

if (import.meta.main) {
  const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
  let values;
  try {
    values = parseArgs({
      args,
      strict: true,
      options: {
        server: { type: "string" },
        user: { type: "string" },
        data: { type: "string" },
        downloads: { type: "string" },
        ca: { type: "string" },
        "password-file": { type: "string" },
        insecure: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (e) {
    fail(2, `${(e as Error).message} (try --help)`);
  }
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const server = values.server ?? Deno.env.get("SOCP_SERVER");
  const user = values.user ?? Deno.env.get("SOCP_USER");
  if (!server || !user) fail(2, "--server URL and --user NAME are required (try --help)");
  const dataDir = values.data ?? Deno.env.get("SOCP_DATA") ??
    `.socp/clients/${sanitizeFileName(user, "user")}`;
  const downloads = values.downloads ?? Deno.env.get("SOCP_DOWNLOADS") ?? `${dataDir}/downloads`;
  const caFile = values.ca ?? Deno.env.get("SOCP_CA");
  if (values.insecure) {
    console.error(
      "socp-client: WARNING: --insecure allows unencrypted ws:// connections; development only",
    );
  }

  const creating = await Deno.stat(`${dataDir}/identity.json`).then(() => false, () => true);
  let identity;
  try {
    ({ identity } = await loadOrCreateIdentity(
      dataDir,
      await password(values["password-file"], creating),
      user,
    ));
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      fail(2, `${(e as Error).message} (grant access to ${dataDir})`);
    }
    fail(3, (e as Error).message); // wrong password, unreadable or unsafe identity file
  }
  if (creating) console.error(`socp-client: created identity ${identity.id} in ${dataDir}`);

  const adapter = new DenoAdapter({
    caCert: caFile ? await Deno.readTextFile(caFile) : undefined,
    insecure: values.insecure,
    downloadsDir: downloads,
  });
  const client = new SocpClient({ url: server, identity, displayName: user, adapter });
  const terminal: Console = !values.json && Deno.stdin.isTerminal()
    ? new LineEditor()
    : new PlainConsole();
  const code = await runRepl({
    client,
    console: terminal,
    json: values.json ?? false,
    readFile: (path) => Deno.readFile(path),
    maxFileBytes: DEFAULT_LIMITS.maxFileBytes,
  });
  adapter.close();
  Deno.exit(code);
}
