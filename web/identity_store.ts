/**
 * Identities at rest in the browser: the very keystore objects the
 * terminal client writes to `identity.json` (PBKDF2 600 000 + AES-GCM,
 * client/keystore.ts), kept in IndexedDB by user id, so an exported file
 * opens in either client.
 *
 * @module
 */

import type { KeystoreFile } from "../client/keystore.ts";

const DB_NAME = "socp";
const STORE = "identities";

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
