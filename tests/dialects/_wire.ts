// Wire details the dialect simulators share (from docs/DIALECT-FACTS.md):
// Python's json.dumps text, keys as base64url of PEM text, and the strict
// checks the foreign implementations make (PSS salt 478 only, V1 preimages).

import {
  decodeBase64url,
  exportPublicKey,
  type Frame,
  type Identity,
  parsePublicKey,
  type PublicKey,
  signPayload,
} from "../../mod.ts";

/** `json.dumps(value)` as Python writes it: `", "` and `": "`, insertion order, ASCII only. */
export function pyDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyDumps).join(", ")}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${pyDumps(k)}: ${pyDumps(v)}`).join(", ")}}`;
}

/** A key as dialects A and B send it: base64url of the PEM text. */
export function pemOf(key: PublicKey): string {
  return exportPublicKey(key, "pem");
}

/** Loads a key the way A and B do: PEM text only (a DER key fails, "no start line"). */
export function loadPem(text: unknown): PublicKey | null {
  if (typeof text !== "string" || !text.startsWith("LS0tLS1CRUdJTi")) return null;
  const parsed = parsePublicKey(text);
  return parsed.ok ? parsed.key : null;
}

/** A frame in the dialect's envelope order, signed over the canonical payload (ensure_ascii). */
export async function signedFrame(
  signer: Identity,
  type: string,
  to: string,
  payload: Record<string, unknown>,
  ts: number = Date.now(),
): Promise<Record<string, unknown>> {
  const sig = await signPayload(signer.keys.privateKey, payload);
  return { type, from: signer.id, to, ts, payload, sig };
}

/** PSS verification as the dialects do it: salt 478 (PSS.MAX_LENGTH) only. */
export async function verifyMaxSalt(
  key: PublicKey,
  message: Uint8Array,
  sig: unknown,
): Promise<boolean> {
  const bytes = typeof sig === "string" ? decodeBase64url(sig) : null;
  if (!bytes || bytes.length !== 512) return false;
  return await crypto.subtle.verify(
    { name: "RSA-PSS", saltLength: 478 },
    await key.pss(),
    bytes as BufferSource,
    message as BufferSource,
  ).catch(() => false);
}

/** The V1 content-signature preimage: UTF-8 of the concatenated strings. */
export function v1(...parts: (string | number)[]): Uint8Array {
  return new TextEncoder().encode(parts.join(""));
}

/** A received frame as a loose record (the simulators check fields themselves). */
export type Loose = Frame & { payload: Record<string, unknown> };
