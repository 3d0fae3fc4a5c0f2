/**
 * Terminal input and output for the REPL: on a TTY, a small line editor
 * (cursor keys, history, Ctrl-A/E/U/C/D) that keeps the prompt below
 * incoming messages and shows a transient status line (progress bars);
 * otherwise plain line-by-line reading, for scripts and pipes.
 *
 * @module
 */

/** What the REPL reads from and writes to. */
export interface Console {
  /** Prints lines above the prompt. */
  print(text: string): void;
  /** Shows a transient status line in place of the prompt (e.g. a progress bar); clears it without text. */
  status(text?: string): void;
  /** The lines the user enters, until end of input. */
  lines(): AsyncIterable<string>;
  /** Restores the terminal. */
  close(): void;
}

const encoder = new TextEncoder();

async function* splitLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, at).replace(/\r$/, "");
      buffer = buffer.slice(at + 1);
    }
  }
  if (buffer) yield buffer;
}

/**
 * Line-by-line console for pipes and scripts.
 *
 * @example
 * ```ts
 * import { PlainConsole } from "./terminal.ts";
 * const out: string[] = [];
 * const plain = new PlainConsole(ReadableStream.from([new TextEncoder().encode("/list\n")]), (l) => out.push(l));
 * for await (const line of plain.lines()) plain.print(line);
 * out; // ["/list"]
 * ```
 */
export class PlainConsole implements Console {
  readonly #input: ReadableStream<Uint8Array>;
  readonly #write: (line: string) => void;

  constructor(
    input: ReadableStream<Uint8Array> = Deno.stdin.readable,
    write: (line: string) => void = (line) => Deno.stdout.writeSync(encoder.encode(line + "\n")),
  ) {
    this.#input = input;
    this.#write = write;
  }

  print(text: string): void {
    this.#write(text);
  }

  status(): void {
    // No transient lines on a pipe: progress goes out as events instead.
  }

  lines(): AsyncIterable<string> {
    return splitLines(this.#input);
  }

  close(): void {}
}

// One key or escape sequence, code-point aware.
// deno-lint-ignore no-control-regex
const TOKEN = /\x1b\[[0-9;]*[A-Za-z~]|\x1bO[A-Za-z]|[\s\S]/gu;

/**
 * Raw-mode line editor for a TTY.
 */
export class LineEditor implements Console {
  readonly #prompt: string;
  readonly #history: string[] = [];
  #buffer = "";
  #cursor = 0;
  #browse = -1;
  #status?: string;

  constructor(prompt = "> ") {
    this.#prompt = prompt;
  }

  #write(text: string): void {
    Deno.stdout.writeSync(encoder.encode(text));
  }

  #render(): void {
    if (this.#status !== undefined) {
      this.#write(`\r\x1b[2K${this.#status}`);
      return;
    }
    const chars = [...this.#buffer];
    this.#write(`\r\x1b[2K${this.#prompt}${this.#buffer}`);
    const back = chars.length - this.#cursor;
    if (back > 0) this.#write(`\x1b[${back}D`);
  }

  print(text: string): void {
    this.#write(`\r\x1b[2K${text.replaceAll("\n", "\r\n")}\r\n`);
    this.#render();
  }

  status(text?: string): void {
    this.#status = text;
    this.#render();
  }

  #set(buffer: string): void {
    this.#buffer = buffer;
    this.#cursor = [...buffer].length;
  }

  /** Applies one key; returns a finished line, "EOF", or undefined. */
  #key(key: string): string | undefined {
    const chars = [...this.#buffer];
    switch (key) {
      case "\r":
      case "\n": {
        const line = this.#buffer;
        if (line.trim() && line !== this.#history.at(-1)) this.#history.push(line);
        this.#browse = -1;
        this.#write(`\r\x1b[2K${this.#prompt}${line}\r\n`);
        this.#set("");
        return line;
      }
      case "\x03": // Ctrl-C: clear the line, or leave on an empty one
        if (this.#buffer) this.#set("");
        else return "/quit";
        break;
      case "\x04": // Ctrl-D on an empty line: end of input
        if (!this.#buffer) return "EOF";
        break;
      case "\x15": // Ctrl-U
        this.#set("");
        break;
      case "\x7f":
      case "\b":
        if (this.#cursor > 0) {
          chars.splice(this.#cursor - 1, 1);
          this.#buffer = chars.join("");
          this.#cursor--;
        }
        break;
      case "\x1b[3~": // Delete
        chars.splice(this.#cursor, 1);
        this.#buffer = chars.join("");
        break;
      case "\x1b[D":
      case "\x1bOD":
        this.#cursor = Math.max(0, this.#cursor - 1);
        break;
      case "\x1b[C":
      case "\x1bOC":
        this.#cursor = Math.min(chars.length, this.#cursor + 1);
        break;
      case "\x01":
      case "\x1b[H":
      case "\x1b[1~":
        this.#cursor = 0;
        break;
      case "\x05":
      case "\x1b[F":
      case "\x1b[4~":
        this.#cursor = chars.length;
        break;
      case "\x1b[A":
      case "\x1bOA":
        if (this.#history.length) {
          this.#browse = this.#browse < 0
            ? this.#history.length - 1
            : Math.max(0, this.#browse - 1);
          this.#set(this.#history[this.#browse]);
        }
        break;
      case "\x1b[B":
      case "\x1bOB":
        if (this.#browse >= 0) {
          this.#browse++;
          this.#set(this.#browse < this.#history.length ? this.#history[this.#browse] : "");
          if (this.#browse >= this.#history.length) this.#browse = -1;
        }
        break;
      default:
        if (key >= " " && !key.startsWith("\x1b")) {
          chars.splice(this.#cursor, 0, key);
          this.#buffer = chars.join("");
          this.#cursor++;
        }
    }
    return undefined;
  }

  async *lines(): AsyncGenerator<string> {
    Deno.stdin.setRaw(true);
    this.#render();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of Deno.stdin.readable) {
        for (const [key] of decoder.decode(chunk, { stream: true }).matchAll(TOKEN)) {
          const line = this.#key(key);
          if (line === "EOF") return;
          if (line !== undefined) yield line;
          this.#render();
        }
      }
    } finally {
      this.close();
    }
  }

  /** Hands the terminal back (cooked mode) for a moment, e.g. for a permission prompt. */
  suspend(): void {
    this.#write("\r\x1b[2K");
    Deno.stdin.setRaw(false);
  }

  /** Takes the terminal again after {@linkcode LineEditor.suspend}. */
  resume(): void {
    Deno.stdin.setRaw(true);
    this.#render();
  }

  close(): void {
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // stdin already closed
    }
    this.#write("\r\x1b[2K");
  }
}
