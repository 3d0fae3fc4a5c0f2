// Seeded random and structure-aware mutations of frames for fuzz tests, so a
// failure reproduces from its seed.

const JUNK: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 60,
  "",
  "x",
  "*",
  "public",
  [],
  {},
  [[{}]],
  { a: [1] },
  "é\u0000",
  "A".repeat(700),
];
const TRICKY_TYPES = [
  "constructor",
  "__proto__",
  "toString",
  "MSG_PRIVATE",
  "SERVER_GOODBYE",
  "hasOwnProperty",
];

/** A seeded mutator (mulberry32 PRNG). */
export class Mutator {
  #seed: number;

  constructor(seed: number) {
    this.#seed = seed;
  }

  /** A float in [0, 1). */
  random(): number {
    this.#seed = (this.#seed + 0x6d2b79f5) | 0;
    let t = Math.imul(this.#seed ^ (this.#seed >>> 15), 1 | this.#seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** One element of `xs`. */
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)];
  }

  /** A JSON value with fields dropped, renamed or replaced by junk. */
  mutateValue(value: unknown, depth = 0): unknown {
    if (this.random() < 0.15 || depth > 4) return this.pick(JUNK);
    if (Array.isArray(value)) {
      return value.map((v) => (this.random() < 0.3 ? this.mutateValue(v, depth + 1) : v));
    }
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const r = this.random();
        if (r < 0.1) continue;
        out[r < 0.15 ? k.toUpperCase() : k] = r < 0.4 ? this.mutateValue(v, depth + 1) : v;
      }
      if (this.random() < 0.1) {
        out[this.pick(["sig", "payload", "type", "ts", "__proto__", "constructor"])] = this.pick(
          JUNK,
        );
      }
      return out;
    }
    return this.random() < 0.5 ? this.pick(JUNK) : value;
  }

  /** A frame's text truncated, corrupted, retyped or structurally mutated. */
  mutateText(text: string): string {
    const r = this.random();
    const at = Math.floor(this.random() * text.length);
    if (r < 0.25) return text.slice(0, at);
    if (r < 0.5) {
      return text.slice(0, at) + String.fromCharCode(Math.floor(this.random() * 0x10000)) +
        text.slice(at + 1);
    }
    if (r < 0.7) {
      return text.slice(0, at) + this.pick(['"', "{", "}", "[", "]", ",", ":", "\\", "\u0000"]) +
        text.slice(at);
    }
    const frame = JSON.parse(text);
    if (r < 0.75) return JSON.stringify({ ...frame, type: this.pick(TRICKY_TYPES) });
    return JSON.stringify(this.mutateValue(frame));
  }

  /** Random text, mostly ASCII. */
  randomText(): string {
    const n = Math.floor(this.random() * 200);
    let s = "";
    for (let i = 0; i < n; i++) {
      s += String.fromCharCode(Math.floor(this.random() * (this.random() < 0.8 ? 128 : 0x10000)));
    }
    return s;
  }
}
