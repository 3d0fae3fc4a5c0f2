/**
 * The REPL: commands in, events out. Events are printed as they arrive
 * (above the prompt on a TTY); `--json` prints one object per line instead.
 *
 * @module
 */

import { whois } from "./whois.ts";
import { ConnectError } from "./connect_errors.ts";
import { SocpError } from "../protocol/errors.ts";
import { HELP, parseCommand } from "./commands.ts";
import type { ClientEvent } from "./events.ts";
import { type Palette, PLAIN } from "./colour.ts";
import { OutgoingFiles } from "./outgoing_files.ts";
import { IncomingFiles } from "./incoming_files.ts";
import { clock, progressBar, toJsonLine, toText } from "./render.ts";
import type { SocpClient } from "./sdk.ts";
import type { Console } from "./terminal.ts";

/** What the REPL needs. */
export interface ReplOptions {
  client: SocpClient;
  console: Console;
  json: boolean;
  /** Reads a file the user sends (the platform's file access). */
  readFile(path: string): Promise<Uint8Array>;
  /** Largest file a user may send. */
  maxFileBytes: number;
  /** Colours of the text lines (none by default). */
  palette?: Palette;
}

/** Waits before retrying an unreachable server at startup. */
const CONNECT_RETRIES = [1000, 2000, 4000];

/** A size in MiB, as people read file sizes. */
function mib(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, "")} MiB`;
}

function baseName(path: string): string {
  return path.split(/[/\\]/).filter(Boolean).pop() ?? path;
}

/**
 * Connects, then runs commands until `/quit` or end of input. Resolves with
 * the exit code: 0, or 1 if the first connection fails.
 */
export async function runRepl(options: ReplOptions): Promise<number> {
  const { client, console, json } = options;
  const paint = options.palette ?? PLAIN;
  const show = (event: ClientEvent) => {
    if (json) return console.print(toJsonLine(event));
    const text = toText(event, paint);
    if (text !== null) console.print(text);
  };
  // One status line above the prompt: files being sent, then files arriving.
  const status = {
    sending: undefined as string | undefined,
    arriving: undefined as string | undefined,
  };
  const drawStatus = () =>
    json ||
    console.status([status.sending, status.arriving].filter(Boolean).join("  ·  ") || undefined);
  const incoming = new IncomingFiles((text) => {
    status.arriving = text;
    drawStatus();
  });
  const off = client.events.on((event) => {
    show(event);
    if (!json) incoming.observe(event);
  });
  const note = (kind: string, fields: Record<string, unknown>, text: string) =>
    console.print(
      json ? JSON.stringify({ event: "sent", kind, ...fields }) : paint.own(`[${clock()}] ${text}`),
    );
  const outgoing = new OutgoingFiles({
    status: (text) => {
      status.sending = text;
      drawStatus();
    },
    done: (outcome, file) => {
      if (outcome.kind === "sent") {
        note(
          "file",
          { to: file.to, file_id: outcome.fileId, size: file.size },
          `sent ${file.name} to ${file.to} (${progressBar(file.size, file.size, file.elapsedMs)})`,
        );
      } else if (outcome.kind === "cancelled") {
        show({ type: "error", code: "CANCELLED", detail: `sending ${file.name} was cancelled` });
      } else {
        const e = outcome.error;
        show({
          type: "error",
          code: e instanceof SocpError ? e.code : "CLIENT",
          detail: `${file.name}: ${(e as Error).message}`,
        });
      }
    },
  });
  // Ctrl-C stops running transfers first (and only them); then it clears the line or quits.
  console.onInterrupt?.(() => outgoing.cancel().length > 0);
  const running = new Set<Promise<void>>();
  // A refused hello is final; an unreachable server is retried a few times (it may be starting).
  for (let attempt = 0;; attempt++) {
    try {
      await client.connect();
      break;
    } catch (e) {
      // A refused hello is final, and so is what waiting cannot heal (a certificate, a path).
      const refused = e instanceof SocpError && e.code !== "TIMEOUT";
      const final = refused || (e instanceof ConnectError && !e.retryable);
      if (final || attempt >= CONNECT_RETRIES.length) {
        show({
          type: "error",
          code: e instanceof SocpError ? e.code : "CONNECT",
          detail: (e as Error).message,
        });
        off();
        console.close();
        return 1;
      }
      show({
        type: "disconnected",
        reason: (e as Error).message,
        retryInMs: CONNECT_RETRIES[attempt],
      });
      await new Promise((r) => setTimeout(r, CONNECT_RETRIES[attempt]));
    }
  }
  try {
    for await (const line of console.lines()) {
      const command = parseCommand(line);
      try {
        switch (command.kind) {
          case "empty":
            break;
          case "help":
            console.print(HELP);
            break;
          case "invalid":
            show({ type: "error", code: "USAGE", detail: command.message });
            break;
          case "list":
            await client.list(undefined, { all: command.all });
            break;
          case "whois":
            show(await whois(client, command.target));
            break;
          case "tell": {
            const frame = await client.sendDm(command.target, command.text);
            const name = client.directory.name(frame.to) ?? frame.to;
            note("dm", { to: frame.to, ts: frame.ts }, `you → ${name}: ${command.text}`);
            break;
          }
          case "all": {
            const frame = await client.sendPublic(command.text);
            note("public", { ts: frame.ts }, `you → #public: ${command.text}`);
            break;
          }
          case "me": {
            const frame = await client.sendPublic(`/me ${command.text}`);
            note("public", { ts: frame.ts }, `#public * you ${command.text}`);
            break;
          }
          case "clear":
            console.clear?.();
            break;
          case "cancel": {
            const names = outgoing.cancel(command.query);
            if (!names.length) {
              show({
                type: "error",
                code: "USAGE",
                detail: command.query
                  ? `no file to or named ${command.query} is being sent`
                  : "no file is being sent",
              });
            }
            break;
          }
          case "file": {
            const bytes = await options.readFile(command.path);
            if (bytes.length > options.maxFileBytes) {
              throw new SocpError(
                "TOO_LARGE",
                `${command.path} is ${mib(bytes.length)}; the limit is ${
                  mib(options.maxFileBytes)
                }`,
              );
            }
            const name = baseName(command.path);
            // In the background: the prompt stays usable; the outcome is reported when it ends.
            const job = outgoing.start(
              name,
              command.target,
              bytes.length,
              (progress, signal) => client.sendFile(command.target, name, bytes, progress, signal),
            );
            running.add(job);
            job.finally(() => running.delete(job));
            break;
          }
          case "quit":
            if (running.size) {
              console.print(
                `waiting for ${running.size} file(s) to finish; Ctrl-C or /cancel stops them`,
              );
              await Promise.all(running);
            }
            return 0;
        }
      } catch (e) {
        drawStatus();
        const code = e instanceof SocpError
          ? e.code
          : e instanceof Deno.errors.NotFound
          ? "NOT_FOUND"
          : "CLIENT";
        show({ type: "error", code, detail: (e as Error).message });
      }
    }
    // End of input (a script): the files already started are finished first.
    await Promise.all(running);
    return 0;
  } finally {
    outgoing.cancel();
    await Promise.all(running);
    incoming.close();
    off();
    await client.close();
    console.close();
  }
}
