// A user's first mistakes in the REPL get a clear error and the prompt stays
// usable (issue 15, item 5): /file of a missing file or of a directory, a
// file over the limit (in MiB), /tell to yourself. A real client process.

import assert from "node:assert/strict";
import { ClientProcess } from "../_client_proc.ts";
import { Cluster, fixtureKeys } from "../_cluster.ts";
import { fingerprint } from "../../mod.ts";

Deno.test("REPL mistakes: a missing file, a directory, a file too large, a DM to yourself", async () => {
  const { cluster, nodes: [s1] } = await Cluster.mesh(["s1"], 0);
  const files = await Deno.makeTempDir({ dir: cluster.dir });
  let ann: ClientProcess | undefined;
  try {
    await Deno.writeFile(`${files}/big.bin`, new Uint8Array(9 * 1024 * 1024 + 1));
    ann = await ClientProcess.start(cluster, s1, "ann", await fixtureKeys(2), [files]);
    const errorAfter = async (line: string) => {
      const seen = ann!.events.length;
      await ann!.send(line);
      const e = await ann!.next((e) => e.event === "error" && ann!.events.indexOf(e) >= seen);
      return `${e.code}: ${e.detail}`;
    };
    assert.equal(
      await errorAfter(`/file ann ${files}/nope.txt`),
      `NOT_FOUND: no such file: ${files}/nope.txt`,
    );
    assert.equal(
      await errorAfter(`/file ann ${files}`),
      `CLIENT: ${files} is a directory: /file sends one file`,
    );
    assert.equal(
      await errorAfter(`/file ann ${files}/big.bin`),
      `TOO_LARGE: ${files}/big.bin is 9 MiB; the limit is 8 MiB`,
    );
    assert.equal(
      await errorAfter("/tell ann hello me"),
      "BAD_REQUEST: ann is you: send to someone else",
    );
    // Still usable afterwards.
    await ann.send("/list");
    await ann.next((e) => e.event === "users");
  } finally {
    await ann?.quit();
    await cluster.close();
  }
});

Deno.test("an empty password for a new identity is refused before anything is written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command("deno", {
      args: [
        "run",
        "--allow-all",
        new URL("../../client/main.ts", import.meta.url).pathname,
        "--server",
        "wss://127.0.0.1:1/ws",
        "--user",
        "ann",
        "--data",
        `${dir}/ann`,
      ],
      env: { SOCP_PASSWORD: "" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2);
    assert.equal(
      new TextDecoder().decode(out.stderr).trim(),
      "socp-client: an empty identity password is refused",
    );
    assert.ok(!(await Deno.stat(`${dir}/ann/identity.json`).then(() => true, () => false)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/whois shows a user's id, server and full key fingerprint", async () => {
  const { cluster, nodes: [s1, s2] } = await Cluster.mesh(["s1", "s2"], 0);
  const clients: ClientProcess[] = [];
  try {
    const bobKeys = await fixtureKeys(3);
    clients.push(await ClientProcess.start(cluster, s1, "ann", await fixtureKeys(2)));
    clients.push(await ClientProcess.start(cluster, s2, "bob", bobKeys));
    const [ann, bob] = clients;
    await ann.next((e) => e.event === "presence" && e.display_name === "bob");
    await ann.send("/whois bob");
    const who = await ann.next((e) => e.event === "whois");
    assert.equal(who.user_id, bob.userId);
    assert.equal(who.server_id, (await s2.health()).id);
    assert.equal(who.online, true);
    assert.equal(who.fingerprint, await fingerprint(bobKeys.publicKey));
    assert.equal(who.offered, undefined);
  } finally {
    for (const c of clients) await c.quit();
    await cluster.close();
  }
});
