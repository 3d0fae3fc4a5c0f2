/** Whether FFI was granted to this process (asked without prompting): what the `auto` choices go by. */
export function ffiGranted(): boolean {
  return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
}
