/**
 * How a bundled executable narrows its own permissions: it starts with only
 * the right to run `deno` and read `SOCP_*` variables, works out what its
 * flags need, and runs itself again with exactly that, forwarding stdio,
 * signals and the exit code.
 *
 * @module
 */

/** Set in the relaunched child, so it runs the role instead of launching again. */
export const LAUNCHED_ENV = "SOCP_LAUNCHED";

/**
 * Whether this process is the narrowed child.
 *
 * @example
 * ```ts
 * import { isLaunched } from "./launch.ts";
 * // if (isLaunched()) run the role; else relaunch with narrow permissions
 * ```
 */
export function isLaunched(): boolean {
  return Deno.env.get(LAUNCHED_ENV) === "1";
}

/**
 * Runs `script` again under `deno run` with `permissions` and `args`;
 * resolves with the child's exit code.
 *
 * @example
 * ```ts
 * import { relaunch } from "./launch.ts";
 * // Deno.exit(await relaunch(new URL(import.meta.url).pathname, ["--allow-net"], Deno.args));
 * ```
 */
export async function relaunch(
  script: string,
  permissions: string[],
  args: string[],
  options: { prompt?: boolean } = {},
): Promise<number> {
  // Deno asks in a terminal for what was not granted (the client's files); elsewhere it refuses.
  const prompt = options.prompt ? [] : ["--no-prompt"];
  const child = new Deno.Command("deno", {
    args: ["run", ...prompt, ...permissions, script, ...args],
    env: { [LAUNCHED_ENV]: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const forward = signals.map((signal) => {
    const handler = () => child.kill(signal);
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  const { code, signal } = await child.status;
  forward.forEach((remove) => remove());
  return signal ? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 2) : code;
}
