import assert from "node:assert/strict";
import { ASSETS_MODULE, buildWebAssets } from "../../tools/web.ts";
import { Cluster } from "../_cluster.ts";

Deno.test("a server serves the web client with a strict policy; the introducer does not", async () => {
  const { cluster, intro, nodes: [s1] } = await Cluster.mesh(["s1"]);
  const get = (node: typeof s1, path: string, init: RequestInit = {}) =>
    fetch(`https://127.0.0.1:${node.port}${path}`, { ...init, client: cluster.client });
  try {
    const page = await get(s1, "/");
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(page.headers.get("cache-control"), "no-cache");
    const csp = page.headers.get("content-security-policy")!;
    for (const rule of ["default-src 'none'", "script-src 'self'", "connect-src 'self'"]) {
      assert.ok(csp.includes(rule), `${rule} in ${csp}`);
    }
    assert.doesNotMatch(
      csp,
      /unsafe-inline|unsafe-eval|https?:/,
      "no inline code, no other origin",
    );
    assert.doesNotMatch(html, /<script>|<style>| on[a-z]+=/, "no inline script or style");
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.equal(assets.length, 2);
    for (const path of assets) {
      assert.match(path, /\.[0-9a-f]{16}\.(js|css)$/, "named by a hash of the content");
      const res = await get(s1, path);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.ok((await res.text()).length > 100);
    }
    const head = await get(s1, "/", { method: "HEAD" });
    assert.deepEqual([head.status, await head.text()], [200, ""]);
    const post = await get(s1, "/", { method: "DELETE" });
    assert.deepEqual([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    await post.body?.cancel();
    const missing = await get(s1, "/assets/app.0000000000000000.js");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const ws = await get(s1, "/ws");
    assert.equal(ws.status, 426, "/ws stays the WebSocket endpoint");
    await ws.body?.cancel();
    const introPage = await get(intro, "/");
    assert.equal(introPage.status, 426, "the introducer has no users, so no web client");
    await introPage.body?.cancel();
  } finally {
    await cluster.close();
  }
});

Deno.test("the embedded web assets are built from web/ as it is (`deno task web`)", async () => {
  const embedded = await Deno.readTextFile(ASSETS_MODULE);
  assert.ok(embedded === await buildWebAssets(), "server/_web_assets.ts is stale: deno task web");
});
