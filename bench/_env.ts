// What every benchmark section gets from the runner.

import type { DevCertificatePaths } from "../certs/mkcert.ts";

/** The RSA backends a run measures, in the order it measures them. */
export type BackendName = "webcrypto" | "openssl";

/** The runner's settings and shared TLS material. */
export interface BenchEnv {
  /** Seconds-long smoke run with small loads (figures are not meaningful). */
  quick: boolean;
  /** The RSA backend the section's nodes run (`--crypto`). */
  crypto: BackendName;
  /** Dev certificates (CA, leaf) for TLS listeners outside a cluster. */
  certs: DevCertificatePaths;
  /** An HTTP client trusting the dev CA. */
  client: Deno.HttpClient;
  /** Prints a progress line to stderr. */
  progress(message: string): void;
}

/** `full` normally, `quick` in a quick run. */
export function scaled<T>(env: BenchEnv, full: T, quick: T): T {
  return env.quick ? quick : full;
}
