/**
 * `deno task compile`: standalone binaries of the three roles with
 * `deno compile`. Compiling downloads Deno's `denort` runtime, so it only
 * works on machines with access to dl.deno.land; elsewhere use
 * `deno task bundle`. A compiled binary cannot relaunch itself, so its
 * permissions are fixed here: network, `SOCP_*` variables, and the default
 * directories `.socp/` (data) and `certs/` (TLS) relative to where it runs.
 *
 * @module
 */

/** Role → [entry, fixed permissions]. */
export const COMPILE_TARGETS: Record<string, [string, string[]]> = {
  "socp-introducer": ["introducer/main.ts", [
    "--allow-net",
    "--allow-env=SOCP_*",
    "--allow-read=.socp,certs",
    "--allow-write=.socp",
  ]],
  "socp-server": ["server/main.ts", [
    "--allow-net",
    "--allow-env=SOCP_*",
    "--allow-read=.socp,certs",
    "--allow-write=.socp",
  ]],
  "socp-client": ["client/main.ts", [
    "--allow-net",
    "--allow-env=SOCP_*",
    "--allow-read=.socp,certs",
    "--allow-write=.socp",
  ]],
};

if (import.meta.main) {
  const outDir = Deno.args[0] ?? "dist";
  for (const [role, [entry, permissions]] of Object.entries(COMPILE_TARGETS)) {
    const out = await new Deno.Command("deno", {
      args: ["compile", ...permissions, "--output", `${outDir}/${role}`, entry],
    }).output();
    if (!out.success) {
      console.error(
        `deno compile ${role} failed. It needs to download Deno's denort runtime; on machines that cannot, use: deno task bundle`,
      );
      Deno.exit(1);
    }
    console.log(`wrote ${outDir}/${role}`);
  }
}
