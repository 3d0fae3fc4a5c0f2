/**
 * The REPL's input history, kept per identity in the data directory
 * (`history`, mode 0600, rewritten atomically), newest last on disk. A line
 * typed with a leading space is not kept (as in shells), nor are
 * `--no-history` sessions.
 *
 * @module
 */

/** The history file's name in the data directory. */
export const HISTORY_FILE = "history";

/** Lines kept at most. */
export const HISTORY_LINES = 1000;

/** The history file of one identity. */
export class InputHistory {
  readonly #path: string;
  readonly #lines: string[];

  private constructor(path: string, lines: string[]) {
    this.#path = path;
    this.#lines = lines;
  }

  /** Reads `path` (none yet is an empty history). */
  static async open(path: string): Promise<InputHistory> {
    const text = await Deno.readTextFile(path).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return "";
      throw e;
    });
    return new InputHistory(path, text.split("\n").filter(Boolean).slice(-HISTORY_LINES));
  }

  /** The lines, newest first (readline's order). */
  newestFirst(): string[] {
    return [...this.#lines].reverse();
  }

  /** Keeps `line` (unless blank, repeated, or typed with a leading space). */
  add(line: string): void {
    if (!line.trim() || line.startsWith(" ") || line === this.#lines.at(-1)) return;
    this.#lines.push(line);
    if (this.#lines.length > HISTORY_LINES) {
      this.#lines.splice(0, this.#lines.length - HISTORY_LINES);
    }
    const tmp = `${this.#path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    try {
      Deno.writeTextFileSync(tmp, this.#lines.join("\n") + "\n", { mode: 0o600, createNew: true });
      Deno.renameSync(tmp, this.#path);
    } catch {
      // History is a convenience: a full disk must not stop the chat.
      try {
        Deno.removeSync(tmp);
      } catch {
        // nothing was written
      }
    }
  }
}
