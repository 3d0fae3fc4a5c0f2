/**
 * A node's persistent identity (SOCP.md §10.4): its server_id (in the
 * database) and its RSA-4096 key (a PKCS#8 PEM file, mode 0600, in the data
 * directory). Both are created once; the key is never regenerated, because
 * peers pin it.
 *
 * @module
 */

import {
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  type KeyPair,
} from "../protocol/keys.ts";
import { newId } from "../protocol/ids.ts";
import type { Identity } from "../protocol/builders.ts";
import type { Store } from "./store.ts";

/** File name of the identity key inside the data directory. */
export const KEY_FILE = "server.key";
const ID_SETTING = "server_id";

function toPem(der: Uint8Array): string {
  const body = der.toBase64().match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

function fromPem(text: string): Uint8Array {
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(text);
  if (!m) throw new Error(`${KEY_FILE} is not a PKCS#8 PEM private key`);
  return Uint8Array.fromBase64(m[1].replace(/\s+/g, ""));
}

/**
 * Writes a file atomically with the given mode: a temporary file in the same
 * directory, then a rename, so a crash never leaves a half-written file.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./identity.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/x`, "hello", 0o600);
 * ```
 */
export async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text, { mode, createNew: true });
    await Deno.chmod(tmp, mode); // the umask may have narrowed or widened it
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Loads the node identity from `dataDir` and `store`, creating what is
 * missing: a fresh UUIDv4 and a fresh RSA-4096 key written with mode 0600.
 * Refuses a key file readable by others.
 *
 * @example
 * ```ts
 * import { loadOrCreateIdentity } from "./identity.ts";
 * import { Store } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * const me = await loadOrCreateIdentity(dir, Store.open(":memory:"));
 * me.keys.publicKey.der.length; // 550
 * ```
 */
export async function loadOrCreateIdentity(dataDir: string, store: Store): Promise<Identity> {
  const path = `${dataDir}/${KEY_FILE}`;
  let pem: string | undefined;
  try {
    const info = await Deno.stat(path);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new Error(`${path} must not be readable by group or others (chmod 600 ${path})`);
    }
    pem = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  let keys: KeyPair;
  if (pem === undefined) {
    keys = await generateKeyPair();
    await writeFileAtomic(path, toPem(await exportPrivateKey(keys.privateKey)), 0o600);
  } else {
    keys = await importPrivateKey(fromPem(pem));
  }
  let id = store.getSetting(ID_SETTING);
  if (!id) {
    id = newId();
    store.setSetting(ID_SETTING, id);
  }
  return { id, keys };
}

/**
 * Persists a server_id assigned by an introducer.
 *
 * @example
 * ```ts
 * import { saveServerId } from "./identity.ts";
 * import { Store } from "./store.ts";
 * const store = Store.open(":memory:");
 * saveServerId(store, crypto.randomUUID());
 * ```
 */
export function saveServerId(store: Store, id: string): void {
  store.setSetting(ID_SETTING, id);
}

/**
 * Writes a key pair as this node's identity key file (used to provision test
 * nodes with pre-generated keys, and by operators restoring a backup).
 *
 * @example
 * ```ts
 * import { writeIdentityKey } from "./identity.ts";
 * import { generateKeyPair } from "../protocol/keys.ts";
 * const dir = await Deno.makeTempDir();
 * await writeIdentityKey(dir, await generateKeyPair());
 * ```
 */
export async function writeIdentityKey(dataDir: string, keys: KeyPair): Promise<void> {
  await writeFileAtomic(
    `${dataDir}/${KEY_FILE}`,
    toPem(await exportPrivateKey(keys.privateKey)),
    0o600,
  );
}
