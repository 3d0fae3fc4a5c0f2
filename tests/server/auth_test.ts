import assert from "node:assert/strict";
import { decideHello, hashPassword, type HelloFacts, verifyPassword } from "../../server/auth.ts";

const base: HelloFacts = {
  signed: true,
  sigValid: true,
  signedFresh: true,
  passwordGiven: false,
  passwordMatches: false,
  registration: "none",
  home: "here",
  allowUnsignedHello: false,
};
const outcome = (facts: Partial<HelloFacts>) => {
  const d = decideHello({ ...base, ...facts });
  if (!d.accept) return d.code;
  return d.register ? "register" : d.replaceKey ? "replace-key" : d.roaming ? "roaming" : "accept";
};

Deno.test("decideHello follows the table of SOCP.md §10.2", () => {
  // Unregistered: trust on first use of a fresh signed hello, or a password (dialect A).
  assert.equal(outcome({}), "register");
  assert.equal(
    outcome({ signed: false, sigValid: false, signedFresh: false, passwordGiven: true }),
    "register",
  );
  assert.equal(outcome({ signedFresh: false }), "AUTH_FAILED"); // stale or replayed
  assert.equal(outcome({ signed: false, sigValid: false, signedFresh: false }), "INVALID_SIG");
  assert.equal(
    outcome({ signed: false, sigValid: false, signedFresh: false, allowUnsignedHello: true }),
    "register",
  );
  // Registered with the same key: proof of possession or the stored password.
  assert.equal(outcome({ registration: "same-key" }), "accept");
  assert.equal(outcome({ registration: "same-key", signedFresh: false }), "AUTH_FAILED");
  // With allow_unsigned_hello (dialect B), an unsigned hello with the registered key, at home.
  const unsignedB = {
    signed: false,
    sigValid: false,
    signedFresh: false,
    allowUnsignedHello: true,
  };
  assert.equal(outcome({ ...unsignedB, registration: "same-key" }), "accept");
  assert.equal(outcome({ ...unsignedB, registration: "other-key" }), "BAD_KEY");
  assert.equal(
    outcome({
      registration: "same-key",
      signed: false,
      sigValid: false,
      signedFresh: false,
      passwordGiven: true,
      passwordMatches: true,
    }),
    "accept",
  );
  assert.equal(
    outcome({
      registration: "same-key",
      signed: false,
      sigValid: false,
      signedFresh: false,
      passwordGiven: true,
    }),
    "AUTH_FAILED",
  );
  // Registered with another key: only the password replaces it; a fresh signature is not enough.
  assert.equal(outcome({ registration: "other-key" }), "BAD_KEY");
  assert.equal(outcome({ registration: "other-key", passwordGiven: true }), "AUTH_FAILED");
  assert.equal(
    outcome({ registration: "other-key", passwordGiven: true, passwordMatches: true }),
    "replace-key",
  );
  // Away from the id's home: the bound key with a fresh signature only; never a key change.
  const away = { registration: "same-key", home: "elsewhere" } as const;
  assert.equal(outcome(away), "roaming");
  assert.equal(outcome({ ...away, signedFresh: false }), "AUTH_FAILED");
  assert.equal(
    outcome({ ...away, signed: false, sigValid: false, signedFresh: false, passwordGiven: true }),
    "AUTH_FAILED",
  );
  assert.equal(
    outcome({ registration: "other-key", home: "elsewhere", passwordMatches: true }),
    "BAD_KEY",
  );
  // A present signature that does not verify always fails, password or not.
  assert.equal(
    outcome({
      sigValid: false,
      signedFresh: false,
      passwordGiven: true,
      passwordMatches: true,
      registration: "other-key",
    }),
    "INVALID_SIG",
  );
});

Deno.test("password hashes are salted scrypt strings that verify only the right password", async () => {
  const stored = await hashPassword("correct horse");
  assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.ok(!stored.includes("correct horse"));
  assert.notEqual(await hashPassword("correct horse"), stored, "a fresh salt every time");
  assert.ok(await verifyPassword("correct horse", stored));
  assert.ok(!(await verifyPassword("correct horse!", stored)));
  for (const bad of ["", "scrypt$1$8$1$AA$AA", "bcrypt$x", stored.slice(0, -5)]) {
    assert.ok(!(await verifyPassword("correct horse", bad)));
  }
});
