/**
 * `deno task bundle`: one executable file per role in `dist/` (`deno bundle`
 * output behind a `#!/usr/bin/env -S deno run …` shebang). Each starts with
 * only the right to run `deno` and read `SOCP_*` variables, then relaunches
 * itself with the narrowest permissions its flags need (tools/permissions.ts).
 *
 * @module
 */

/** The roles, with their bundle entry points. */
export const ROLES = [
  "socp-introducer",
  "socp-server",
  "socp-client",
  "socp-conformance",
] as const;

/** The shebang every bundle starts with: just enough to relaunch itself. */
export const SHEBANG = "#!/usr/bin/env -S deno run --allow-run=deno --allow-env=SOCP_*";

/**
 * Bundles every role into `outDir`; returns the written paths.
 *
 * @example
 * ```ts
 * import { bundleAll } from "./bundle.ts";
 * // const paths = await bundleAll("dist");
 * ```
 */
export async function bundleAll(outDir: string): Promise<string[]> {
  await Deno.mkdir(outDir, { recursive: true });
  const written = [];
  for (const role of ROLES) {
    const entry = new URL(`./bin/${role}.ts`, import.meta.url).pathname;
    const js = `${outDir}/.${role}.js`;
    const out = await new Deno.Command("deno", {
      args: ["bundle", "--quiet", "--output", js, entry],
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno bundle ${role} failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    const path = `${outDir}/${role}`;
    await Deno.writeTextFile(path, `${SHEBANG}\n${await Deno.readTextFile(js)}`, { mode: 0o755 });
    await Deno.chmod(path, 0o755);
    await Deno.remove(js);
    written.push(path);
  }
  return written;
}

if (import.meta.main) {
  const outDir = Deno.args[0] ?? "dist";
  for (const path of await bundleAll(outDir)) console.log(`wrote ${path}`);
}
