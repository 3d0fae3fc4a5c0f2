// The SOCP ERROR a link gets when the WebSocket layer closes it for breaking
// the transport's rules (a message over --max-frame-bytes, invalid UTF-8, a
// protocol violation): SOCP.md §11 answers an oversize frame with TOO_LARGE,
// then a close. The payloads are fixed, so each is signed once at start and
// its signature reused; the transport needs the text synchronously.

import type { Identity } from "../protocol/builders.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { signPayload } from "../protocol/transport_sig.ts";

/** Builds the `lastWords` of the node's sockets: close code → ERROR frame text. */
export async function transportErrors(
  self: () => Identity,
  maxFrameBytes: number,
): Promise<(code: number) => string | undefined> {
  const payloads = new Map<number, { code: ErrorCode; detail: string }>([
    [1009, { code: ErrorCode.TOO_LARGE, detail: `frame exceeds ${maxFrameBytes} bytes` }],
    [1007, { code: ErrorCode.BAD_REQUEST, detail: "text frame is not valid UTF-8" }],
    [1002, { code: ErrorCode.BAD_REQUEST, detail: "WebSocket protocol violation" }],
  ]);
  const signed = new Map<number, { payload: object; sig: string }>();
  for (const [close, payload] of payloads) {
    signed.set(close, { payload, sig: await signPayload(self().keys.privateKey, payload) });
  }
  return (code) => {
    const entry = signed.get(code);
    if (!entry) return undefined;
    // The id may have changed since (an introducer assigned one); the key never does.
    const frame = { type: "ERROR", from: self().id, to: "*", ts: Date.now(), ...entry };
    return JSON.stringify(frame);
  };
}
