// Loads the SOCP test vectors once per test file and imports their two test
// key pairs. The in-repo source is tests/fixtures/socp-vectors.json. Order:
// $SOCP_VECTORS, then an optional external copy beside the repository (a
// regenerated upstream file, read only if present), then tests/fixtures.

import { importPrivateKey, type KeyPair } from "../mod.ts";

// deno-lint-ignore no-explicit-any
export type Json = any;

const CANDIDATES = [
  Deno.env.get("SOCP_VECTORS"),
  new URL("../../shared/vectors/socp-vectors.json", import.meta.url).pathname,
  new URL("./fixtures/socp-vectors.json", import.meta.url).pathname,
];

async function load(): Promise<{ path: string; vectors: Json }> {
  for (const path of CANDIDATES) {
    if (!path) continue;
    try {
      return { path, vectors: JSON.parse(await Deno.readTextFile(path)) };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Error(`socp-vectors.json not found in: ${CANDIDATES.filter(Boolean).join(", ")}`);
}

const loaded = await load();
/** Where the vectors were read from. */
export const VECTORS_PATH: string = loaded.path;
/** The parsed vector file. */
export const V: Json = loaded.vectors;

/** The vector key pairs A and B (TEST KEYS ONLY). */
export const KEYS: Record<"A" | "B", KeyPair> = {
  A: await importPrivateKey(V.keys.A.private_pkcs8_der_b64url),
  B: await importPrivateKey(V.keys.B.private_pkcs8_der_b64url),
};

/** Hex string to bytes. */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex);
}
