import assert from "node:assert/strict";
import { Pipeline } from "../../server/_pipeline.ts";

/** A promise with its resolver, to finish computations in a chosen order. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test("pipeline: concurrent items compute together and apply in push order", async () => {
  const pipe = new Pipeline<string>(4);
  const started: string[] = [];
  const applied: string[] = [];
  const gates = ["a", "b", "c"].map(() => deferred<string>());
  const done = ["a", "b", "c"].map((name, i) =>
    pipe.push(true, () => {
      started.push(name);
      return gates[i].promise;
    }, (r) => Promise.resolve(void applied.push(r)))
  );
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, ["a", "b", "c"], "all three run at once");
  gates[2].resolve("c");
  gates[1].resolve("b");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(applied, [], "nothing applies before the first");
  gates[0].resolve("a");
  await Promise.all(done);
  assert.deepEqual(applied, ["a", "b", "c"]);
});

Deno.test("pipeline: an exclusive item waits for all before it, and all after wait for it", async () => {
  const pipe = new Pipeline<string>(4);
  const log: string[] = [];
  const first = deferred<string>();
  const p1 = pipe.push(true, () => {
    log.push("start 1");
    return first.promise;
  }, () => Promise.resolve(void log.push("apply 1")));
  const p2 = pipe.push(false, () => {
    log.push("start 2 (exclusive)");
    return Promise.resolve("2");
  }, () => Promise.resolve(void log.push("apply 2")));
  const p3 = pipe.push(true, () => {
    log.push("start 3");
    return Promise.resolve("3");
  }, () => Promise.resolve(void log.push("apply 3")));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(log, ["start 1"]);
  first.resolve("1");
  await Promise.all([p1, p2, p3]);
  assert.deepEqual(log, [
    "start 1",
    "apply 1",
    "start 2 (exclusive)",
    "apply 2",
    "start 3",
    "apply 3",
  ]);
});

Deno.test("pipeline: depth bounds the items computing at once", async () => {
  const pipe = new Pipeline<number>(2);
  let running = 0;
  let most = 0;
  const all = [];
  for (let i = 0; i < 6; i++) {
    all.push(pipe.push(true, async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return i;
    }, () => Promise.resolve()));
  }
  await Promise.all(all);
  assert.equal(most, 2);
});

Deno.test("pipeline: a concurrent item that needs exclusivity can wait for the ones before it", async () => {
  const pipe = new Pipeline<string>(4);
  const log: string[] = [];
  const slow = deferred<string>();
  pipe.push(true, () => slow.promise, () => Promise.resolve(void log.push("apply slow")));
  const second = pipe.push(true, async (earlier) => {
    await earlier; // what receive() does when the route is not concurrent after all
    log.push("second ran after");
    return "x";
  }, () => Promise.resolve(void log.push("apply second")));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(log, []);
  slow.resolve("s");
  await second;
  assert.deepEqual(log, ["apply slow", "second ran after", "apply second"]);
});
