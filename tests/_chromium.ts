// A headless Chromium for end-to-end tests, driven over the DevTools
// protocol (CDP) with nothing but a WebSocket: pages, keyboard input,
// clicks, file inputs, downloads and screenshots. Chromium trusts exactly
// the test servers' key (--ignore-certificate-errors-spki-list pins its
// SPKI hash); certificate checks stay on for everything else.

import { waitUntil } from "./_cluster.ts";

type Json = Record<string, unknown>;

/** Debian's chromium, or null when it is not installed. */
export async function findChromium(): Promise<string | null> {
  for (const path of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (await Deno.stat(path).then(() => true, () => false)) return path;
  }
  return null;
}

/** Base64 SHA-256 of the SubjectPublicKeyInfo of the dev certificates' key (PEM PKCS#8, P-256). */
async function spkiHash(keyPath: string): Promise<string> {
  const pem = await Deno.readTextFile(keyPath);
  const der = Uint8Array.fromBase64(pem.replace(/-----[^-]+-----|\s/g, ""));
  const algorithm = { name: "ECDSA", namedCurve: "P-256" };
  const key = await crypto.subtle.importKey("pkcs8", der, algorithm, true, ["sign"]);
  const { d: _private, ...jwk } = await crypto.subtle.exportKey("jwk", key);
  const pub = await crypto.subtle.importKey(
    "jwk",
    { ...jwk, key_ops: ["verify"] },
    algorithm,
    true,
    [
      "verify",
    ],
  );
  const spki = await crypto.subtle.exportKey("spki", pub);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", spki)).toBase64();
}

/** One CDP connection; commands are sent to the browser or to a page's session. */
class Cdp {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Set<(method: string, params: Json, session?: string) => void>();
  #next = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.id !== undefined) {
        const waiter = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) waiter?.reject(new Error(`${msg.error.message} ${msg.error.data ?? ""}`));
        else waiter?.resolve(msg.result);
      } else {
        for (const listener of this.#listeners) listener(msg.method, msg.params, msg.sessionId);
      }
    };
  }

  static async connect(url: string): Promise<Cdp> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`cannot reach the DevTools endpoint ${url}`));
    });
    return new Cdp(socket);
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = this.#next++;
    this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  on(listener: (method: string, params: Json, session?: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    const closed = new Promise((r) => (this.#socket.onclose = r));
    this.#socket.close();
    await closed;
  }
}

/** One tab. */
export class Page {
  readonly #cdp: Cdp;
  readonly #session: string;
  readonly errors: string[] = [];

  constructor(cdp: Cdp, session: string) {
    this.#cdp = cdp;
    this.#session = session;
    cdp.on((method, params, session) => {
      if (session !== this.#session) return;
      if (method === "Runtime.exceptionThrown") {
        const d = params.exceptionDetails as Json;
        this.errors.push(String((d.exception as Json)?.description ?? d.text));
      }
    });
  }

  #send(method: string, params: Json = {}): Promise<Json> {
    return this.#cdp.send(method, params, this.#session);
  }

  /** Loads `url` and waits for the load event. */
  async goto(url: string): Promise<void> {
    const loaded = this.#event("Page.loadEventFired");
    await this.#send("Page.navigate", { url });
    await loaded;
  }

  /** Reloads and waits for the load event. */
  async reload(): Promise<void> {
    const loaded = this.#event("Page.loadEventFired");
    await this.#send("Page.reload");
    await loaded;
  }

  #event(name: string): Promise<Json> {
    return new Promise((resolve) => {
      const off = this.#cdp.on((method, params, session) => {
        if (session === this.#session && method === name) {
          off();
          resolve(params);
        }
      });
    });
  }

  /** The value of `expression` in the page (promises awaited). */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.#send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails as Json;
      throw new Error(`${expression}: ${(d.exception as Json)?.description ?? d.text}`);
    }
    return (r.result as Json).value as T;
  }

  /** Waits until `expression` is truthy in the page (a throw, e.g. while loading, is false). */
  async waitFor(expression: string, what: string, timeoutMs = 20_000): Promise<void> {
    await waitUntil(() => this.eval(expression).then(Boolean, () => false), timeoutMs, what);
  }

  /** Samples `expression` every 50 ms until `stop()`; `seen` holds each distinct value. */
  watch(expression: string): { seen: string[]; stop: () => void } {
    const seen: string[] = [];
    const timer = setInterval(() => {
      this.eval(expression).then((v) => {
        if (seen.at(-1) !== String(v)) seen.push(String(v));
      }, () => {});
    }, 50);
    return { seen, stop: () => clearInterval(timer) };
  }

  /** The text of the first element matching `selector` ("" when none). */
  text(selector: string): Promise<string> {
    return this.eval(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ""`);
  }

  /** Focuses `selector` and types `text` as keyboard input. */
  async type(selector: string, text: string): Promise<void> {
    await this.eval(`document.querySelector(${JSON.stringify(selector)}).focus()`);
    await this.#send("Input.insertText", { text });
  }

  /** Presses a key (e.g. "Enter", "Tab") on the focused element. */
  async press(key: "Enter" | "Tab"): Promise<void> {
    const code = { Enter: 13, Tab: 9 }[key];
    const base = { key, code: key, windowsVirtualKeyCode: code, nativeVirtualKeyCode: code };
    const text = key === "Enter" ? { text: "\r" } : {};
    await this.#send("Input.dispatchKeyEvent", { type: "keyDown", ...base, ...text });
    await this.#send("Input.dispatchKeyEvent", { type: "keyUp", ...base });
  }

  /** Clicks the element matching `selector` with the mouse, at its centre. */
  async click(selector: string): Promise<void> {
    const box = await this.eval<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`);
    if (!box) throw new Error(`nothing matches ${selector}`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.#send("Input.dispatchMouseEvent", { type, ...box, button: "left", clickCount: 1 });
    }
  }

  /** Puts `paths` into the file input `selector` (as a user picking files would). */
  async setFiles(selector: string, paths: string[]): Promise<void> {
    const r = await this.#send("Runtime.evaluate", {
      expression: `document.querySelector(${JSON.stringify(selector)})`,
    });
    const objectId = (r.result as Json).objectId;
    await this.#send("DOM.setFileInputFiles", { files: paths, objectId });
  }

  /** Sets the viewport size. */
  async viewport(width: number, height: number): Promise<void> {
    await this.#send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: width < 600,
    });
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Uint8Array> {
    const r = await this.#send("Page.captureScreenshot", { format: "png" });
    return Uint8Array.fromBase64(r.data as string);
  }
}

