import assert from "node:assert/strict";
import {
  decodeBase64url,
  decryptWith,
  encodeBase64url,
  encryptFor,
  exportPrivateKey,
  exportPublicKey,
  fingerprint,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  parsePublicKey,
  sha256Hex,
  signBytes,
  SocpError,
  verifyBytes,
} from "../../mod.ts";
import { KEYS, V } from "../_vectors.ts";

// The one key generation of this file.
const fresh = await generateKeyPair();

function pemText(body: Uint8Array, label: string): string {
  const lines = body.toBase64().match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}

Deno.test("generateKeyPair makes an RSA-4096 e=65537 pair emitted as 734-char DER base64url", async () => {
  const text = exportPublicKey(fresh.publicKey);
  assert.equal(text.length, 734);
  assert.ok(text.startsWith("MIICIjANBgkq"));
  assert.equal(fresh.publicKey.der.length, 550);
  // SOCP.md §4.1's WebCrypto check: JWK e is AQAB and n is 512 bytes with the top bit set.
  const jwk = await crypto.subtle.exportKey("jwk", await fresh.publicKey.pss());
  assert.equal(jwk.e, "AQAB");
  const n = decodeBase64url(jwk.n!)!;
  assert.equal(n.length, 512);
  assert.ok(n[0] & 0x80);
});

Deno.test("one key pair serves both PSS and OAEP", async () => {
  const msg = new TextEncoder().encode("both");
  assert.ok(await verifyBytes(fresh.publicKey, msg, await signBytes(fresh.privateKey, msg)));
  const ct = await encryptFor(fresh.publicKey, msg);
  assert.deepEqual(await decryptWith(fresh.privateKey, ct), msg);
});

Deno.test("exportPublicKey pem form is base64url of PEM text and parses back to the same key", () => {
  const pem = exportPublicKey(fresh.publicKey, "pem");
  assert.ok(pem.startsWith("LS0tLS1CRUdJTi"));
  const text = new TextDecoder().decode(decodeBase64url(pem)!);
  assert.ok(text.startsWith("-----BEGIN PUBLIC KEY-----\n"));
  assert.ok(text.split("\n").every((line) => line.length <= 64));
  const back = parsePublicKey(pem);
  assert.ok(back.ok && back.key.equals(fresh.publicKey));
});

Deno.test("parsePublicKey normalises DER, PEM, padded, standard-alphabet and PKCS#1 forms to one key", () => {
  const der = KEYS.A.publicKey.der;
  const pkcs1 = der.subarray(24); // SPKI header of an RSA-4096 key is 24 bytes
  const forms = [
    V.keys.A.public_spki_der_b64url,
    V.keys.A.public_pem_text_b64url,
    V.keys.A.public_pem_text_b64url_padded,
    der.toBase64(), // standard alphabet, padded
    der.toBase64().replace(/(.{76})/g, "$1\n"), // wrapped lines
    encodeBase64url(new TextEncoder().encode(pemText(pkcs1, "RSA PUBLIC KEY"))),
  ];
  for (const form of forms) {
    const parsed = parsePublicKey(form);
    assert.ok(parsed.ok, form.slice(0, 20));
    assert.equal(parsed.key.b64, V.keys.A.public_spki_der_b64url);
  }
});

Deno.test("parsePublicKey rejects weak, malformed and trailing-garbage keys with BAD_KEY", () => {
  const der = KEYS.A.publicKey.der;
  const cases = [
    new Uint8Array([...der, 0]), // trailing byte
    der.subarray(0, der.length - 1),
    new Uint8Array(0),
  ].map(encodeBase64url);
  cases.push("", "x".repeat(9000), 7 as unknown as string);
  cases.push(
    encodeBase64url(
      new TextEncoder().encode("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"),
    ),
  );
  for (const c of cases) {
    const parsed = parsePublicKey(c);
    assert.ok(!parsed.ok);
    assert.equal(parsed.error.code, "BAD_KEY");
  }
});

Deno.test("importPublicKey accepts DER bytes and throws BAD_KEY for weak keys", async () => {
  const key = await importPublicKey(KEYS.B.publicKey.der);
  assert.ok(key.equals(KEYS.B.publicKey));
  const weak = V.keys.validation.find((c: { id: string }) => c.id === "weak-rsa2048-der").input;
  await assert.rejects(
    importPublicKey(weak),
    (e) => e instanceof SocpError && e.code === "BAD_KEY",
  );
});

Deno.test("importPrivateKey round-trips PKCS#8 and derives the matching public key", async () => {
  const pkcs8 = await exportPrivateKey(fresh.privateKey);
  const again = await importPrivateKey(pkcs8);
  assert.ok(again.publicKey.equals(fresh.publicKey));
  const fromText = await importPrivateKey(V.keys.B.private_pkcs8_der_b64url);
  assert.ok(fromText.publicKey.equals(KEYS.B.publicKey));
});

Deno.test("importPrivateKey rejects garbage with BAD_KEY", async () => {
  for (const bad of ["!!", encodeBase64url(new Uint8Array(40))]) {
    await assert.rejects(
      importPrivateKey(bad),
      (e) => e instanceof SocpError && e.code === "BAD_KEY",
    );
  }
});

Deno.test("fingerprint is hex SHA-256 of the DER SPKI", async () => {
  assert.equal(await fingerprint(KEYS.A.publicKey), V.keys.A.spki_der_sha256_hex);
  assert.equal(await fingerprint(fresh.publicKey), await sha256Hex(fresh.publicKey.der));
});
