// A few thousand seeded mutated frames from a fuzzing user and a fuzzing
// server peer against a real mesh (introducer, A, B), then the checks of
// tests/_fuzz.ts: honest DMs both ways, both honest users online everywhere,
// new users still admitted and keyed, and bounded RSS. The long run is
// `deno run --allow-all tools/fuzz.ts` (100 000 frames by default).

import assert from "node:assert/strict";
import { runFuzz } from "../_fuzz.ts";

// Fixed, so that a failure here reproduces with `tools/fuzz.ts --seed 7 --frames 3000`.
const SEED = 7;

Deno.test("3 000 fuzzed frames on a user link and a server link: honest users keep their service", async () => {
  const report = await runFuzz({ frames: 3000, seed: SEED, rate: 800, rssBoundMb: 200 });
  const growth = report.checks.rss.map((r) => `${r.name} ${r.growthMb} MB`).join(", ");
  console.log(
    `seed ${report.seed}: sent ${JSON.stringify(report.sentByKind)}; ` +
      `peer ${report.peer.links} links / ${report.peer.failedReconnects} failed reconnects; ` +
      `RSS growth ${growth}`,
  );
  assert.deepEqual(report.failures, [], "every honest-user check holds after the fuzz");
});
