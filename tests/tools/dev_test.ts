// `deno task dev`, as a user runs it: healthy linked servers within seconds,
// two browser tabs chatting at the printed web addresses with no other
// step, a clean stop on Ctrl-C, nothing left behind; a second run reuses
// identities.

import assert from "node:assert/strict";
import { Chromium } from "../_chromium.ts";
import { waitUntil } from "../_cluster.ts";
import { browserOrSkip, create, line, person, say } from "../web/_ui.ts";

const REPO = new URL("../../", import.meta.url).pathname;

async function runDev(dir: string) {
  const child = new Deno.Command("deno", {
    args: [
      "task",
      "dev",
      "--",
      "--data",
      dir,
      "--certs",
      `${dir}/certs`,
      "--ports",
      "0,0,0",
      "--web-ports",
      "0,0",
    ],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let output = "";
  const reader = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) output += chunk;
  })();
  const errors = new Response(child.stderr).text();
  await waitUntil(() => output.includes("Press Ctrl-C to stop."), 60_000, "the dev network");
  const ports = [...output.matchAll(/--server wss:\/\/127\.0\.0\.1:(\d+)\/ws/g)].map((m) =>
    Number(m[1])
  );
  const web = [...output.matchAll(/^ {2}(http:\/\/127\.0\.0\.1:\d+\/) /gm)].map((m) => m[1]);
  return { child, ports, web, output: () => output, finished: Promise.all([reader, errors]) };
}

/** Two tabs at the printed addresses, a user made in each, a DM each way. */
async function chatInTwoTabs(executable: string, web: string[]): Promise<void> {
  // The dev addresses are plain http on 127.0.0.1: the browser is told to trust no certificate.
  const browser = await Chromium.launch(executable);
  try {
    const [ann, ben] = [await browser.page(web[0]), await browser.page(web[1])];
    await create(ann, "Ann");
    await create(ben, "Ben");
    await ann.waitFor(`!!document.querySelector(${JSON.stringify(person("Ben"))})`, "Ben listed");
    await ann.click(person("Ben"));
    await say(ann, "hello from tab one");
    await ben.waitFor(`!!document.querySelector(${JSON.stringify(person("Ann"))})`, "Ann listed");
    await ben.click(person("Ann"));
    await line(ben, "hello from tab one", "Ben reads Ann");
    await say(ben, "and back from tab two");
    await line(ann, "and back from tab two", "Ann reads Ben");
  } finally {
    await browser.close();
  }
}

const chromium = await browserOrSkip();

Deno.test("deno task dev: servers healthy and linked within seconds, two browser tabs chat, stopped cleanly by Ctrl-C, reused next time", async () => {
  const dir = `.socp/test-dev-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const first = await runDev(dir);
    assert.equal(first.ports.length, 2);
    assert.equal(first.web.length, 2, first.output());
    const ca = await Deno.readTextFile(`${REPO}${dir}/certs/ca.pem`);
    const trust = Deno.createHttpClient({ caCerts: [ca] });
    const health = async (port: number) =>
      await (await fetch(`https://127.0.0.1:${port}/healthz`, { client: trust })).json();
    const ids: string[] = [];
    await waitUntil(
      async () => {
        const [h1, h2] = await Promise.all(first.ports.map(health));
        ids.splice(0, 2, h1.id, h2.id);
        return h1.links.includes(h2.id) && h2.links.includes(h1.id);
      },
      10_000,
      "the two servers to link",
    );
    if (chromium) await chatInTwoTabs(chromium, first.web);
    else console.warn("no chromium: the browser part of this test is skipped");
    first.child.kill("SIGINT");
    const status = await first.child.status;
    await first.finished;
    assert.equal(status.code, 0);
    assert.match(first.output(), /socp dev: stopped/);
    // Nothing keeps listening, and no process of this run is left.
    for (const port of first.ports) {
      await assert.rejects(fetch(`https://127.0.0.1:${port}/healthz`, { client: trust }));
    }
    for (const address of first.web) await assert.rejects(fetch(address));
    const ps = await new Deno.Command("ps", { args: ["-eo", "pid,args"], stdout: "piped" })
      .output();
    const left = new TextDecoder().decode(ps.stdout).split("\n").filter((line) =>
      line.includes(dir) && !line.includes(" ps ")
    );
    assert.deepEqual(left, [], "no stray processes");

    const second = await runDev(dir);
    await waitUntil(
      async () => (await health(second.ports[0])).id === ids[0],
      10_000,
      "s1 keeps its id",
    );
    assert.equal((await health(second.ports[1])).id, ids[1], "s2 keeps its id");
    second.child.kill("SIGINT");
    assert.equal((await second.child.status).code, 0);
    await second.finished;
    trust.close();
  } finally {
    await Deno.remove(`${REPO}${dir}`, { recursive: true }).catch(() => {});
  }
});
