// The fragments of a message being reassembled by FrameReader.

/** Pieces at least this large are kept as they are; smaller ones are packed together. */
const PACK_BELOW = 4096;
const PACK_BLOCK = 65536;

/**
 * The fragments of a message in progress, as a list of owned chunks. Small
 * pieces are packed into shared blocks, so many tiny fragments cannot cost far
 * more memory than their bytes.
 */
export class Fragments {
  #chunks: Uint8Array[] = [];
  #block: Uint8Array | null = null;
  #blockUsed = 0;
  size = 0;

  append(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.size += piece.length;
    if (piece.length >= PACK_BELOW) {
      this.#seal();
      this.#chunks.push(piece.slice());
      return;
    }
    if (!this.#block || this.#blockUsed + piece.length > this.#block.length) {
      const grown = this.#block && this.#block.length < PACK_BLOCK
        ? Math.min(PACK_BLOCK, Math.max(this.#block.length * 2, this.#blockUsed + piece.length))
        : 0;
      if (grown >= this.#blockUsed + piece.length) {
        // Grow the block while it is small: a copy of at most 64 KiB, amortised.
        const next = new Uint8Array(grown);
        next.set(this.#block!.subarray(0, this.#blockUsed));
        this.#block = next;
      } else {
        this.#seal();
        this.#block = new Uint8Array(Math.max(1024, piece.length));
      }
    }
    this.#block!.set(piece, this.#blockUsed);
    this.#blockUsed += piece.length;
  }

  #seal(): void {
    if (this.#block && this.#blockUsed > 0) {
      this.#chunks.push(this.#block.subarray(0, this.#blockUsed));
    }
    this.#block = null;
    this.#blockUsed = 0;
  }

  /** Drops everything held. */
  clear(): void {
    this.#chunks = [];
    this.#block = null;
    this.#blockUsed = 0;
    this.size = 0;
  }

  /** The whole message, then an empty list. */
  take(): Uint8Array {
    this.#seal();
    const chunks = this.#chunks;
    this.#chunks = [];
    const size = this.size;
    this.size = 0;
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}
