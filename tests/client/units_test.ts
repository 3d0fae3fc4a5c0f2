// Unit tests of the client's pure parts: file names, directory, channel
// keys, transfer reassembly, keystore.

import assert from "node:assert/strict";
import { ChannelKeys } from "../../client/channel_keys.ts";
import { loadOrCreateIdentity, writeNewFile } from "../../client/deno.ts";
import { Directory } from "../../client/directory.ts";
import { sanitizeFileName } from "../../client/filename.ts";
import { openIdentity, PBKDF2_ITERATIONS, sealIdentity } from "../../client/keystore.ts";
import { IncomingTransfers } from "../../client/transfers.ts";
import {
  aesGcmEncrypt,
  buildKeyShare,
  buildSigned,
  encodeBase64url,
  encryptFor,
  exportPrivateKey,
  generateAesKey,
  type Identity,
  sha256Hex,
  SocpError,
} from "../../mod.ts";
import { KEYS } from "../_vectors.ts";

const ME: Identity = { id: crypto.randomUUID(), keys: KEYS.B };
const PEER: Identity = { id: crypto.randomUUID(), keys: KEYS.A };

Deno.test("sanitizeFileName keeps the base name and nothing dangerous", () => {
  const cases: [string, string][] = [
    ["report.pdf", "report.pdf"],
    ["../../etc/passwd", "passwd"],
    ["C:\\Users\\x\\evil.exe", "evil.exe"],
    ["...hidden", "hidden"],
    ["a\u0000b\u001fc.txt", "abc.txt"],
    ["naïve café 文件.txt", "naïve café 文件.txt"],
    ["we*ird?<name>|.txt", "we_ird__name__.txt"],
    ["CON", "_CON"],
    ["nul.txt", "_nul.txt"],
    ["", "file-F1"],
    ["/", "file-F1"],
  ];
  for (const [input, expected] of cases) {
    assert.equal(sanitizeFileName(input, "F1"), expected, input);
  }
  assert.ok(new TextEncoder().encode(sanitizeFileName("é".repeat(300), "x")).length <= 255);
});

Deno.test("Directory: names, ids, prefixes; a changed key is reported, never adopted", async () => {
  const directory = new Directory();
  const advert = (id: string, key: string, name: string) =>
    buildSigned(PEER, "USER_ADVERTISE", "*", {
      user_id: id,
      server_id: PEER.id,
      pubkey: key,
      meta: { display_name: name, caps: ["file-aesgcm"] },
    });
  const alice = crypto.randomUUID();
  const change = await directory.advertise(await advert(alice, KEYS.A.publicKey.b64, "Alice"));
  assert.equal(change?.kind, "online");
  assert.deepEqual(directory.get(alice)?.caps, ["file-aesgcm"]);
  assert.equal(directory.resolve("ALICE").ok, true);
  assert.equal(directory.resolve(alice.slice(0, 6)).ok, true);
  assert.equal(directory.resolve(alice.slice(0, 3)).ok, false, "prefixes need 4 characters");
  const swapped = await directory.advertise(await advert(alice, KEYS.B.publicKey.b64, "Alice"));
  assert.equal(swapped?.kind, "key-changed");
  assert.ok(directory.get(alice)!.pubkey.equals(KEYS.A.publicKey), "the first key stays");
  directory.remove(alice);
  assert.equal(directory.resolve("Alice").ok, false, "offline users do not resolve by name");
  assert.ok(directory.get(alice), "but their key is kept");
});

