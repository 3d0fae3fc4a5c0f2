// How both TLS engines size their raw reads (server/ws/conn.ts nextRawBuffer).

import assert from "node:assert/strict";
import { nextRawBuffer, RAW_MAX, RAW_MIN } from "../../server/ws/conn.ts";

Deno.test("raw reads grow only after a read that filled the buffer; any other read puts the next one back at 1 KiB", () => {
  let buffer = new Uint8Array(RAW_MIN);
  const sizes: number[] = [];
  // A bulk transfer: every read fills its buffer.
  for (let i = 0; i < 5; i++) {
    buffer = nextRawBuffer(buffer, buffer.length);
    sizes.push(buffer.length);
  }
  assert.deepEqual(sizes, [4096, 16384, RAW_MAX, RAW_MAX, RAW_MAX]);
  const kept = buffer;
  assert.equal(nextRawBuffer(kept, kept.length), kept, "at 64 KiB the buffer is reused");
  // The transfer ends with a short read (a hello's last bytes): the read that then waits,
  // perhaps for hours on an idle link, holds 1 KiB, not 64.
  buffer = nextRawBuffer(buffer, 3000);
  assert.equal(buffer.length, RAW_MIN);
  assert.equal(nextRawBuffer(buffer, 10), buffer, "small reads reuse the small buffer");
});
