// Every shared vector (tests/vectors_test.ts) and every dialect frame
// (tests/dialects/replay_test.ts) again, with the OpenSSL backend installed
// for this test file's process (each test file runs in a worker of its own).

import { useRsaBackend } from "../../protocol/rsa_backend.ts";
import { loadOpenSsl } from "../../crypto/openssl.ts";

useRsaBackend(loadOpenSsl());
await import("../vectors_test.ts");
await import("../dialects/replay_test.ts");

Deno.test("the vectors above ran on the OpenSSL backend", async () => {
  const { rsaBackend } = await import("../../protocol/rsa_backend.ts");
  if (rsaBackend().name !== "openssl") throw new Error(`ran on ${rsaBackend().name}`);
});