Deno.test("ChannelKeys: own wrap from UPDATED and KEY_SHARE, §7.3 order, 4 newest kept, both IV layouts", async () => {
  const keys = new ChannelKeys(ME.id, ME.keys.privateKey);
  const group = generateAesKey();
  const wrap = await encryptFor(ME.keys.publicKey, group);
  const updated = (by: Identity, version: number, w = wrap) =>
    buildSigned(by, "PUBLIC_CHANNEL_UPDATED", "*", {
      version,
      wraps: [{ member_id: ME.id, wrapped_key: w }],
    });
  assert.ok(await keys.fromUpdated(await updated(PEER, 1)));
  assert.ok(
    !(await keys.fromUpdated(
      await buildSigned(PEER, "PUBLIC_CHANNEL_UPDATED", "*", { version: 9, wraps: [] }),
    )),
    "not a member",
  );
  const other = generateAesKey();
  const low = { id: "00000000-0000-4000-8000-000000000000", keys: KEYS.A };
  await keys.fromUpdated(await updated(PEER, 2, await encryptFor(ME.keys.publicKey, other)));
  await keys.fromUpdated(await updated(low, 2));
  assert.equal(keys.current()?.creator, low.id, "same version: the lower creator id wins");
  const blob = await aesGcmEncrypt(other, "older key still opens");
  assert.equal(new TextDecoder().decode((await keys.open(blob, 2))!), "older key still opens");
  for (let v = 3; v <= 6; v++) await keys.fromUpdated(await updated(PEER, v));
  assert.equal(keys.all().length, 4);
  assert.equal(keys.current()?.version, 6);
  // KEY_SHARE: only with a valid content signature.
  const share = await buildKeyShare(PEER, [{ member: ME.id, wrapped: wrap }], 7);
  // content_sig covers the shares and creator_pub (not `version`): altered shares are refused.
  const otherWrap = await encryptFor(ME.keys.publicKey, generateAesKey());
  const forged = {
    ...share,
    payload: { ...share.payload, shares: [{ member: ME.id, wrapped: otherWrap }] },
  };
  assert.ok(!(await keys.fromKeyShare(forged)));
  assert.ok(await keys.fromKeyShare(share));
  assert.equal(keys.current()?.version, 7);
});

async function transfer(mode: "dm" | "public", bytes: Uint8Array, opts: { fast?: boolean } = {}) {
  const channel = new ChannelKeys(ME.id, ME.keys.privateKey);
  const group = generateAesKey();
  await channel.fromUpdated(
    await buildSigned(PEER, "PUBLIC_CHANNEL_UPDATED", "*", {
      version: 1,
      wraps: [{ member_id: ME.id, wrapped_key: await encryptFor(ME.keys.publicKey, group) }],
    }),
  );
  const incoming = new IncomingTransfers(ME.id, ME.keys.privateKey, channel);
  const fileId = crypto.randomUUID();
  const to = mode === "dm" ? ME.id : "public";
  const fileKey = generateAesKey();
  const start = await buildSigned(PEER, "FILE_START", to, {
    file_id: fileId,
    name: "x.bin",
    size: bytes.length,
    sha256: (await sha256Hex(bytes)).toUpperCase(), // hex compares case-insensitively
    mode,
    ...(opts.fast
      ? {
        enc: "aes-256-gcm" as const,
        wrapped_key: await encryptFor(ME.keys.publicKey, fileKey),
        chunk_size: 100,
      }
      : {}),
    ...(mode === "public" ? { key_version: 1 } : {}),
  });
  const size = opts.fast ? 100 : mode === "dm" ? 446 : 1000;
  const chunks = [];
  for (let index = 0, at = 0; at < bytes.length; index++, at += size) {
    const part = bytes.subarray(at, at + size);
    const ciphertext = opts.fast
      ? await aesGcmEncrypt(fileKey, part, new TextEncoder().encode(`${fileId}:${index}`))
      : mode === "dm"
      ? await encryptFor(ME.keys.publicKey, part)
      : await aesGcmEncrypt(group, part);
    chunks.push(await buildSigned(PEER, "FILE_CHUNK", to, { file_id: fileId, index, ciphertext }));
  }
  const end = await buildSigned(PEER, "FILE_END", to, { file_id: fileId });
  return { incoming, start, chunks, end };
}

Deno.test("IncomingTransfers: chunks in any order in every mode, duplicates ignored, whole file checked", async () => {
  const bytes = crypto.getRandomValues(new Uint8Array(1500));
  for (const [mode, opts] of [["dm", {}], ["dm", { fast: true }], ["public", {}]] as const) {
    const { incoming, start, chunks, end } = await transfer(mode, bytes, opts);
    assert.ok((await incoming.start(start, true)).ok);
    for (const c of [...chunks].reverse()) assert.ok((await incoming.chunk(c)).ok);
    assert.ok((await incoming.chunk(chunks[0])).ok, "a duplicate index is ignored");
    const done = await incoming.end(end);
    assert.ok(done.ok, `${mode} ${JSON.stringify(opts)}`);
    assert.deepEqual(done.file.bytes, bytes);
  }
});

