/**
 * REPL commands: `/list`, `/whois`, `/tell <name|id> <text>`, `/all <text>`,
 * `/me <action>`, `/file <name|id|public> <path>`, `/cancel`, `/clear`,
 * `/quit`, `/help`.
 *
 * @module
 */

/** A parsed input line. */
export type Command =
  | { kind: "list"; all: boolean }
  | { kind: "whois"; target: string }
  | { kind: "tell"; target: string; text: string }
  | { kind: "all"; text: string }
  | { kind: "file"; target: string; path: string }
  | { kind: "me"; text: string }
  | { kind: "cancel"; query?: string }
  | { kind: "clear" }
  | { kind: "quit" }
  | { kind: "help" }
  | { kind: "empty" }
  | { kind: "invalid"; message: string };

/** Help shown by `/help`. */
export const HELP = [
  "/list [--all]                  who is online (name, short id, server, key); --all: and who is known offline",
  "/whois <name|id>               a user's id, server and full key fingerprint",
  "/tell <name|id> <text>         end-to-end encrypted direct message (≤ 446 bytes); also /msg;",
  "                               to a known offline user's full id it waits until they are back",
  "/all <text>                    message to the public channel",
  "/me <action>                   an action on the public channel (* you waves)",
  "/file <name|id|public> <path>  send a file to a user or to #public, in the background",
  "/cancel [file|name]            stop sending files (all, or those of a file or recipient); Ctrl-C too",
  "/clear                         clear the screen; Ctrl-L too",
  "/quit                          leave; also /exit",
  "/help                          this help; also /?",
  "Names resolve by display name; when several users share one, use an id prefix (4+ characters).",
  "Tab completes commands and names; Up/Down browse history; Ctrl-W deletes a word; Alt-B/F move by words.",
].join("\n");

/** Every command name, aliases included (for completion). */
export const COMMAND_NAMES: readonly string[] = [
  "/list",
  "/whois",
  "/tell",
  "/msg",
  "/all",
  "/me",
  "/file",
  "/cancel",
  "/clear",
  "/quit",
  "/exit",
  "/help",
  "/?",
];

/** Commands whose first argument is a user (for completion). */
export const TAKES_USER: readonly string[] = ["/tell", "/msg", "/whois", "/file"];

/**
 * Parses one line the user typed. Text without a leading `/` is refused with
 * a hint rather than sent somewhere by guesswork.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./commands.ts";
 * parseCommand("/tell Bob hi there"); // { kind: "tell", target: "Bob", text: "hi there" }
 * parseCommand("/file public ~/a b.png").kind; // "file"
 * ```
 */
export function parseCommand(line: string): Command {
  const trimmed = line.trim();
  if (!trimmed) return { kind: "empty" };
  if (!trimmed.startsWith("/")) {
    return {
      kind: "invalid",
      message: "commands start with / (try /help); to talk to everyone use /all <text>",
    };
  }
  const space = trimmed.search(/\s/);
  const name = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const rest = space < 0 ? "" : trimmed.slice(space).trim();
  const split = (): [string, string] => {
    const at = rest.search(/\s/);
    return at < 0 ? [rest, ""] : [rest.slice(0, at), rest.slice(at).trim()];
  };
  switch (name) {
    case "/list":
      return rest === "" || rest === "--all"
        ? { kind: "list", all: rest === "--all" }
        : { kind: "invalid", message: "usage: /list [--all]" };
    case "/whois":
      return rest && !/\s/.test(rest)
        ? { kind: "whois", target: rest }
        : { kind: "invalid", message: "usage: /whois <name|id>" };
    case "/quit":
    case "/exit":
      return { kind: "quit" };
    case "/help":
    case "/?":
      return { kind: "help" };
    case "/clear":
      return { kind: "clear" };
    case "/cancel":
      return rest ? { kind: "cancel", query: rest } : { kind: "cancel" };
    case "/me":
      return rest
        ? { kind: "me", text: rest }
        : { kind: "invalid", message: "usage: /me <action>" };
    case "/all": {
      return rest
        ? { kind: "all", text: rest }
        : { kind: "invalid", message: "usage: /all <text>" };
    }
    case "/tell":
    case "/msg": {
      const [target, text] = split();
      return target && text
        ? { kind: "tell", target, text }
        : { kind: "invalid", message: "usage: /tell <name|id> <text>" };
    }
    case "/file": {
      const [target, path] = split();
      return target && path
        ? { kind: "file", target, path }
        : { kind: "invalid", message: "usage: /file <name|id|public> <path>" };
    }
    default:
      return { kind: "invalid", message: `unknown command ${name} (try /help)` };
  }
}
