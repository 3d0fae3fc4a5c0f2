// --trim-memory: glibc's malloc_trim gives freed memory back (measured with
// memory freed through libc itself), the schedule trims only after a change,
// and a server asked to trim without FFI stops at start and says why.

import assert from "node:assert/strict";
import { loadMallocTrim, type MallocTrim, TrimSchedule } from "../../server/memory_trim.ts";
import { parseConfig } from "../../server/config.ts";
import { Cluster } from "../_cluster.ts";
import { serverWithoutFfi } from "../_no_ffi.ts";

const MiB = 1024 * 1024;

function rssBytes(): number {
  return Deno.memoryUsage().rss;
}

Deno.test("malloc_trim returns memory freed in the middle of the heap, which free() keeps", async () => {
  const trimmer = loadMallocTrim();
  if ("error" in trimmer) throw new Error(trimmer.error);
  const libc = Deno.dlopen("libc.so.6", {
    malloc: { parameters: ["usize"], result: "pointer" },
    free: { parameters: ["pointer"], result: "void" },
    memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
  });
  try {
    // 64 KiB blocks stay below the mmap threshold, so they come from a heap; the
    // last one stays allocated, so free() cannot hand the rest back as the heap's top.
    const blocks = Array.from({ length: 1600 }, () => {
      const p = libc.symbols.malloc(64n * 1024n);
      libc.symbols.memset(p, 1, 64n * 1024n);
      return p;
    });
    const last = blocks.pop();
    for (const p of blocks) libc.symbols.free(p);
    const held = rssBytes();
    const schedule = new TrimSchedule(trimmer);
    const returned = await schedule.tick(rssBytes);
    assert.ok(returned > 50 * MiB, `returned ${(returned / MiB).toFixed(1)} MiB`);
    assert.ok(rssBytes() < held - 50 * MiB);
    assert.equal(schedule.trims, 1);
    libc.symbols.free(last!);
    schedule.close();
  } finally {
    libc.close();
  }
});

/** A trimmer that counts its calls and can be held mid-call. */
function countingTrimmer(): MallocTrim & { calls: number; closed: boolean; hold?: Promise<void> } {
  const t = {
    calls: 0,
    closed: false,
    hold: undefined as Promise<void> | undefined,
    async trim() {
      t.calls++;
      await t.hold;
    },
    close() {
      t.closed = true;
    },
  };
  return t;
}

Deno.test("the schedule trims after RSS grew by 8 MiB or 16 links changed, then 6 ticks more, not forever", async () => {
  const trimmer = countingTrimmer();
  const schedule = new TrimSchedule(trimmer);
  let rss = 100 * MiB;
  const tick = () => schedule.tick(() => rss);
  await tick(); // the first tick trims what start-up left, and the next 6 what GC frees later
  for (let i = 0; i < 6; i++) await tick();
  assert.equal(trimmer.calls, 7);
  await tick();
  rss += 7 * MiB;
  await tick();
  for (let i = 0; i < 15; i++) schedule.linkChanged();
  await tick();
  assert.equal(trimmer.calls, 7, "an idle server is not trimmed again");
  schedule.linkChanged();
  await tick();
  assert.equal(trimmer.calls, 8, "16 links came or went");
  for (let i = 0; i < 6; i++) await tick();
  assert.equal(trimmer.calls, 14);
  await tick();
  assert.equal(trimmer.calls, 14);
  rss += 8 * MiB;
  await tick();
  assert.equal(trimmer.calls, 15, "RSS grew by 8 MiB");
  assert.equal(schedule.trims, 15);
});

Deno.test("closing during a trim closes the library only once the trim is done", async () => {
  const trimmer = countingTrimmer();
  let release!: () => void;
  trimmer.hold = new Promise<void>((r) => release = r);
  const schedule = new TrimSchedule(trimmer);
  const running = schedule.tick(() => 64 * MiB);
  schedule.close();
  assert.equal(trimmer.closed, false, "the call still runs on its thread");
  release();
  await running;
  assert.equal(trimmer.closed, true);
  assert.equal(await schedule.tick(() => 128 * MiB), 0, "no trim after close");
  assert.equal(trimmer.calls, 1);
});

Deno.test("--trim-memory takes auto, on and off, and refuses anything else", () => {
  const parse = (extra: string[], env: Record<string, string> = {}) =>
    parseConfig("server", ["--insecure-plain", ...extra], env);
  const trimOf = (r: ReturnType<typeof parse>) =>
    r.ok ? r.config.trimMemory : "error" in r ? r.error : r.help;
  assert.equal(trimOf(parse([])), "auto");
  assert.equal(trimOf(parse(["--trim-memory", "on"])), "on");
  assert.equal(trimOf(parse([], { SOCP_TRIM_MEMORY: "off" })), "off");
  assert.match(String(trimOf(parse(["--trim-memory", "always"]))), /--trim-memory: auto\|on\|off/);
});

Deno.test("a server trims with --trim-memory on and FFI; without FFI it stops at start", async () => {
  const cluster = await Cluster.create(40);
  try {
    const on = await cluster.server("on", [], ["--trim-memory", "on"], ["--allow-ffi"]);
    const off = await cluster.server("off", [], ["--trim-memory", "off"], ["--allow-ffi"]);
    // auto trims only when FFI is granted, which the cluster does for the OpenSSL backend alone.
    const auto = await cluster.server("auto", [], []);
    const deadline = Date.now() + 15_000;
    let trims = 0;
    while (trims === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const trim = (await on.health()).memory_trim as { trims: number } | null;
      trims = trim?.trims ?? 0;
    }
    assert.ok(trims >= 1, "the sweep trimmed");
    assert.equal((await off.health()).memory_trim, null);
    const autoTrims = (await auto.health()).memory_trim;
    if (cluster.crypto === "webcrypto") assert.equal(autoTrims, null);
    else assert.notEqual(autoTrims, null);

    const out = await serverWithoutFfi(["--trim-memory", "on"]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /--trim-memory on: .*--allow-ffi/);
  } finally {
    await cluster.close();
  }
});
