/**
 * One process per data directory. Two nodes on one directory would share a
 * server id and key, and so look like one server to the mesh while holding
 * different links and users. The lock is an advisory exclusive lock on
 * `socp.lock`, held for the life of the process (the OS drops it when the
 * process dies, even by SIGKILL), and the file names its holder.
 *
 * @module
 */

/** File name of the lock inside the data directory. */
export const LOCK_FILE = "socp.lock";

/** Who holds a data directory. */
export interface LockHolder {
  pid: number;
  role: string;
  /** ISO time the holder started. */
  since: string;
}

/**
 * A held data-directory lock.
 *
 * @example
 * ```ts
 * import { DataDirLock } from "./data_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await DataDirLock.acquire(dir, "server");
 * await DataDirLock.acquire(dir, "server").catch((e) => e.message); // "… in use by …"
 * lock.release();
 * ```
 */
export class DataDirLock {
  readonly #file: Deno.FsFile;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Takes the lock of `dataDir`, or throws naming the process that holds it. */
  static async acquire(dataDir: string, role: string): Promise<DataDirLock> {
    const path = `${dataDir}/${LOCK_FILE}`;
    const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    if (!file.tryLockSync(true)) {
      const holder = await readHolder(path);
      file.close();
      const who = holder
        ? `${holder.role} process ${holder.pid} (running since ${holder.since})`
        : "another process";
      throw new Error(
        `data directory ${dataDir} is in use by ${who}; stop it, or give this one another --data`,
      );
    }
    const holder: LockHolder = { pid: Deno.pid, role, since: new Date().toISOString() };
    await file.truncate(0);
    await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
    return new DataDirLock(file);
  }

  /** Releases the lock (at shutdown). */
  release(): void {
    try {
      this.#file.unlockSync();
      this.#file.close();
    } catch {
      // already released
    }
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const value = JSON.parse(await Deno.readTextFile(path));
    return typeof value?.pid === "number" ? value as LockHolder : undefined;
  } catch {
    return undefined; // being written, or not ours
  }
}
