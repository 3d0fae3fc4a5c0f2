import assert from "node:assert/strict";
import { MAX_MESSAGES, PUBLIC } from "../../web/state.ts";
import { ChatState } from "../../web/state.ts";

const ME = "00000000-0000-4000-8000-000000000000";
const BOB = "11111111-1111-4111-8111-111111111111";
const BOB2 = "22222222-2222-4222-8222-222222222222";

function online(state: ChatState, userId: string, name: string) {
  state.apply({ type: "presence", userId, displayName: name, online: true, serverId: "s1" });
}

Deno.test("web state: a DM counts as unread until its conversation is opened", () => {
  const state = new ChatState(ME, () => 5000);
  online(state, BOB, "Bob");
  state.apply({ type: "dm", from: BOB, fromName: "Bob", text: "hi", ts: 4, verified: true });
  state.apply({ type: "dm", from: BOB, fromName: "Bob", text: "there", ts: 5, verified: true });
  assert.equal(state.conversation(BOB).unread, 2);
  assert.equal(state.conversation(BOB).messages[0].ts, 4000, "seconds are read as seconds");
  state.open(BOB);
  assert.equal(state.conversation(BOB).unread, 0);
  state.apply({ type: "dm", from: BOB, fromName: "Bob", text: "again", ts: 6, verified: true });
  assert.equal(state.conversation(BOB).unread, 0, "the conversation on screen stays read");
  state.sent(BOB, "mine");
  state.notice("a notice");
  assert.equal(state.conversation(PUBLIC).unread, 0);
});

Deno.test("web state: text that failed verification is never shown as text", () => {
  const state = new ChatState(ME);
  state.apply({
    type: "public",
    from: BOB,
    fromName: "Bob",
    text: null,
    ts: 1,
    verified: true,
    warning: "bad signature",
  });
  const [m] = state.conversation(PUBLIC).messages;
  assert.equal(m.text, null);
  assert.equal(m.verified, false);
});

Deno.test("web state: people sharing a display name are told apart by their ids", () => {
  const state = new ChatState(ME);
  online(state, BOB, "Bob");
  assert.equal(state.label(BOB), "Bob");
  online(state, BOB2, "Bob");
  assert.equal(state.label(BOB), "Bob (11111111)");
  assert.equal(state.label(BOB2), "Bob (22222222)");
  assert.deepEqual(state.online().map((p) => p.userId), [BOB, BOB2]);
  state.apply({ type: "presence", userId: BOB2, displayName: "Bob", online: false, serverId: "s" });
  assert.equal(state.label(BOB), "Bob", "only online namesakes count");
});

Deno.test("web state: a refused key change marks the person and tells the conversation", () => {
  const state = new ChatState(ME);
  online(state, BOB, "Bob");
  state.keyOf(BOB, "aa".repeat(32));
  state.apply({
    type: "key-change",
    userId: BOB,
    displayName: "Bob",
    fingerprint: "aa".repeat(32),
    offered: "bb".repeat(32),
  });
  assert.equal(state.people.get(BOB)!.keyChanged, true);
  assert.match(state.conversation(BOB).messages[0].text!, /different key \(bbbb/);
  online(state, BOB, "Bob");
  assert.equal(state.people.get(BOB)!.keyChanged, true, "the mark survives a new advert");
});

Deno.test("web state: an incoming file shows progress, then its checked download", () => {
  const state = new ChatState(ME);
  online(state, BOB, "Bob");
  const progress = { fileId: "f1", from: BOB, fromName: "Bob", name: "a.txt", total: 10 } as const;
  state.apply({ type: "receiving", ...progress, received: 0, mode: "dm" });
  state.apply({ type: "receiving", ...progress, received: 6, mode: "dm" });
  state.apply({ type: "receiving", ...progress, received: 4, mode: "dm" });
  const [m] = state.conversation(BOB).messages;
  assert.equal(m.file!.done, 6, "progress never goes back");
  state.apply({
    type: "file",
    fileId: "f1",
    from: BOB,
    fromName: "Bob",
    name: "a.txt",
    path: "blob:x",
    size: 10,
    sha256: "cd".repeat(32),
    verified: true,
    mode: "dm",
  });
  assert.equal(state.conversation(BOB).messages.length, 1, "one line per file");
  assert.deepEqual([m.file!.url, m.file!.done, m.verified], ["blob:x", 10, true]);
});

Deno.test("web state: uploads, disconnects and the message cap", () => {
  const state = new ChatState(ME);
  online(state, BOB, "Bob");
  let changes = 0;
  const off = state.onChange(() => changes++);
  // changes: upload, progress, failure
  const up = state.upload(BOB, "b.bin", 100);
  state.uploaded(up, 50);
  state.uploaded(up, 50, { failed: "connection closed" });
  assert.deepEqual([up.done, up.failed, up.confirmed, changes], [
    50,
    "connection closed",
    undefined,
    3,
  ]);
  const done = state.upload(BOB, "c.bin", 10);
  state.uploaded(done, 10);
  assert.equal(done.confirmed, undefined, "all bytes out is not yet sent");
  state.uploaded(done, 10, "confirmed");
  assert.equal(done.confirmed, true);
  state.apply({ type: "disconnected", reason: "gone", retryInMs: 2000 });
  assert.deepEqual(state.status, { kind: "offline", detail: "gone", retryInMs: 2000 });
  assert.deepEqual(state.online(), [], "nobody is known online while disconnected");
  off();
  for (let i = 0; i < MAX_MESSAGES + 10; i++) state.notice(`n${i}`, PUBLIC);
  const messages = state.conversation(PUBLIC).messages;
  assert.equal(messages.length, MAX_MESSAGES);
  assert.equal(messages.at(-1)!.text, `n${MAX_MESSAGES + 9}`);
  state.apply({
    type: "users",
    users: [{ user_id: BOB, display_name: "Bob", server_id: "s2", fingerprint: "ee" }],
  });
  assert.deepEqual(
    [state.people.get(BOB)!.online, state.people.get(BOB)!.fingerprint],
    [true, "ee"],
  );
});

Deno.test("web state: a message that waited is marked; a queued send is told in its conversation", () => {
  const state = new ChatState(ME);
  online(state, BOB, "Bob");
  state.apply({
    type: "dm",
    from: BOB,
    fromName: "Bob",
    text: "late",
    ts: 1,
    verified: true,
    queuedAt: 2,
  });
  assert.equal(state.conversation(BOB).messages[0].later, true);
  state.apply({ type: "queued", to: BOB2, toName: BOB2, msgRef: "r", queuedAt: 3 });
  assert.match(state.conversation(BOB2).messages[0].text!, /offline: your message waits/);
});
