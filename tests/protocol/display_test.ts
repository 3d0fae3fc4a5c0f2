import assert from "node:assert/strict";
import { displayName } from "../../mod.ts";

Deno.test("displayName strips controls, clips to 64 characters, and falls back to the user id", () => {
  assert.equal(displayName("u1", { display_name: "Zoë 🚀" }), "Zoë 🚀");
  assert.equal(displayName("u1", { display_name: "a\u0000b\u001bc\u009f" }), "abc");
  assert.equal(displayName("u1", { display_name: "🚀".repeat(70) }), "🚀".repeat(64));
  assert.equal(displayName("u1", { display_name: "  \u0007 " }), "u1");
  assert.equal(displayName("u1", undefined), "u1");
  assert.equal(displayName("u1", { display_name: 5 as unknown as string }), "u1");
});
