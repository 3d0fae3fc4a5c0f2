// A server started with the roles' narrow permissions and no --allow-ffi, for
// the flags that need FFI (--crypto openssl, --trim-memory on): how it exits.

/** Runs `server/main.ts` (plain ws, a temporary data directory) with `args`, without FFI. */
export async function serverWithoutFfi(args: string[]): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        "--allow-env=SOCP_*",
        new URL("../server/main.ts", import.meta.url).pathname,
        "--insecure-plain",
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
