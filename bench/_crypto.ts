// The RSA backends of the bench process: WebCrypto always, OpenSSL when
// libcrypto 3 loads. The load generators (this process's SDK code: hellos,
// prepared DMs, file chunks, end-to-end checks) run on OpenSSL in every
// section so they are not the bottleneck; the ceilings install each backend
// in turn; the file section's receiver, the one client that is measured,
// runs the section's backend.

import { loadOpenSsl, OpenSslUnavailable } from "../crypto/openssl.ts";
import {
  type RsaBackend,
  rsaBackend,
  useRsaBackend,
  webCryptoBackend,
} from "../protocol/rsa_backend.ts";
import type { BackendName } from "./_env.ts";

/** The backends this process can install, and which one the load generators use. */
export interface BenchBackends {
  /** By name; `openssl` is missing when libcrypto 3 did not load. */
  byName: Partial<Record<BackendName, RsaBackend>>;
  /** The names, WebCrypto first. */
  names: BackendName[];
  /** OpenSSL's version text, or null. */
  openssl: string | null;
  /** Why OpenSSL did not load. */
  opensslError?: string;
  /** The load generators' backend. */
  load: BackendName;
}

/** Loads OpenSSL if it can and installs the load generators' backend process-wide. */
export function loadBackends(): BenchBackends {
  const byName: Partial<Record<BackendName, RsaBackend>> = { webcrypto: webCryptoBackend };
  let openssl: string | null = null;
  let opensslError: string | undefined;
  try {
    const backend = loadOpenSsl();
    byName.openssl = backend;
    openssl = backend.version;
  } catch (e) {
    if (!(e instanceof OpenSslUnavailable)) throw e;
    opensslError = e.message;
  }
  const load: BackendName = byName.openssl ? "openssl" : "webcrypto";
  useRsaBackend(byName[load]!);
  return {
    byName,
    names: Object.keys(byName) as BackendName[],
    openssl,
    opensslError,
    load,
  };
}

/** Runs `task` with `backend` installed in this process, then restores the one before. */
export async function withBackend<T>(backend: RsaBackend, task: () => Promise<T>): Promise<T> {
  const previous = rsaBackend();
  useRsaBackend(backend);
  try {
    return await task();
  } finally {
    useRsaBackend(previous);
  }
}
