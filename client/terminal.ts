/**
 * Terminal input and output for the REPL: the {@linkcode Console} it
 * writes to, and plain line-by-line reading for scripts and pipes. On a
 * TTY the REPL uses the line editor of client/line_editor.ts instead.
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
  /** Clears the screen (terminals only). */
  clear?(): void;
  /** Gives Ctrl-C to `handler` first; it returns whether it took it (terminals only). */
  onInterrupt?(handler: () => boolean): void;
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
