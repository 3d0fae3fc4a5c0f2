/**
 * Identities at rest in the browser: the very keystore objects the
 * terminal client writes to `identity.json` (PBKDF2 600 000 + AES-GCM,
 * client/keystore.ts), kept in IndexedDB by user id, so an exported file
 * opens in either client.
 *
 * @module
 */

import type { KeystoreFile } from "../client/keystore.ts";
import { isUuidV4 } from "../protocol/ids.ts";

const DB_NAME = "socp";
const STORE = "identities";

/** Why an identity file cannot be imported, or its keystore. */
export function parseIdentityFile(text: string): KeystoreFile | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "not a socp identity file (it is not JSON)";
  }
  const f = value as Partial<KeystoreFile> | null;
  if (
    typeof f !== "object" || f === null || f.v !== 1 || f.kdf !== "pbkdf2-sha256" ||
    !isUuidV4(f.user_id) || typeof f.pubkey !== "string" || typeof f.salt !== "string" ||
    typeof f.iv !== "string" || typeof f.ct !== "string" || !Number.isSafeInteger(f.iter)
  ) {
    return "not a socp identity file (expected a v1 pbkdf2-sha256 keystore)";
  }
  if (f.name !== undefined && typeof f.name !== "string") return "the identity's name is not text";
  return f as KeystoreFile;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** The identities of this origin, in IndexedDB. */
export class IdentityStore {
  readonly #db: IDBDatabase;

  private constructor(db: IDBDatabase) {
    this.#db = db;
  }

  /** Opens (creating when new) the store in `factory` (the page's `indexedDB`). */
  static async open(factory: IDBFactory): Promise<IdentityStore> {
    const req = factory.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "user_id" });
    return new IdentityStore(await request(req));
  }

  #store(mode: IDBTransactionMode): IDBObjectStore {
    return this.#db.transaction(STORE, mode).objectStore(STORE);
  }

  /** Every stored identity, by name. */
  async list(): Promise<KeystoreFile[]> {
    const all = await request(this.#store("readonly").getAll()) as KeystoreFile[];
    return all.sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
  }

  /** Stores (or replaces) an identity; resolves once committed. */
  async put(file: KeystoreFile): Promise<void> {
    const tx = this.#db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put(file);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }

  /** Forgets an identity. */
  async remove(userId: string): Promise<void> {
    await request(this.#store("readwrite").delete(userId));
  }
}
