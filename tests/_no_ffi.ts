// A server started with the roles' narrow permissions and no --allow-ffi, for
// the flags that need FFI (--crypto openssl, --trim-memory on, --tls-engine openssl): how it
// exits.

/**
 * Runs `server/main.ts` (a temporary data directory; plain ws unless `tls`
 * names certificate and key files) with `args`, without FFI.
 */
export async function serverWithoutFfi(
  args: string[],
  tls?: { cert: string; key: string },
): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir();
  const transport = tls ? ["--tls-cert", tls.cert, "--tls-key", tls.key] : ["--insecure-plain"];
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        `--allow-read=${[dir, ...(tls ? [tls.cert, tls.key] : [])].join(",")}`,
        `--allow-write=${dir}`,
        "--allow-env=SOCP_*",
        new URL("../server/main.ts", import.meta.url).pathname,
        ...transport,
        "--port",
        "0",
        "--data",
        dir,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
