// The REPL's status line for files arriving: progress per transfer from the
// `receiving` events, gone once the file is saved or the transfer went idle.

import assert from "node:assert/strict";
import { IncomingFiles } from "../../client/incoming_files.ts";
import type { ClientEvent } from "../../client/events.ts";

function receiving(fileId: string, received: number, total = 1000): ClientEvent {
  return {
    type: "receiving",
    fileId,
    from: "id-bob",
    fromName: "Bob",
    name: `${fileId}.bin`,
    received,
    total,
    mode: "dm",
  };
}

function saved(fileId: string): ClientEvent {
  return {
    type: "file",
    fileId,
    from: "id-bob",
    fromName: "Bob",
    name: `${fileId}.bin`,
    path: `/tmp/${fileId}.bin`,
    size: 1000,
    sha256: "00",
    verified: true,
    mode: "dm",
  };
}

Deno.test("arriving files show their progress on the status line until saved", () => {
  const lines: (string | undefined)[] = [];
  let now = 0;
  const incoming = new IncomingFiles((t) => lines.push(t), 60_000, () => now);
  try {
    incoming.observe(receiving("a", 0));
    assert.match(lines.at(-1)!, /^a\.bin ← Bob \[\.+\]\s+0%/);
    now = 1000;
    incoming.observe(receiving("a", 500));
    assert.match(lines.at(-1)!, /a\.bin ← Bob \[#{6}\.{6}\]\s+50%/);
    incoming.observe(receiving("b", 100));
    assert.match(lines.at(-1)!, /a\.bin ← Bob .* \| b\.bin ← Bob .*10%/);
    incoming.observe({
      type: "presence",
      userId: "x",
      displayName: "X",
      online: true,
      serverId: "s",
    });
    assert.equal(lines.length, 3, "other events do not redraw");
    incoming.observe(saved("a"));
    assert.match(lines.at(-1)!, /^b\.bin ← Bob/);
    incoming.observe(saved("b"));
    assert.equal(lines.at(-1), undefined, "nothing arriving: the line goes");
  } finally {
    incoming.close();
  }
});

Deno.test("a transfer that stopped arriving leaves the status line after the idle limit", () => {
  const lines: (string | undefined)[] = [];
  let now = 0;
  const incoming = new IncomingFiles((t) => lines.push(t), 60_000, () => now);
  try {
    incoming.observe(receiving("stalled", 200));
    now = 61_000;
    incoming.observe(receiving("fresh", 10));
    assert.doesNotMatch(lines.at(-1)!, /stalled/);
    assert.match(lines.at(-1)!, /^fresh\.bin/);
    now = 122_000;
    incoming.observe(saved("unknown")); // not arriving here: nothing to redraw
    incoming.observe(receiving("fresh", 20));
    assert.match(lines.at(-1)!, /^fresh\.bin/);
  } finally {
    incoming.close();
  }
});
