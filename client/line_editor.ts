/**
 * The REPL's line editor on a TTY, built on `node:readline`: wrapped lines
 * and wide characters redraw in place, Tab completes (commands and user
 * names), Ctrl-W / Ctrl-L / Alt-B / Alt-F / Ctrl-A / Ctrl-E / Ctrl-U and
 * history (kept per identity, client/history.ts). Messages print above the
 * prompt, with an optional status line (transfers) between them and it.
 *
 * @module
 */

import process from "node:process";
import * as readline from "node:readline";
import type { Console } from "./terminal.ts";

/** Options of {@linkcode LineEditor}. */
export interface LineEditorOptions {
  /** The prompt (default `"> "`). */
  prompt?: string;
  /** Completions of the line typed so far: candidates and the word they replace. */
  complete?: (line: string) => [string[], string];
  /** Earlier lines, newest first. */
  history?: string[];
  /** Called with each line entered (to keep the history). */
  onLine?: (line: string) => void;
}

/** Raw-mode line editor for a TTY. */
export class LineEditor implements Console {
  readonly #rl: readline.Interface;
  readonly #out = process.stdout;
  readonly #queue: (string | null)[] = [];
  #wake?: () => void;
  #status?: string;
  #statusShown = false;
  #closed = false;
  #interrupt?: () => boolean;

  /** Takes the terminal (raw mode) until {@linkcode LineEditor.close}. */
  constructor(options: LineEditorOptions = {}) {
    this.#rl = readline.createInterface({
      input: process.stdin,
      output: this.#out,
      terminal: true,
      prompt: options.prompt ?? "> ",
      history: options.history ?? [],
      historySize: 1000,
      removeHistoryDuplicates: true,
      tabSize: 4,
      completer: options.complete ?? ((line: string) => [[], line]),
    });
    this.#rl.on("line", (line) => {
      options.onLine?.(line);
      this.#push(line);
      this.#rl.prompt();
    });
    this.#rl.on("SIGINT", () => {
      if (this.#interrupt?.()) return;
      if (this.#rl.line) this.#clearInput();
      else this.#push("/quit");
    });
    this.#rl.on("close", () => this.#push(null));
  }

  #push(line: string | null): void {
    this.#queue.push(line);
    this.#wake?.();
  }

  /** Empties the line being typed (readline redraws it, however many rows it had). */
  #clearInput(): void {
    this.#rl.write(null, { ctrl: true, name: "e" });
    this.#rl.write(null, { ctrl: true, name: "u" });
  }

  /**
   * Writes above the prompt: the prompt's rows (however many the typed line
   * wraps to, from readline's own measure) and the old status line are
   * erased, `text` and the status written, and readline redraws the prompt
   * below with the line and cursor as they were.
   */
  #above(text?: string): void {
    if (this.#closed) {
      if (text !== undefined) this.#out.write(`${text}\n`);
      return;
    }
    readline.moveCursor(this.#out, 0, -this.#rl.getCursorPos().rows);
    readline.cursorTo(this.#out, 0);
    if (this.#statusShown) readline.moveCursor(this.#out, 0, -1);
    readline.clearScreenDown(this.#out);
    this.#statusShown = false;
    if (text !== undefined) this.#out.write(`${text.replaceAll("\n", "\r\n")}\r\n`);
    if (this.#status !== undefined) {
      // One row only, so that erasing it later means one row up.
      const width = Math.max(10, (this.#out.columns ?? 80) - 1);
      this.#out.write(`${[...this.#status].slice(0, width).join("")}\r\n`);
      this.#statusShown = true;
    }
    // readline redraws from the row it last drew on; the cursor now starts a fresh one.
    (this.#rl as unknown as { prevRows?: number }).prevRows = 0;
    this.#rl.prompt(true);
  }

  /** Prints lines above the prompt. */
  print(text: string): void {
    this.#above(text);
  }

  /** Shows (or with no text, removes) the status line above the prompt. */
  status(text?: string): void {
    if (text === this.#status) return;
    this.#status = text;
    this.#above();
  }

  /** The lines entered, until Ctrl-D on an empty line or {@linkcode LineEditor.close}. */
  async *lines(): AsyncGenerator<string> {
    this.#rl.prompt();
    try {
      while (true) {
        if (!this.#queue.length) await new Promise<void>((r) => (this.#wake = r));
        const line = this.#queue.shift();
        if (line === null) return;
        if (line !== undefined) yield line;
      }
    } finally {
      this.close();
    }
  }

  /**
   * Ctrl-C goes to `handler` first: it returns true when it took it (a
   * transfer cancelled); otherwise Ctrl-C clears the line, or leaves on an
   * empty one.
   */
  onInterrupt(handler: () => boolean): void {
    this.#interrupt = handler;
  }

  /** Clears the screen (`/clear`; Ctrl-L does the same). */
  clear(): void {
    readline.cursorTo(this.#out, 0, 0);
    readline.clearScreenDown(this.#out);
    this.#statusShown = false;
    this.#above();
  }

  /** Hands the terminal back (cooked mode) for a moment, e.g. for a permission prompt. */
  suspend(): void {
    readline.cursorTo(this.#out, 0);
    readline.clearLine(this.#out, 0);
    this.#rl.pause();
    process.stdin.setRawMode?.(false);
  }

  /** Takes the terminal again after {@linkcode LineEditor.suspend}. */
  resume(): void {
    process.stdin.setRawMode?.(true);
    this.#rl.resume();
    this.#rl.prompt(true);
  }

  /** Restores the terminal. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rl.close();
    readline.cursorTo(this.#out, 0);
    readline.clearLine(this.#out, 0);
  }
}
