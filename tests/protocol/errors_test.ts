import assert from "node:assert/strict";
import { ErrorCode, protocolError, SocpError, STANDARD_CODES, toStandardCode } from "../../mod.ts";

Deno.test("toStandardCode maps project extras to standard codes for dialect clients", () => {
  assert.equal(toStandardCode(ErrorCode.AUTH_FAILED), "INVALID_SIG");
  assert.equal(toStandardCode(ErrorCode.RATE_LIMITED), "TIMEOUT");
  assert.equal(toStandardCode(ErrorCode.BAD_REQUEST), "UNKNOWN_TYPE");
  assert.equal(toStandardCode(ErrorCode.TOO_LARGE), "UNKNOWN_TYPE");
  for (const code of STANDARD_CODES) assert.equal(toStandardCode(code as ErrorCode), code);
  for (const code of Object.values(ErrorCode)) assert.ok(STANDARD_CODES.has(toStandardCode(code)));
});

Deno.test("protocolError clips detail to 200 characters", () => {
  const err = protocolError("BAD_REQUEST", "x".repeat(500));
  assert.equal(err.code, "BAD_REQUEST");
  assert.equal(err.detail.length, 200);
});

Deno.test("SocpError carries its code", () => {
  const e = new SocpError("TOO_LARGE", "too big");
  assert.ok(e instanceof Error);
  assert.equal(e.code, "TOO_LARGE");
  assert.equal(e.name, "SocpError");
});
