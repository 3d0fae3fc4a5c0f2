// Wire details of dialect C (docs/DIALECT-FACTS.md §0, §C.1, §C.2): keys as
// base64url DER SPKI only (4096-bit), transport signatures over Python's
// sort_keys/compact json.dumps (which, unlike our canonical JSON, allows the
// float seconds of `user_locations`), V2 content signatures over the raw
// ciphertext bytes (the DM and the file-chunk forms), and the inbound limits.

import {
  decodeBase64url,
  decryptWith,
  encryptFor,
  type Identity,
  isUuidV4,
  type KeyPair,
  OAEP_MAX_PLAINTEXT,
  parsePublicKey,
  type PrivateKey,
  type PublicKey,
  sha256Hex,
  signBytes,
} from "../../mod.ts";
import { pyDumps, verifyMaxSalt } from "./_wire.ts";

/** A frame as C reads it: any `type` string (_wire.ts's Loose knows only SOCP's). */
export interface CLoose {
  type: string;
  from: string;
  to: string;
  ts: number;
  payload: Record<string, unknown>;
  sig?: unknown;
}

const encoder = new TextEncoder();
/** base64url of "-----BEGIN": how a PEM key (A, B) starts. */
const PEM_B64 = "LS0tLS1CRUdJTi";

/** A UUIDv4 in canonical lowercase form, as C requires of ids. */
export function isCanonicalUuid(id: unknown): id is string {
  return isUuidV4(id) && id === id.toLowerCase();
}

/** C's server handlers (§C.1); anything else draws ERROR UNKNOWN_TYPE. */
export const KNOWN = new Set(
  ("HEARTBEAT USER_ADVERTISE USER_REMOVE USER_HELLO MSG_DIRECT USER_MESSAGE MSG_PUBLIC_CHANNEL " +
    "SERVER_DELIVER FILE_START FILE_CHUNK FILE_END SERVER_ANNOUNCE SERVER_WELCOME CLIENT_WELCOME " +
    "CLIENT_REGISTER LOCAL_REGISTER REGISTER LOGIN_REQUEST LIST_REQUEST PUBKEY_REQUEST " +
    "PUBLIC_MEMBERS_SNAPSHOT PUBLIC_CHANNEL_KEY_SHARE CTRL_CLOSE").split(" "),
);
/** Types C does not transport-verify on a server link (§C.2). */
export const EXEMPT = new Set([
  "SERVER_HELLO_JOIN",
  "SERVER_WELCOME",
  "SERVER_ANNOUNCE",
  "HEARTBEAT",
]);
/** Client first frames (C clients are out of scope). */
export const CLIENT_FIRST = new Set(["USER_HELLO", "LOCAL_REGISTER", "LOGIN_REQUEST"]);

/** A server socket as the simulator keeps it. */
export interface Link {
  socket: WebSocket;
  /** The peer's id on this socket; its pinned key is `#keys.get(peer)`. */
  peer?: string;
  /** The ws_uri this side dialled (C redials it after a timeout). */
  dialled?: string;
  started: boolean;
  lastSeen: number;
  /** While dialling: settles link() with null (linked) or why not. */
  pending?: (why: string | null) => void;
}

