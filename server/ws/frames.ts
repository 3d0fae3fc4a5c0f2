/**
 * The RFC 6455 frame codec, without I/O: an incremental {@linkcode FrameReader}
 * that enforces the message size limit before buffering, and
 * {@linkcode encodeFrame}. No extension is ever negotiated, so RSV bits are
 * always a protocol error.
 *
 * @module
 */

import { Fragments } from "./_fragments.ts";

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** A frame opcode. */
export type OpcodeValue = typeof Opcode[keyof typeof Opcode];

/** Which end of the connection a codec serves: servers read masked frames, clients unmasked. */
export type Role = "server" | "client";

/** The close codes a reader reports violations with. */
export type ViolationCode = 1002 | 1007 | 1009;

/** What {@linkcode FrameReader.next} yields. */
export type FrameEvent =
  | { type: "text"; data: string }
  | { type: "binary"; data: Uint8Array }
  | { type: "ping"; data: Uint8Array }
  | { type: "pong"; data: Uint8Array }
  /** A close frame; `code` is 1005 when the frame had no status. */
  | { type: "close"; code: number; reason: string }
  /** The peer broke the protocol; the connection must be failed with `code`. */
  | { type: "violation"; code: ViolationCode; reason: string };

/** Options of a {@linkcode FrameReader}. */
export interface FrameReaderOptions {
  role: Role;
  /** Largest total payload of one message (all its fragments). */
  maxMessageBytes: number;
}

const MAX_CONTROL = 125;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Whether `code` may appear in a close frame on the wire (RFC 6455 §7.4). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/**
 * XORs `bytes` in place with the 4-byte `mask`, starting at mask position
 * `phase`; 32 bits at a time over the aligned middle.
 */
export function unmask(bytes: Uint8Array, mask: Uint8Array, phase = 0): void {
  const n = bytes.length;
  let i = 0;
  if (n >= 32) {
    while (((bytes.byteOffset + i) & 3) !== 0) {
      bytes[i] ^= mask[(phase + i) & 3];
      i++;
    }
    const words = (n - i) >>> 2;
    // A native-endian word holding the mask bytes in the order they meet the payload.
    const rotated = new Uint8Array(4);
    for (let k = 0; k < 4; k++) rotated[k] = mask[(phase + i + k) & 3];
    const m = new Uint32Array(rotated.buffer)[0];
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= m;
    i += words * 4;
  }
  for (; i < n; i++) bytes[i] ^= mask[(phase + i) & 3];
}

/**
 * One frame: header, then the payload, masked (a copy) when `mask` is given.
 *
 * @example
 * ```ts
 * import { encodeFrame, Opcode } from "./frames.ts";
 * encodeFrame(Opcode.Text, new TextEncoder().encode("hi")); // 81 02 68 69
 * ```
 */
