// Waiting for the server's answer to a request (LIST_REQUEST, USER_LOOKUP)
// beside the ordered receive queue, so a handler in that queue may await it.

import type { Frame } from "../protocol/types.ts";
import { frameOrNull } from "./_frames.ts";

/**
 * Listens on `socket` until `match` returns a value for a received frame
 * (resolving with it) or `timeoutMs` passes (resolving with undefined).
 * Start it before sending the request, so no answer is missed.
 */
export function awaitReply<T>(
  socket: WebSocket,
  match: (frame: Frame) => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (value: T | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeEventListener("message", onMessage);
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const onMessage = async (event: MessageEvent) => {
      const frame = frameOrNull(event.data);
      const value = frame && await match(frame);
      if (value !== undefined && value !== null) finish(value);
    };
    socket.addEventListener("message", onMessage);
  });
}
