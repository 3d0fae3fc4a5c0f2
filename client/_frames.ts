// Parsing what a server sends: dialect forms accepted, anything invalid dropped.

import { parseFrame } from "../protocol/frame.ts";
import type { Frame } from "../protocol/types.ts";

/** The frame in a WebSocket message, or null if it is not a valid frame. */
export function frameOrNull(data: unknown): Frame | null {
  if (typeof data !== "string") return null;
  const parsed = parseFrame(data, { dialects: true });
  return parsed.ok ? parsed.frame : null;
}