export function encodeFrame(
  opcode: OpcodeValue,
  payload: Uint8Array,
  options: { fin?: boolean; mask?: Uint8Array } = {},
): Uint8Array {
  const { fin = true, mask } = options;
  const len = payload.length;
  const extra = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const headerLen = 2 + extra + (mask ? 4 : 0);
  const out = new Uint8Array(headerLen + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  const maskBit = mask ? 0x80 : 0;
  if (extra === 0) {
    out[1] = maskBit | len;
  } else if (extra === 2) {
    out[1] = maskBit | 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = maskBit | 127;
    const view = new DataView(out.buffer);
    view.setUint32(2, Math.floor(len / 2 ** 32));
    view.setUint32(6, len >>> 0);
  }
  out.set(payload, headerLen);
  if (mask) {
    out.set(mask, headerLen - 4);
    unmask(out.subarray(headerLen), mask);
  }
  return out;
}

/** A close frame's payload: the code, then the reason cut to fit 123 bytes of UTF-8. */
export function encodeClosePayload(code: number, reason = ""): Uint8Array {
  if (code === 1005) return new Uint8Array(0); // "no status": an empty close frame
  const encoder = new TextEncoder();
  reason = reason.slice(0, MAX_CONTROL - 2);
  let text = encoder.encode(reason);
  while (text.length > MAX_CONTROL - 2) {
    // Cut by code units: a split surrogate pair encodes as U+FFFD, still valid UTF-8.
    reason = reason.slice(0, -1);
    text = encoder.encode(reason);
  }
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/**
 * Reads frames from a byte stream fed in chunks. `push` a chunk, then call
 * `next` until it returns `null`. The reader unmasks pushed chunks in place and
 * keeps no reference to them once `next` has returned `null`, so the caller
 * may then reuse its buffer. After a close frame or a violation it reads no
 * further.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameReader, Opcode } from "./frames.ts";
 * const reader = new FrameReader({ role: "client", maxMessageBytes: 1024 });
 * reader.push(encodeFrame(Opcode.Text, new TextEncoder().encode("hi")));
 * reader.next(); // { type: "text", data: "hi" }
 * reader.next(); // null
 * ```
 */
export class FrameReader {
  readonly #role: Role;
  readonly #max: number;
  #input: Uint8Array = new Uint8Array(0);
  #pos = 0;
  /** A header split across chunks (at most 14 bytes). */
  readonly #head = new Uint8Array(14);
  #headLen = 0;
  /** The current frame; `#remaining < 0` means no frame header has been read yet. */
  #remaining = -1;
  #opcode = 0;
  #fin = false;
  #masked = false;
  readonly #mask = new Uint8Array(4);
  #phase = 0;
  /** The opcode of the fragmented message in progress (0: none). */
  #messageOpcode = 0;
  #messageBytes = 0;
  readonly #fragments = new Fragments();
  readonly #control = new Uint8Array(MAX_CONTROL);
  #controlLen = 0;
  #stopped = false;

  constructor(options: FrameReaderOptions) {
    this.#role = options.role;
    this.#max = options.maxMessageBytes;
  }

  /** Bytes held for the message in progress (for tests and metrics). */
  get bufferedBytes(): number {
    return this.#fragments.size;
  }

  /** Adds a chunk of the stream; call {@linkcode FrameReader.next} until it returns `null`. */
  push(chunk: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#pos < this.#input.length) throw new Error("push before the previous chunk was read");
    this.#input = chunk;
    this.#pos = 0;
  }

  /** The next complete message, control frame or violation, or `null` when more bytes are needed. */
  next(): FrameEvent | null {
    while (!this.#stopped) {
      if (this.#remaining < 0) {
        const header = this.#readHeader();
        if (header === null) return this.#release();
        if (header !== true) return this.#stop(header);
      }
      const event = this.#readPayload();
      if (event === null) return this.#release();
      if (event !== undefined) {
        if (event.type === "close" || event.type === "violation") this.#stop(event);
        return event;
      }
    }
    return null;
  }

  #release(): null {
    this.#input = new Uint8Array(0);
    this.#pos = 0;
    return null;
  }

  #stop<E extends FrameEvent>(event: E): E {
    this.#stopped = true;
    this.#release();
    this.#fragments.clear();
    return event;
  }

  /** Parses one header: `true` when read, `null` when bytes are missing, or a violation. */
  #readHeader(): true | null | FrameEvent {
    const input = this.#input;
    const available = input.length - this.#pos;
    let h: Uint8Array;
    let base: number;
    let have: number;
    let took = 0;
    if (this.#headLen === 0 && available >= 14) {
      h = input;
      base = this.#pos;
      have = available;
    } else {
      // Copy ahead into the carry buffer; only the header's own bytes count as consumed.
      took = Math.min(14 - this.#headLen, available);
      this.#head.set(input.subarray(this.#pos, this.#pos + took), this.#headLen);
      h = this.#head;
      base = 0;
      have = this.#headLen + took;
    }
    if (have < 2) return this.#carry(have, took);
    const b0 = h[base];
    const b1 = h[base + 1];
    const len7 = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (have < need) return this.#carry(have, took);
    this.#pos += h === input ? need : need - this.#headLen;
    this.#headLen = 0;

    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) return violation(1002, "reserved bits set");
    if (masked !== (this.#role === "server")) {
      return violation(
        1002,
        masked ? "masked frame from the server" : "unmasked frame from a client",
      );
    }
    let len = len7;
    if (len7 === 126) {
      len = (h[base + 2] << 8) | h[base + 3];
    } else if (len7 === 127) {
      const hi = ((h[base + 2] << 24) | (h[base + 3] << 16) | (h[base + 4] << 8) | h[base + 5]) >>>
        0;
      if (hi >= 0x80000000) return violation(1002, "64-bit length with the top bit set");
      const lo = ((h[base + 6] << 24) | (h[base + 7] << 16) | (h[base + 8] << 8) | h[base + 9]) >>>
        0;
      len = hi * 2 ** 32 + lo; // inexact above 2^53, but any such length is refused below
    }
    if (opcode >= 0x8) {
      if (opcode > Opcode.Pong) return violation(1002, `unknown opcode ${opcode}`);
      if (!fin) return violation(1002, "fragmented control frame");
      if (len > MAX_CONTROL) return violation(1002, "control frame longer than 125 bytes");
    } else {
      if (opcode > Opcode.Binary) return violation(1002, `unknown opcode ${opcode}`);
      if (opcode === Opcode.Continuation && this.#messageOpcode === 0) {
        return violation(1002, "continuation frame without a message");
      }
      if (opcode !== Opcode.Continuation && this.#messageOpcode !== 0) {
        return violation(1002, "new message inside a fragmented one");
      }
      // Refused on the declared length, before any of the payload is buffered.
      if (this.#messageBytes + len > this.#max) {
        return violation(1009, `message larger than ${this.#max} bytes`);
      }
      this.#messageBytes += len;
    }
    if (masked) this.#mask.set(h.subarray(base + need - 4, base + need));
    this.#fin = fin;
    this.#opcode = opcode;
    this.#masked = masked;
    this.#remaining = len;
    this.#phase = 0;
    this.#controlLen = 0;
    return true;
  }

  #carry(have: number, took: number): null {
    this.#headLen = have;
    this.#pos += took;
    return null;
  }

  /** Consumes payload: an event when a message or control frame completes, `undefined` to go on, `null` for more bytes. */
  #readPayload(): FrameEvent | undefined | null {
    const input = this.#input;
    const n = Math.min(this.#remaining, input.length - this.#pos);
    if (n === 0 && this.#remaining > 0) return null;
    const piece = input.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    if (this.#masked) unmask(piece, this.#mask, this.#phase);
    this.#phase = (this.#phase + n) & 3;
    this.#remaining -= n;
    const done = this.#remaining === 0;

    if (this.#opcode >= 0x8) {
      this.#control.set(piece, this.#controlLen);
      this.#controlLen += n;
      if (!done) return null;
      this.#remaining = -1;
      return this.#controlEvent(this.#control.slice(0, this.#controlLen));
    }

    const opcode = this.#opcode === Opcode.Continuation ? this.#messageOpcode : this.#opcode;
    if (done && this.#fin && this.#messageOpcode === 0 && this.#fragments.size === 0) {
      // A whole unfragmented message in this chunk: no fragment list needed.
      this.#remaining = -1;
      this.#messageBytes = 0;
      return messageEvent(opcode, piece, true);
    }
    this.#fragments.append(piece);
    if (!done) return null;
    this.#remaining = -1;
    if (!this.#fin) {
      this.#messageOpcode = opcode;
      return undefined;
    }
    this.#messageOpcode = 0;
    this.#messageBytes = 0;
    return messageEvent(opcode, this.#fragments.take(), false);
  }

  #controlEvent(payload: Uint8Array): FrameEvent {
    if (this.#opcode === Opcode.Ping) return { type: "ping", data: payload };
    if (this.#opcode === Opcode.Pong) return { type: "pong", data: payload };
    if (payload.length === 0) return { type: "close", code: 1005, reason: "" };
    if (payload.length === 1) return violation(1002, "close frame with a 1-byte payload");
    const code = (payload[0] << 8) | payload[1];
    if (!isSendableCloseCode(code)) return violation(1002, `invalid close code ${code}`);
    try {
      return { type: "close", code, reason: utf8.decode(payload.subarray(2)) };
    } catch {
      return violation(1007, "close reason is not valid UTF-8");
    }
  }
}

function violation(code: ViolationCode, reason: string): FrameEvent {
  return { type: "violation", code, reason };
}

/** A completed message; `borrowed` payloads live in the caller's chunk and are copied if kept. */
function messageEvent(opcode: number, payload: Uint8Array, borrowed: boolean): FrameEvent {
  if (opcode === Opcode.Binary) {
    return { type: "binary", data: borrowed ? payload.slice() : payload };
  }
  try {
    return { type: "text", data: utf8.decode(payload) };
  } catch {
    return violation(1007, "text message is not valid UTF-8");
  }
}