/** A frame off the wire, or why it is none. */
export function parseC(text: string): CLoose | string {
  let f: CLoose;
  try {
    f = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  const ok = typeof f?.type === "string" && typeof f.payload === "object" && f.payload !== null;
  return ok ? f : "not a frame";
}

/** Loads a key as C does: base64url(DER SPKI) with a 4096-bit modulus; else why not. */
export function loadDer(text: unknown): { key: PublicKey } | { why: string } {
  if (typeof text !== "string" || text === "") return { why: "no key" };
  if (text.startsWith(PEM_B64)) return { why: "PEM key (C loads DER only)" };
  const parsed = parsePublicKey(text);
  return parsed.ok ? { key: parsed.key } : { why: parsed.error.detail };
}

/**
 * `json.dumps(payload, sort_keys=True, separators=(",", ":"))`, ensure_ascii.
 * Numbers are written as JavaScript does, which equals Python's repr for ints
 * and for floats with a fraction (C's float `ts`); floats ≥ 1e16 never occur.
 */
export function pyCanonical(value: unknown): string {
  if (value === null || typeof value !== "object") return pyDumps(value);
  if (Array.isArray(value)) return `[${value.map(pyCanonical).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  return `{${keys.map((k) => `${pyDumps(k)}:${pyCanonical(record[k])}`).join(",")}}`;
}

/** A frame in C's envelope order, signed by `signer` over the payload; `from` may differ. */
export async function cFrame(
  signer: Identity,
  type: string,
  from: string,
  to: string,
  payload: Record<string, unknown>,
  ts: number = Date.now(),
): Promise<Record<string, unknown>> {
  const sig = await signBytes(signer.keys.privateKey, encoder.encode(pyCanonical(payload)));
  return { type, from, to, ts, payload, sig };
}

/** Transport verification as C does it (salt 478 only). */
export function verifyC(key: PublicKey, f: CLoose): Promise<boolean> {
  return verifyMaxSalt(key, encoder.encode(pyCanonical(f.payload)), f.sig);
}

/**
 * A V2 preimage: the raw ciphertext bytes, then UTF-8 of the other parts
 * joined. DM: (ct, from, to, ts); file chunk: (ct, from, to, ts, file_id,
 * index, total) — C's own file form, which protocol/content_sig.ts lacks.
 */
export function v2(ciphertext: unknown, ...parts: unknown[]): Uint8Array | null {
  const raw = typeof ciphertext === "string" ? decodeBase64url(ciphertext) : null;
  if (!raw) return null;
  const tail = encoder.encode(parts.map(String).join(""));
  const out = new Uint8Array(raw.length + tail.length);
  out.set(raw);
  out.set(tail, raw.length);
  return out;
}

/** Signs a V2 preimage (PSS salt 478). */
function signV2(key: PrivateKey, ciphertext: string, ...parts: unknown[]): Promise<string> {
  return signBytes(key, v2(ciphertext, ...parts)!);
}

/** Verifies a V2 content signature with salt 478 only. */
export async function verifyV2(
  key: PublicKey,
  sig: unknown,
  ciphertext: unknown,
  ...parts: unknown[]
): Promise<boolean> {
  const message = v2(ciphertext, ...parts);
  return message !== null && await verifyMaxSalt(key, message, sig);
}

/** Float seconds as Python's time.time() gives them (never integral, so repr keeps a fraction). */
export function floatSeconds(): number {
  const s = (performance.timeOrigin + performance.now()) / 1000;
  return Number.isInteger(s) ? s + 0.001 : s;
}

/** C's inbound limits (§C.1): payload ≤ 64 KiB, 64 frames per 2 s per `from`, 2000-entry dedup. */
export class CLimits {
  static readonly MAX_PAYLOAD = 64 * 1024;
  static readonly BURST = 64;
  static readonly WINDOW_MS = 2000;
  static readonly DEDUP = 2000;
  readonly #rate = new Map<string, { start: number; count: number }>();
  readonly #seen = new Set<string>();

  /** Why the frame is dropped, or null to take it. Takes it into the dedup table. */
  async admit(f: CLoose): Promise<string | null> {
    const canon = pyCanonical(f.payload);
    if (canon.length > CLimits.MAX_PAYLOAD) return `payload of ${canon.length} bytes > 64 KiB`;
    // A fixed 2 s window per `from` (the sheet does not say fixed or sliding).
    const now = Date.now();
    let w = this.#rate.get(String(f.from));
    if (!w || now - w.start >= CLimits.WINDOW_MS) {
      w = { start: now, count: 0 };
      this.#rate.set(String(f.from), w);
    }
    if (++w.count > CLimits.BURST) return `over ${CLimits.BURST} frames in 2 s from ${f.from}`;
    const key = [f.type, f.from, f.to, f.ts, await sha256Hex(canon)].join("\n");
    if (this.#seen.has(key)) return "duplicate";
    this.#seen.add(key);
    if (this.#seen.size > CLimits.DEDUP) this.#seen.delete(this.#seen.values().next().value!);
    return null;
  }
}

/** A DM as a hosted user's C client showed it. */
export interface CReceived {
  from: string;
  to: string;
  text: string;
  /** The V2 content signature verified. */
  verified: boolean;
}

/** Where a hosted user's client puts what it read. */
export interface CInbox {
  received: CReceived[];
  files: { from: string; to: string; name: string; bytes: Uint8Array }[];
  dropped: string[];
}

/**
 * A registered, logged-in C user (C's client protocol is out of scope): the
 * frames its client sends, all with `sig:""`, and how it reads deliveries.
 */
export class CUser {
  readonly id: string;
  readonly keys: KeyPair;
  readonly #transfers = new Map<string, { from: string; name: string; parts: Uint8Array[] }>();

  constructor(id: string, keys: KeyPair) {
    this.id = id;
    this.keys = keys;
  }

  #frame(type: string, to: string, payload: Record<string, unknown>, ts = Date.now()): CLoose {
    return { type, from: this.id, to, ts, payload, sig: "" };
  }

  /** MSG_DIRECT `{ciphertext, sender_pub:<DER>, content_sig:V2}`. */
  async dm(to: string, text: string, key: PublicKey): Promise<CLoose> {
    const ciphertext = await encryptFor(key, text);
    const ts = Date.now();
    const content_sig = await signV2(this.keys.privateKey, ciphertext, this.id, to, ts);
    const sender_pub = this.keys.publicKey.b64;
    return this.#frame("MSG_DIRECT", to, { ciphertext, sender_pub, content_sig }, ts);
  }

  /** FILE_START (no sha256, no mode), 446-byte OAEP chunks sharing one ts, FILE_END. */
  async *file(to: string, name: string, bytes: Uint8Array, key: PublicKey): AsyncGenerator<CLoose> {
    const file_id = crypto.randomUUID();
    const sender_pub = this.keys.publicKey.b64;
    yield this.#frame("FILE_START", to, { file_id, name, size: bytes.length, sender_pub });
    const total = Math.ceil(bytes.length / OAEP_MAX_PLAINTEXT);
    const ts = Date.now();
    for (let index = 0; index < total; index++) {
      const at = index * OAEP_MAX_PLAINTEXT;
      const ciphertext = await encryptFor(key, bytes.subarray(at, at + OAEP_MAX_PLAINTEXT));
      const form = [this.id, to, ts, file_id, index, total];
      const content_sig = await signV2(this.keys.privateKey, ciphertext, ...form);
      const chunk = { file_id, index, total, ciphertext, sender_pub, content_sig };
      yield this.#frame("FILE_CHUNK", to, chunk, ts);
    }
    yield this.#frame("FILE_END", to, { file_id });
  }

  /**
   * Reads a frame from its server, whose key it got in the hello ACK. Throws
   * where C's unguarded handlers raise (a PEM key, a missing field): the
   * caller then treats its reader as dead.
   */
  async read(f: CLoose, serverKey: PublicKey, inbox: CInbox): Promise<void> {
    const p = f.payload;
    const need = (...fields: string[]) => {
      for (const k of fields) if (p[k] === undefined) throw new Error(`${f.type} without ${k}`);
    };
    const der = () => {
      const key = loadDer(p.sender_pub);
      if ("why" in key) throw new Error(`${f.type} sender_pub: ${key.why}`);
      return key.key;
    };
    const drop = (why: string) => void inbox.dropped.push(`${f.type} to ${this.id}: ${why}`);
    if (f.type === "USER_DELIVER") {
      if (!(await verifyC(serverKey, f))) return drop("bad server sig");
      const verified = await verifyV2(der(), p.content_sig, p.ciphertext, p.sender, this.id, f.ts);
      const plain = await decryptWith(this.keys.privateKey, String(p.ciphertext));
      if (!plain) return drop("cannot decrypt");
      const text = new TextDecoder().decode(plain);
      inbox.received.push({ from: String(p.sender), to: this.id, text, verified });
    } else if (f.type === "FILE_START") {
      need("file_id", "name", "size");
      this.#transfers.set(String(p.file_id), { from: f.from, name: String(p.name), parts: [] });
    } else if (f.type === "FILE_CHUNK") {
      need("sender_pub", "content_sig");
      const key = der();
      const t = this.#transfers.get(String(p.file_id));
      if (!t) return drop("unknown file");
      const form = [f.from, f.to, f.ts, p.file_id, p.index, p.total];
      if (!(await verifyV2(key, p.content_sig, p.ciphertext, ...form))) {
        return drop(`chunk ${p.index}: bad content_sig`);
      }
      const plain = await decryptWith(this.keys.privateKey, String(p.ciphertext));
      if (!plain) return drop(`chunk ${p.index}: cannot decrypt`);
      t.parts.push(plain); // in arrival order; no index check
    } else if (f.type === "FILE_END") {
      const t = this.#transfers.get(String(p.file_id));
      if (!t) return;
      this.#transfers.delete(String(p.file_id));
      const bytes = new Uint8Array(t.parts.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of t.parts) bytes.set(b, (at += b.length) - b.length);
      inbox.files.push({ from: t.from, to: this.id, name: t.name, bytes }); // no hash check
    }
  }
}

/** Closes a socket and resolves once it is closed. */
export function closed(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  const done = new Promise<void>((resolve) => socket.addEventListener("close", () => resolve()));
  socket.close();
  return done;
}
