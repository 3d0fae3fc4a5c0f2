/**
 * Reading an identity file a user imports (the terminal client's
 * `identity.json` or one exported by the web client), before it is stored.
 * The password check comes later, at unlock (client/keystore.ts).
 *
 * @module
 */

import type { KeystoreFile } from "../client/keystore.ts";
import { isUuidV4 } from "../protocol/ids.ts";

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