Deno.test("IncomingTransfers: gaps, wrong digests, oversize data and limits discard the file", async () => {
  const bytes = crypto.getRandomValues(new Uint8Array(1000));
  let t = await transfer("dm", bytes);
  await t.incoming.start(t.start, true);
  await t.incoming.chunk(t.chunks[0]);
  await t.incoming.chunk(t.chunks[2]); // chunk 1 missing
  assert.deepEqual(await t.incoming.end(t.end), { ok: false, reason: "chunk 1 is missing" });

  t = await transfer("dm", bytes);
  const lying = { ...t.start, payload: { ...t.start.payload, sha256: "0".repeat(64) } };
  await t.incoming.start(lying, true);
  for (const c of t.chunks) await t.incoming.chunk(c);
  assert.deepEqual(await t.incoming.end(t.end), { ok: false, reason: "SHA-256 does not match" });

  t = await transfer("dm", bytes);
  const small = { ...t.start, payload: { ...t.start.payload, size: 10 } };
  await t.incoming.start(small, true);
  await t.incoming.chunk(t.chunks[0]); // decrypted in the background
  assert.deepEqual(await t.incoming.end(t.end), {
    ok: false,
    reason: "more data than the declared size",
  });

  t = await transfer("dm", bytes);
  const huge = { ...t.start, payload: { ...t.start.payload, size: 9 * 1024 * 1024 } };
  assert.equal((await t.incoming.start(huge, true)).ok, false);
  for (let i = 0; i < 4; i++) {
    assert.ok(
      (await t.incoming.start({
        ...t.start,
        payload: { ...t.start.payload, file_id: crypto.randomUUID() },
      }, true)).ok,
    );
  }
  assert.deepEqual(
    await t.incoming.start({
      ...t.start,
      payload: { ...t.start.payload, file_id: crypto.randomUUID() },
    }, true),
    {
      ok: false,
      reason: "too many transfers from this sender",
    },
  );
});

Deno.test("keystore: round trip, wrong password, weakened files refused", async () => {
  const sealed = await sealIdentity(ME, "right", "Me", 2000);
  assert.equal(sealed.kdf, "pbkdf2-sha256");
  const pkcs8 = encodeBase64url(await exportPrivateKey(ME.keys.privateKey));
  assert.ok(
    !JSON.stringify(sealed).includes(pkcs8.slice(100, 160)),
    "the private key is not stored in clear",
  );
  const opened = await openIdentity(sealed, "right", 2000);
  assert.equal(opened.id, ME.id);
  assert.ok(opened.keys.publicKey.equals(ME.keys.publicKey));
  await assert.rejects(
    openIdentity(sealed, "wrong", 2000),
    (e) => e instanceof SocpError && e.code === "AUTH_FAILED" && /wrong password/.test(e.message),
  );
  await assert.rejects(
    openIdentity(sealed, "right"),
    (e) => e instanceof SocpError && /600000/.test(e.message),
    "fewer than 600 000 iterations refused",
  );
  await assert.rejects(openIdentity({ ...sealed, ct: "AAAA" }, "right", 2000), SocpError);
  assert.equal(PBKDF2_ITERATIONS, 600_000);
});

Deno.test("writeNewFile never overwrites and leaves no temporary files", async () => {
  const dir = await Deno.makeTempDir();
  assert.ok(await writeNewFile(`${dir}/f`, new Uint8Array([1]), 0o600));
  assert.ok(!(await writeNewFile(`${dir}/f`, new Uint8Array([2]), 0o600)));
  assert.deepEqual(await Deno.readFile(`${dir}/f`), new Uint8Array([1]));
  assert.equal((await Deno.stat(`${dir}/f`)).mode! & 0o777, 0o600);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadOrCreateIdentity creates a 0600 identity once, then reopens it (the one keygen of this file)", async () => {
  const dir = await Deno.makeTempDir();
  const made = await loadOrCreateIdentity(`${dir}/me`, "pw", "Me");
  assert.ok(made.created);
  assert.equal((await Deno.stat(`${dir}/me/identity.json`)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(`${dir}/me`)).mode! & 0o777, 0o700);
  const stored = JSON.parse(await Deno.readTextFile(`${dir}/me/identity.json`));
  assert.equal(stored.iter, 600_000);
  const again = await loadOrCreateIdentity(`${dir}/me`, "pw", "Me");
  assert.ok(!again.created);
  assert.equal(again.identity.id, made.identity.id);
  await assert.rejects(
    loadOrCreateIdentity(`${dir}/me`, "nope", "Me"),
    (e) => e instanceof SocpError && e.code === "AUTH_FAILED",
  );
  await Deno.remove(dir, { recursive: true });
});
