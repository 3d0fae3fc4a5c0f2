// The OpenSSL backend (crypto/openssl.ts) against WebCrypto: a signature made
// by one verifies in the other with salt 478 and 32, OAEP ciphertexts decrypt
// both ways, bad input fails the same way in both, and loading fails clearly.

import assert from "node:assert/strict";
import { loadOpenSsl, OpenSslUnavailable } from "../../crypto/openssl.ts";
import { selectCrypto } from "../../crypto/select.ts";
import { type RsaBackend, rsaBackend, webCryptoBackend } from "../../protocol/rsa_backend.ts";
import { decryptWith, encryptFor, signBytes, verifyBytes } from "../../protocol/rsa.ts";
import { KEYS } from "../_vectors.ts";
import { randomBytes } from "../_bytes.ts";
import { serverWithoutFfi } from "../_no_ffi.ts";

const openssl = loadOpenSsl();
const text = new TextEncoder();
const pairs: [string, RsaBackend, RsaBackend][] = [
  ["openssl → webcrypto", openssl, webCryptoBackend],
  ["webcrypto → openssl", webCryptoBackend, openssl],
];

for (const [name, from, to] of pairs) {
  Deno.test(`PSS ${name}: salts 478 and 32 verify, other messages, keys and salts do not`, async () => {
    const message = text.encode("canonical payload");
    for (const salt of [478, 32]) {
      const sig = await from.sign(KEYS.A.privateKey, message, salt);
      assert.equal(sig.length, 512);
      assert.ok(await to.verify(KEYS.A.publicKey, [message], sig, [478, 32]));
      assert.ok(await to.verify(KEYS.A.publicKey, [text.encode("x"), message], sig, [salt]));
      assert.ok(
        !(await to.verify(KEYS.A.publicKey, [text.encode("canonical payloaD")], sig, [478, 32])),
      );
      assert.ok(!(await to.verify(KEYS.B.publicKey, [message], sig, [478, 32])));
      assert.ok(!(await to.verify(KEYS.A.publicKey, [message], sig, [salt === 478 ? 32 : 478])));
      const flipped = sig.slice();
      flipped[100] ^= 1;
      assert.ok(!(await to.verify(KEYS.A.publicKey, [message], flipped, [478, 32])));
    }
    // Wrong lengths are refusals, not errors.
    assert.ok(!(await to.verify(KEYS.A.publicKey, [message], new Uint8Array(511), [478])));
  });

  Deno.test(`OAEP ${name}: 0 to 446 bytes decrypt; another key or a changed byte does not`, async () => {
    for (const size of [0, 1, 190, 446]) {
      const plain = crypto.getRandomValues(new Uint8Array(size));
      const ct = await from.encrypt(KEYS.B.publicKey, plain);
      assert.equal(ct.length, 512);
      assert.deepEqual(await to.decrypt(KEYS.B.privateKey, ct), plain);
      assert.equal(await to.decrypt(KEYS.A.privateKey, ct), null);
      const changed = ct.slice();
      changed[7] ^= 0x40;
      assert.equal(await to.decrypt(KEYS.B.privateKey, changed), null);
    }
    assert.equal(await to.decrypt(KEYS.B.privateKey, new Uint8Array(100)), null);
  });
}

Deno.test("the rsa.ts API on OpenSSL: messages of all sizes, limits and concurrency", async () => {
  const previous = rsaBackend();
  const chosen = selectCrypto("openssl");
  try {
    assert.equal(chosen.backend, "openssl");
    assert.match(chosen.version, /^OpenSSL 3\./);
    // Large messages are hashed off the event loop: still the same signature scheme.
    const big = randomBytes(200_000);
    const sig = await signBytes(KEYS.A.privateKey, big);
    assert.ok(
      await webCryptoBackend.verify(
        KEYS.A.publicKey,
        [big],
        new Uint8Array(
          Uint8Array.fromBase64(sig, { alphabet: "base64url" }),
        ),
        [478],
      ),
    );
    assert.ok(await verifyBytes(KEYS.A.publicKey, big, sig));
    await assert.rejects(encryptFor(KEYS.B.publicKey, new Uint8Array(447)), /at most 446/);
    const all = await Promise.all(
      Array.from({ length: 16 }, (_, i) => encryptFor(KEYS.B.publicKey, `m${i}`)),
    );
    const back = await Promise.all(all.map((ct) => decryptWith(KEYS.B.privateKey, ct)));
    assert.deepEqual(back.map((b) => new TextDecoder().decode(b!)), all.map((_, i) => `m${i}`));
  } finally {
    selectCrypto(previous.name === "openssl" ? "openssl" : "webcrypto");
  }
});

Deno.test("a libcrypto that cannot load is a clear error, never a silent fallback", () => {
  assert.throws(() => loadOpenSsl("/nonexistent/libcrypto.so.3"), OpenSslUnavailable);
  assert.throws(
    () => loadOpenSsl("/nonexistent/libcrypto.so.3"),
    /no usable libcrypto \(OpenSSL 3\): \/nonexistent\/libcrypto\.so\.3/,
  );
});

Deno.test("without --allow-ffi, --crypto openssl stops the server at start and says why", async () => {
  const out = await serverWithoutFfi(["--crypto", "openssl"]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /--crypto openssl: .*--allow-ffi/);
});
