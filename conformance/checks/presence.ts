// §6.1/§6.2 presence (adverts and removes reach other users, signed by the
// hosting server) and the two /list forms.

import { buildSigned } from "../../protocol/builders.ts";
import type { Frame } from "../../protocol/types.ts";
import { type Check, expect } from "../check.ts";
import type { SuiteUser, Target } from "../target.ts";

const advertOf = (userId: string) => (f: Frame) =>
  f.type === "USER_ADVERTISE" && (f.payload as { user_id?: string }).user_id === userId;
const removeOf = (userId: string) => (f: Frame) =>
  f.type === "USER_REMOVE" && (f.payload as { user_id?: string }).user_id === userId;

/** `watcher` sees `joiner` arrive (signed advert) and leave (USER_REMOVE). */
async function arrivesAndLeaves(t: Target, watcher: SuiteUser, joinOn: number): Promise<void> {
  const joiner = await t.user("joiner", joinOn);
  const advert = await t.expectFrame(
    watcher,
    advertOf(joiner.identity.id),
    "the joiner's USER_ADVERTISE",
  );
  const p = advert.payload as { server_id?: string; pubkey?: string };
  expect(p.server_id === joiner.serverId, "advert server_id", {
    expected: `server_id ${joiner.serverId}`,
    got: advert,
  });
  // Signed by the hosting server (forwarded unchanged) or re-issued by the watcher's own.
  const byHost = advert.from === joiner.serverId && t.serverKeys.has(joinOn) &&
    await t.signedByServer(joinOn, advert);
  const byOwn = advert.from === watcher.serverId && await t.signedByServer(watcher.server, advert);
  expect(byHost || byOwn, "advert signature", {
    expected: "signed by the hosting server (or the watcher's own)",
    got: advert,
  });
  const after = watcher.conn.frames.length;
  await joiner.conn.close();
  await t.expectFrame(
    watcher,
    removeOf(joiner.identity.id),
    "USER_REMOVE of the leaver",
    undefined,
    after,
  );
}

export const PRESENCE_CHECKS: Check[] = [
  {
    id: "presence.same-server",
    section: "6.2",
    level: "MUST",
    title: "a user on the same server sees others arrive (signed USER_ADVERTISE) and leave",
    async run(t) {
      await arrivesAndLeaves(t, await t.user("watcher"), 0);
    },
  },
  {
    id: "presence.cross-server",
    section: "6.1",
    level: "MUST",
    title: "a user sees users of the other server arrive and leave",
    needs: "two-servers",
    async run(t) {
      await t.user("key of server 2", 1); // learns server 2's key
      await arrivesAndLeaves(t, await t.user("watcher", 0), 1);
    },
  },
  {
    id: "list.request",
    section: "6.2",
    level: "MUST",
    title: "LIST_REQUEST lists every online user, the requester included, sorted by user_id",
    async run(t) {
      const [alice, bob] = [await t.user("alice"), await t.user("bob")];
      const request = await buildSigned(alice.identity, "LIST_REQUEST", alice.serverId, {});
      alice.conn.send(request);
      const response = await t.expectFrame(
        alice,
        (f) => f.type === "LIST_RESPONSE",
        "LIST_RESPONSE",
        request,
      );
      const users = ((response.payload as { users?: unknown[] }).users ?? []).map((u) =>
        typeof u === "string" ? u : String((u as { user_id?: unknown }).user_id)
      );
      for (const who of [alice, bob]) {
        expect(users.includes(who.identity.id), `${who.name} in the list`, {
          sent: request,
          expected: `user ${who.identity.id} listed`,
          got: response,
        });
      }
      const sorted = [...users].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(users.join() === sorted.join(), "list order", {
        expected: "ascending by user_id",
        got: users.join(", "),
      });
    },
  },
  {
    id: "list.command",
    section: "6.2",
    level: "MUST",
    title: "COMMAND /list answers a COMMAND_RESPONSE whose response is JSON text of sorted ids",
    async run(t) {
      const alice = await t.user("alice");
      const command = await buildSigned(alice.identity, "COMMAND", alice.serverId, {
        command: "/list",
      });
      alice.conn.send(command);
      const got = await t.expectFrame(
        alice,
        (f) => f.type === "COMMAND_RESPONSE",
        "COMMAND_RESPONSE",
        command,
      );
      let ids: unknown;
      try {
        ids = JSON.parse(String((got.payload as { response?: unknown }).response)).users;
      } catch {
        ids = undefined;
      }
      expect(Array.isArray(ids) && ids.includes(alice.identity.id), "the response", {
        sent: command,
        expected: `response = JSON text {"users":[…"${alice.identity.id}"…]}`,
        got,
      });
    },
  },
];
