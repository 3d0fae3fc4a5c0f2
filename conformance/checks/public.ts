// §7 public channel: a key for every member, a message every member opens,
// rotation when a member leaves.

import { buildMsgPublic } from "../../protocol/builders.ts";
import type { Frame, FrameOf } from "../../protocol/types.ts";
import { type ChannelKey, ChannelKeys } from "../../client/channel_keys.ts";
import { type Check, CheckFailure, expect } from "../check.ts";
import type { SuiteUser, Target } from "../target.ts";

/** `user`'s channel keys from every key frame it got so far. */
async function keysOf(user: SuiteUser): Promise<ChannelKeys> {
  const keys = new ChannelKeys(user.identity.id, user.identity.keys.privateKey);
  for (const f of user.conn.frames) {
    if (f.type === "PUBLIC_CHANNEL_UPDATED") {
      await keys.fromUpdated(f as FrameOf<"PUBLIC_CHANNEL_UPDATED">);
    } else if (f.type === "PUBLIC_CHANNEL_KEY_SHARE") {
      await keys.fromKeyShare(f as FrameOf<"PUBLIC_CHANNEL_KEY_SHARE">);
    } else if (f.type === "PUBLIC_CHANNEL_KEY") {
      await keys.fromChannelKey(f as FrameOf<"PUBLIC_CHANNEL_KEY">, user.serverKey);
    }
  }
  return keys;
}

/** Waits until `user` holds a channel key (newer than `above`, when given). */
export async function channelKey(
  t: Target,
  user: SuiteUser,
  above = 0,
): Promise<ChannelKey> {
  const deadline = Date.now() + t.wait;
  while (Date.now() < deadline) {
    const current = (await keysOf(user)).current();
    if (current && current.version > above) return current;
    await user.conn.next(() => false, 200);
  }
  const types = [...new Set(user.conn.frames.map((f) => f.type))].join(", ");
  throw new CheckFailure(
    `${user.name} holds no public channel key${above ? ` above v${above}` : ""}`,
    {
      expected: "PUBLIC_CHANNEL_UPDATED or KEY_SHARE with a wrap for the user",
      got: types ? `frames: ${types}` : "no frames",
    },
  );
}

const isPublicFrom = (userId: string, ts: number) => (f: Frame) =>
  f.type === "MSG_PUBLIC_CHANNEL" && f.from === userId && f.ts === ts;

export const PUBLIC_CHECKS: Check[] = [
  {
    id: "public.key",
    section: "7.2",
    level: "MUST",
    title: "a user who logs in receives the public channel key, wrapped for it",
    async run(t) {
      const u = await t.user("member");
      const key = await channelKey(t, u);
      return `version ${key.version}`;
    },
  },
  {
    id: "public.message",
    section: "7.4",
    level: "MUST",
    title: "a public message reaches every other member, who can open it",
    async run(t) {
      const members = [await t.user("alice"), await t.user("bob")];
      if (t.serverCount > 1) members.push(await t.user("carol", 1));
      for (const m of members) await channelKey(t, m);
      // The last login rotated the key (joins are batched for 250 ms): let it settle.
      await new Promise((r) => setTimeout(r, 1000));
      const [alice, ...others] = members;
      const current = await channelKey(t, alice);
      const text = `conformance public ${crypto.randomUUID()}`;
      const frame = await buildMsgPublic(alice.identity, current.key, current.version, text);
      alice.conn.send(frame);
      for (const m of others) {
        const got = await t.expectFrame(
          m,
          isPublicFrom(alice.identity.id, frame.ts),
          "the public message",
          frame,
        );
        const plain = await (await keysOf(m)).open(
          String((got.payload as { ciphertext?: string }).ciphertext),
          (got.payload as { key_version?: number }).key_version,
        );
        expect(plain !== null && new TextDecoder().decode(plain) === text, `${m.name} opens it`, {
          sent: frame,
          expected: "the text, under the member's channel key",
          got,
        });
      }
    },
  },
  {
    id: "public.rotation-on-leave",
    section: "7.2",
    level: "SHOULD",
    title: "when a member leaves, the remaining members get a newer key",
    async run(t) {
      const [stays, leaves] = [await t.user("stays"), await t.user("leaves")];
      const before = await channelKey(t, stays);
      const wait = await channelKey(t, leaves);
      const top = Math.max(before.version, wait.version);
      await leaves.conn.close();
      const after = await channelKey(t, stays, top);
      return `v${top} → v${after.version}`;
    },
  },
];
