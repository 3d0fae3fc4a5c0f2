// §8 files: a DM file and a public file relayed frame by frame, untouched; an
// oversize one refused.

import { buildSigned } from "../../protocol/builders.ts";
import { sha256Hex } from "../../protocol/hash.ts";
import { verifyFrame } from "../../protocol/transport_sig.ts";
import type { Frame } from "../../protocol/types.ts";
import { fileFrames, type FileTarget } from "../../client/_file_send.ts";
import { type Check, expect, isError } from "../check.ts";
import type { SuiteUser, Target } from "../target.ts";
import { channelKey } from "./public.ts";

/** `alice` sends a small file to `target`; `bob` must get every frame, with alice's signatures. */
async function relayedIntact(t: Target, alice: SuiteUser, bob: SuiteUser, target: FileTarget) {
  const bytes = crypto.getRandomValues(new Uint8Array(2000));
  const sent: Frame[] = [];
  for await (const { frame } of fileFrames(alice.identity, target, "c.bin", bytes)) {
    sent.push(frame);
    alice.conn.send(frame);
  }
  const end = sent.at(-1)!;
  const fileId = (end.payload as { file_id: string }).file_id;
  const ofFile = (f: Frame) => (f.payload as { file_id?: string }).file_id === fileId;
  await t.expectFrame(bob, (f) => f.type === "FILE_END" && ofFile(f), "FILE_END", end);
  const got = bob.conn.frames.filter((f) => f.type.startsWith("FILE_") && ofFile(f));
  expect(got.length === sent.length, "frames of the file", {
    expected: `${sent.length} frames (FILE_START, ${sent.length - 2} chunks, FILE_END)`,
    got: got.map((f) => f.type).join(", "),
  });
  for (const f of got) {
    const ok = f.from === alice.identity.id && await verifyFrame(alice.identity.keys.publicKey, f);
    expect(ok, `${f.type} untouched`, { expected: "from alice, alice's signature", got: f });
  }
}

export const FILE_CHECKS: Check[] = [
  {
    id: "files.dm",
    section: "8.2",
    level: "MUST",
    title:
      "a DM file's FILE_START, chunks and FILE_END reach the recipient with the sender's signatures",
    async run(t) {
      const [alice, bob] = [await t.user("alice"), await t.user("bob")];
      const contact = {
        userId: bob.identity.id,
        serverId: bob.serverId,
        name: "bob",
        pubkey: bob.identity.keys.publicKey,
        encKey: bob.identity.keys.publicKey,
        fingerprint: "",
        caps: [],
        online: true,
      };
      await relayedIntact(t, alice, bob, { contact });
    },
  },
  {
    id: "files.public",
    section: "8.2",
    level: "MUST",
    title: "a public file's frames reach the other members with the sender's signatures",
    async run(t) {
      const [alice, bob] = [await t.user("alice"), await t.user("bob")];
      await channelKey(t, bob);
      await new Promise((r) => setTimeout(r, 1000)); // the last login's rotation settles
      await relayedIntact(t, alice, bob, { channel: await channelKey(t, alice) });
    },
  },
  {
    id: "files.oversize",
    section: "11",
    level: "MUST",
    title: "a FILE_START declaring more than the file limit (8 MiB) gets TOO_LARGE",
    async run(t) {
      const [alice, bob] = [await t.user("alice"), await t.user("bob")];
      const start = await buildSigned(alice.identity, "FILE_START", bob.identity.id, {
        file_id: crypto.randomUUID(),
        name: "huge.bin",
        size: 1024 * 1024 * 1024,
        sha256: await sha256Hex(new Uint8Array()),
        mode: "dm",
      });
      alice.conn.send(start);
      const error = await alice.conn.next(isError(), t.wait);
      expect(!!error && isError("TOO_LARGE")(error), "1 GiB file", {
        sent: start,
        expected: "ERROR TOO_LARGE",
        got: error,
      });
      expect(!(await bob.conn.next((f) => f.type === "FILE_START", 500)), "bob", {
        expected: "no FILE_START relayed",
        got: "a FILE_START",
      });
    },
  },
];
