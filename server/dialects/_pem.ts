/** Keys in the form dialects A and B load. @module */

import { exportPublicKey, parsePublicKey } from "../../protocol/keys.ts";

/** A key in the PEM-text form dialects A and B load (the input is any accepted form). */
export function pem(key: string): string {
  const parsed = parsePublicKey(key);
  return parsed.ok ? exportPublicKey(parsed.key, "pem") : key;
}
