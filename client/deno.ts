/**
 * The Deno side of the client: TLS connections with a custom CA, downloads
 * written atomically without ever overwriting, and the identity file (mode
 * 0600). The SDK itself (`sdk.ts`) uses only this adapter interface, so it
 * runs unchanged in a browser with another adapter.
 *
 * @module
 */

import { diagnose } from "./connect_errors.ts";
import type { Identity } from "../protocol/builders.ts";
import { newId } from "../protocol/ids.ts";
import { generateKeyPair } from "../protocol/keys.ts";
import { type KeystoreFile, openIdentity, sealIdentity } from "./keystore.ts";
import type { ClientAdapter } from "./sdk.ts";

/** Options of {@linkcode DenoAdapter}. */
export interface DenoAdapterOptions {
  /** PEM of a CA to trust for `wss://` (in addition to the system roots). */
  caCert?: string;
  /** Allow plain `ws://` URLs (development only). Certificate checks are never disabled. */
  insecure?: boolean;
  /** Where received files go. */
  downloadsDir: string;
}

/**
 * Connects and saves files for the SDK, in Deno.
 *
 * @example
 * ```ts
 * import { DenoAdapter } from "@socp/socp/client";
 * const adapter = new DenoAdapter({ downloadsDir: await Deno.makeTempDir() });
 * adapter.close();
 * ```
 */
export class DenoAdapter implements ClientAdapter {
  readonly #client?: Deno.HttpClient;
  readonly #caCert?: string;
  readonly #insecure: boolean;
  readonly #downloadsDir: string;

  /** An adapter with `options`; call {@linkcode DenoAdapter.close} when done. */
  constructor(options: DenoAdapterOptions) {
    this.#client = options.caCert
      ? Deno.createHttpClient({ caCerts: [options.caCert] })
      : undefined;
    this.#caCert = options.caCert;
    this.#insecure = options.insecure ?? false;
    this.#downloadsDir = options.downloadsDir;
  }

  /**
   * Opens a WebSocket to `url` (`wss://`; `ws://` only when `insecure`). A
   * connection that fails rejects with a `ConnectError` saying why.
   */
  connect(url: string): Promise<WebSocket> {
    const scheme = new URL(url).protocol;
    if (scheme === "ws:" && !this.#insecure) {
      return Promise.reject(
        new Error(`${url} is not encrypted: use wss://, or --insecure for local development`),
      );
    }
    if (scheme !== "ws:" && scheme !== "wss:") {
      return Promise.reject(new Error(`${url}: expected wss:// (or ws://)`));
    }
    return new Promise((resolve, reject) => {
      const socket = this.#client
        ? new WebSocket(url, { client: this.#client })
        : new WebSocket(url);
      socket.onopen = () => {
        socket.onopen = socket.onerror = socket.onclose = null;
        resolve(socket);
      };
      socket.onerror = () => {};
      // The WebSocket API tells every failure alike: ask the server again why (a ConnectError).
      socket.onclose = () =>
        diagnose(url, { caCert: this.#caCert, client: this.#client }).then(reject);
    });
  }

  /**
   * Writes a received file into the downloads directory, never overwriting
   * (`a.txt` becomes `a (1).txt`); resolves with its path.
   */
  async saveFile(name: string, bytes: Uint8Array): Promise<string> {
    await Deno.mkdir(this.#downloadsDir, { recursive: true, mode: 0o700 });
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let n = 0; n < 1000; n++) {
      const path = `${this.#downloadsDir}/${n === 0 ? name : `${stem} (${n})${ext}`}`;
      if (await writeNewFile(path, bytes, 0o600)) return path;
    }
    throw new Error(`too many files named ${name} in ${this.#downloadsDir}`);
  }

  /** Releases the TLS client. */
  close(): void {
    this.#client?.close();
  }
}

/**
 * Writes `bytes` to `path` only if nothing is there: a temporary file in the
 * same directory, flushed, then hard-linked into place (which fails instead
 * of overwriting). Returns false if `path` exists.
 *
 * @example
 * ```ts
 * import { writeNewFile } from "./deno.ts";
 * const dir = await Deno.makeTempDir();
 * await writeNewFile(`${dir}/a`, new Uint8Array([1]), 0o600); // true
 * await writeNewFile(`${dir}/a`, new Uint8Array([2]), 0o600); // false
 * ```
 */
export async function writeNewFile(
  path: string,
  bytes: Uint8Array,
  mode: number,
): Promise<boolean> {
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  const tmp = `${dir}/.socp-${crypto.randomUUID()}.part`;
  await Deno.writeFile(tmp, bytes, { createNew: true, mode });
  const file = await Deno.open(tmp, { write: true });
  try {
    await file.sync(); // on disk before it becomes visible under its name
  } finally {
    file.close();
  }
  try {
    await Deno.link(tmp, path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  } finally {
    await Deno.remove(tmp);
  }
}

/** Name of the identity file inside the data directory. */
export const IDENTITY_FILE = "identity.json";

/**
 * Opens the identity in `dataDir` with `password`, or creates one (a fresh
 * UUIDv4 and RSA-4096 key pair) if there is none. Refuses an identity file
 * readable by others.
 *
 * @throws {SocpError} `AUTH_FAILED` for a wrong password.
 *
 * @example
 * ```ts
 * import { loadOrCreateIdentity } from "@socp/socp/client";
 * const dir = await Deno.makeTempDir();
 * const { identity, created } = await loadOrCreateIdentity(dir, "pw", "Alice");
 * created; // true
 * ```
 */
export async function loadOrCreateIdentity(
  dataDir: string,
  password: string,
  name: string,
): Promise<{ identity: Identity; created: boolean }> {
  const path = `${dataDir}/${IDENTITY_FILE}`;
  let text: string | undefined;
  try {
    const info = await Deno.stat(path);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new Error(`${path} must not be readable by group or others (chmod 600 ${path})`);
    }
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (text !== undefined) {
    return { identity: await openIdentity(JSON.parse(text), password), created: false };
  }
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const identity = { id: newId(), keys: await generateKeyPair() };
  const sealed: KeystoreFile = await sealIdentity(identity, password, name);
  if (
    !(await writeNewFile(
      path,
      new TextEncoder().encode(JSON.stringify(sealed, null, 2) + "\n"),
      0o600,
    ))
  ) {
    throw new Error(`${path} appeared while creating it; not overwriting`);
  }
  return { identity, created: true };
}
