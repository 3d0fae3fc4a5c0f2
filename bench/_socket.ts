// A lean WebSocket for load generation: no frame log, a callback per text,
// and a promise for the first frame matching a test (hello ACK, ERROR).

/** A load-generating connection. */
export class BenchSocket {
  readonly socket: WebSocket;
  /** Called with every received text frame. */
  onText: (text: string) => void = () => {};
  /** Resolves when the socket has closed. */
  readonly closed: Promise<CloseEvent>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    socket.onmessage = (event) => this.onText(String(event.data));
    socket.onerror = () => {};
  }

  /** Opens `url` (trusting the CA behind `client`) and waits until it is open. */
  static open(url: string, client: Deno.HttpClient): Promise<BenchSocket> {
    const bench = new BenchSocket(new WebSocket(url, { client }));
    return new Promise((resolve, reject) => {
      bench.socket.onopen = () => resolve(bench);
      bench.closed.then((e) => reject(new Error(`closed before open (${e.code} ${e.reason})`)));
    });
  }

  /** Sends a text frame. */
  send(text: string): void {
    this.socket.send(text);
  }

  /** Resolves with the first received text for which `match` holds, or rejects on close. */
  first(match: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
    const previous = this.onText;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a frame")), timeoutMs);
      this.onText = (text) => {
        previous(text);
        if (!match(text)) return;
        clearTimeout(timer);
        this.onText = previous;
        resolve(text);
      };
      this.closed.then((e) => {
        clearTimeout(timer);
        reject(new Error(`closed (${e.code} ${e.reason})`));
      });
    });
  }

  /** Sends a signed USER_HELLO text and resolves once the server ACKs it. */
  async hello(helloText: string): Promise<void> {
    const reply = this.first((t) => ["ACK", "ERROR"].includes(typeOf(t)));
    this.send(helloText);
    const text = await reply;
    if (typeOf(text) !== "ACK") throw new Error(`hello refused: ${text.slice(0, 200)}`);
  }

  /** Closes the socket and waits for the close to finish. */
  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close(1000);
    await this.closed;
  }
}

/** The `type` of a frame text, read without parsing the whole frame when it comes first. */
export function typeOf(text: string): string {
  const head = /^\{"type":"([A-Z_]+)"/.exec(text);
  if (head) return head[1];
  try {
    return String(JSON.parse(text).type);
  } catch {
    return "";
  }
}
