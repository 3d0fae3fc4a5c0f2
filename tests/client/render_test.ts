import assert from "node:assert/strict";
import { HELP, parseCommand } from "../../client/commands.ts";
import { formatBytes, progressBar, toJsonLine, toText } from "../../client/render.ts";

Deno.test("parseCommand: every command, its usage errors, and plain text", () => {
  assert.deepEqual(parseCommand("/list"), { kind: "list", all: false });
  assert.deepEqual(parseCommand("/list --all"), { kind: "list", all: true });
  assert.equal(parseCommand("/list everyone").kind, "invalid");
  assert.deepEqual(parseCommand("  /tell   bob   hi  there "), {
    kind: "tell",
    target: "bob",
    text: "hi  there",
  });
  assert.deepEqual(parseCommand("/all hello"), { kind: "all", text: "hello" });
  assert.deepEqual(parseCommand("/file public ./a b.png"), {
    kind: "file",
    target: "public",
    path: "./a b.png",
  });
  assert.deepEqual(parseCommand("/QUIT"), { kind: "quit" });
  assert.deepEqual(parseCommand("/help"), { kind: "help" });
  assert.deepEqual(parseCommand("   "), { kind: "empty" });
  for (const bad of ["/tell bob", "/all", "/file bob", "/nope", "hello"]) {
    assert.equal(parseCommand(bad).kind, "invalid", bad);
  }
});

Deno.test("--json lines carry exactly the documented fields", () => {
  const lines = [
    toJsonLine({ type: "ready", userId: "u", serverId: "s", server: "wss://h/ws" }),
    toJsonLine({
      type: "users",
      users: [{ user_id: "u", display_name: "A", server_id: "s", fingerprint: "f" }],
    }),
    toJsonLine({ type: "dm", from: "u", fromName: "A", text: "hi", ts: 1, verified: true }),
    toJsonLine({
      type: "public",
      from: "u",
      fromName: "A",
      text: null,
      ts: 1,
      verified: false,
      warning: "w",
    }),
    toJsonLine({
      type: "file",
      fileId: "f",
      from: "u",
      fromName: "A",
      name: "n",
      path: "p",
      size: 1,
      sha256: "h",
      verified: true,
      mode: "dm",
    }),
    toJsonLine({ type: "progress", fileId: "f", sent: 1, total: 2 }),
    toJsonLine({
      type: "receiving",
      fileId: "f",
      from: "u",
      fromName: "A",
      name: "n",
      received: 1,
      total: 2,
      mode: "dm",
    }),
    toJsonLine({ type: "presence", userId: "u", displayName: "A", online: false, serverId: "s" }),
    toJsonLine({ type: "error", code: "USER_NOT_FOUND", detail: "d" }),
  ].map((l) => JSON.parse(l));
  const keys = lines.map((o) => Object.keys(o).join(","));
  assert.deepEqual(keys, [
    "event,user_id,server,server_id",
    "event,users",
    "event,from,from_name,text,ts,verified",
    "event,from,from_name,text,ts,verified,warning",
    "event,file_id,from,from_name,name,path,size,sha256,verified,mode",
    "event,file_id,sent,total",
    "event,file_id,from,name,received,total",
    "event,user_id,display_name,online,server_id",
    "event,code,detail",
  ]);
  assert.deepEqual(Object.keys(lines[1].users[0]), [
    "user_id",
    "display_name",
    "server_id",
    "fingerprint",
  ]);
});

Deno.test("text lines show time and trust; unverified content is never printed", () => {
  const ok = toText({
    type: "dm",
    from: "u",
    fromName: "Ann",
    text: "hi",
    ts: Date.now(),
    verified: true,
  })!;
  assert.match(ok, /^\[\d\d:\d\d:\d\d\] Ann → you: hi ✓$/);
  const unknown = toText({
    type: "public",
    from: "u",
    fromName: "u",
    text: "hey",
    ts: Date.now(),
    verified: false,
    warning: "sender not in the directory",
  })!;
  assert.match(unknown, /#public u: hey ⚠ unverified \(sender not in the directory\)$/);
  const rejected = toText({
    type: "dm",
    from: "u",
    fromName: "Ann",
    text: null,
    ts: Date.now(),
    verified: false,
    warning: "content signature does not verify",
  })!;
  assert.match(rejected, /Ann → you: ✗ not shown: content signature does not verify$/);
  assert.equal(toText({ type: "progress", fileId: "f", sent: 1, total: 2 }), null);
});

Deno.test("progress bars and sizes", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(3 * 1024 * 1024), "3.0 MiB");
  assert.equal(progressBar(0, 0, 0, 4), "[####] 100%  0 B/0 B  0 B/s");
  assert.equal(
    progressBar(100 * 1024, 200 * 1024, 1000, 10),
    "[#####.....]  50%  100.0 KiB/200.0 KiB  100.0 KiB/s",
  );
});

Deno.test("/whois, /help's aliases, and /list marking names several users share", () => {
  assert.deepEqual(parseCommand("/whois Bob"), { kind: "whois", target: "Bob" });
  assert.equal(parseCommand("/whois").kind, "invalid");
  assert.equal(parseCommand("/whois Bob extra").kind, "invalid");
  for (const alias of ["/msg", "/exit", "/?", "/whois"]) assert.ok(HELP.includes(alias), alias);

  const users = [
    { user_id: "1111aaaa", display_name: "ann", server_id: "s1", fingerprint: "ab".repeat(32) },
    { user_id: "2222bbbb", display_name: "ann", server_id: "s2" },
    { user_id: "3333cccc", display_name: "bob", server_id: "s1" },
  ];
  const lines = toText({ type: "users", users })!.split("\n");
  assert.equal(lines.filter((l) => l.includes("(name shared: use the id)")).length, 2);
  assert.ok(!lines.find((l) => l.includes("bob"))!.includes("shared"));

  const whois = {
    type: "whois" as const,
    userId: "1111aaaa",
    displayName: "ann",
    serverId: "s1",
    online: true,
    fingerprint: "ab".repeat(32),
  };
  assert.equal(
    toText(whois),
    `ann: id 1111aaaa, server s1, online\n  key ${
      "ab".repeat(32)
    }\n  key unchanged since first seen`,
  );
  assert.match(toText({ ...whois, offered: "cd".repeat(32) })!, /WARNING: another key \(cdcd/);
  assert.deepEqual(JSON.parse(toJsonLine(whois)), {
    event: "whois",
    user_id: "1111aaaa",
    display_name: "ann",
    server_id: "s1",
    online: true,
    fingerprint: "ab".repeat(32),
  });
});
