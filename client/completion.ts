/**
 * Tab completion for the REPL: command names at the start of a line, and
 * the names of online users (or, for names with spaces or shared by
 * several users, id prefixes) after `/tell`, `/msg`, `/whois` and `/file`.
 *
 * @module
 */

import { COMMAND_NAMES, TAKES_USER } from "./commands.ts";

/** Someone completion may offer. */
export interface Completable {
  userId: string;
  name: string;
}

/**
 * The completions of `line`: candidates, each ending in a space, and the
 * word they replace (readline's completer contract).
 *
 * @example
 * ```ts
 * import { complete } from "./completion.ts";
 * const people = [{ userId: "1234abcd-0000", name: "bob" }];
 * complete("/te", people); // [["/tell "], "/te"]
 * complete("/tell b", people); // [["bob "], "b"]
 * ```
 */
export function complete(line: string, people: Completable[]): [string[], string] {
  const words = line.split(" ");
  if (words.length === 1) {
    return [COMMAND_NAMES.filter((c) => c.startsWith(line)).map((c) => `${c} `), line];
  }
  if (words.length !== 2 || !TAKES_USER.includes(words[0].toLowerCase())) return [[], line];
  const partial = words[1];
  const count = new Map<string, number>();
  for (const p of people) count.set(p.name, (count.get(p.name) ?? 0) + 1);
  const names = people.map((p) =>
    /\s/.test(p.name) || count.get(p.name)! > 1 ? p.userId.slice(0, 8) : p.name
  );
  if (words[0].toLowerCase() === "/file") names.push("public");
  const hits = [...new Set(names)].filter((n) => n.startsWith(partial)).sort();
  return [hits.map((n) => `${n} `), partial];
}
