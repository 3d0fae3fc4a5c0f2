import assert from "node:assert/strict";
import { RsaGate } from "../../protocol/_rsa_gate.ts";

/** A task that records its start and finishes when released. */
function controlled(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: () => {
      log.push(name);
      return done;
    },
    finish,
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("RsaGate runs at most `slots` tasks at once, in arrival order", async () => {
  const gate = new RsaGate(2);
  const log: string[] = [];
  const tasks = ["a", "b", "c", "d"].map((n) => controlled(log, n));
  const runs = tasks.map((t) => gate.run(t.task));
  await tick();
  assert.deepEqual(log, ["a", "b"]);
  assert.equal(gate.waiting, 2);
  tasks[1].finish();
  await tick();
  assert.deepEqual(log, ["a", "b", "c"]);
  tasks[0].finish();
  tasks[2].finish();
  tasks[3].finish();
  await Promise.all(runs);
  assert.deepEqual(log, ["a", "b", "c", "d"]);
  assert.equal(gate.waiting, 0);
});

Deno.test("RsaGate: frame work overtakes queued bulk work, but bulk keeps half the slots", async () => {
  const gate = new RsaGate(2);
  const log: string[] = [];
  const bulk = ["w1", "w2", "w3", "w4"].map((n) => controlled(log, n));
  const urgent = ["s1", "s2", "s3"].map((n) => controlled(log, n));
  const runs = [
    ...bulk.map((t) => gate.run(t.task, true)),
    ...urgent.map((t) => gate.run(t.task)),
  ];
  await tick();
  // Both slots went to bulk work that arrived first on an idle gate.
  assert.deepEqual(log, ["w1", "w2"]);
  bulk[0].finish();
  await tick();
  // Frame work waits, so the freed slot goes to it: bulk still holds its share of one.
  assert.deepEqual(log, ["w1", "w2", "s1"]);
  bulk[1].finish();
  await tick();
  // Bulk is below its share: the next bulk task gets the slot although s2 waits.
  assert.deepEqual(log, ["w1", "w2", "s1", "w3"]);
  urgent[0].finish();
  await tick();
  assert.deepEqual(log.at(-1), "s2");
  bulk[2].finish();
  await tick();
  assert.deepEqual(log.at(-1), "w4", "bulk keeps its one slot");
  urgent[1].finish();
  await tick();
  assert.deepEqual(log.at(-1), "s3");
  for (const t of [...bulk, ...urgent]) t.finish();
  await Promise.all(runs);
  assert.equal(log.length, 7);
});

Deno.test("RsaGate frees the slot when a task throws", async () => {
  const gate = new RsaGate(1);
  await assert.rejects(gate.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await gate.run(() => Promise.resolve(7)), 7);
});