/** A headless Chromium process with its own profile directory. */
export class Chromium {
  readonly #child: Deno.ChildProcess;
  readonly #cdp: Cdp;
  readonly #profile: string;
  /** Where downloads land. */
  readonly downloads: string;

  private constructor(child: Deno.ChildProcess, cdp: Cdp, profile: string) {
    this.#child = child;
    this.#cdp = cdp;
    this.#profile = profile;
    this.downloads = `${profile}/downloads`;
  }

  /**
   * Starts Chromium trusting, besides the system roots, certificates of the
   * key in `trustKeyPath` when given.
   */
  static async launch(executable: string, trustKeyPath?: string): Promise<Chromium> {
    const trust = trustKeyPath
      ? [`--ignore-certificate-errors-spki-list=${await spkiHash(trustKeyPath)}`]
      : [];
    const profile = await Deno.makeTempDir({ prefix: "socp-chromium-" });
    const child = new Deno.Command(executable, {
      args: [
        "--headless=new",
        "--no-sandbox", // CI runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        `--user-data-dir=${profile}`,
        "--remote-debugging-port=0",
        ...trust,
        "about:blank",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const portFile = `${profile}/DevToolsActivePort`;
    await waitUntil(
      () => Deno.readTextFile(portFile).then((t) => t.split("\n").length >= 2, () => false),
      20_000,
      "Chromium's DevTools port",
    );
    const [port, path] = (await Deno.readTextFile(portFile)).split("\n");
    const cdp = await Cdp.connect(`ws://127.0.0.1:${port}${path}`);
    const browser = new Chromium(child, cdp, profile);
    await Deno.mkdir(browser.downloads);
    await cdp.send("Browser.setDownloadBehavior", {
      behavior: "allow",
      downloadPath: browser.downloads,
      eventsEnabled: true,
    });
    return browser;
  }

  /** A new tab at `url`. */
  async page(url: string): Promise<Page> {
    const { targetId } = await this.#cdp.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.#cdp.send("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(this.#cdp, sessionId as string);
    for (const domain of ["Page", "Runtime"]) {
      await this.#cdp.send(`${domain}.enable`, {}, sessionId as string);
    }
    await page.goto(url);
    return page;
  }

  /** Waits for a download named `name` to complete; returns its bytes. */
  async downloaded(name: string, timeoutMs = 20_000): Promise<Uint8Array> {
    const path = `${this.downloads}/${name}`;
    await waitUntil(
      async () => {
        const names = [];
        for await (const e of Deno.readDir(this.downloads)) names.push(e.name);
        return names.includes(name) && !names.some((n) => n.endsWith(".crdownload"));
      },
      timeoutMs,
      `download of ${name}`,
    );
    return await Deno.readFile(path);
  }

  /** Closes the browser and removes its profile. */
  async close(): Promise<void> {
    await this.#cdp.send("Browser.close").catch(() => {});
    await this.#cdp.close().catch(() => {});
    await this.#child.status;
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}
