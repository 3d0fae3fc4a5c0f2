// A link's incoming frames, in order, through the pipeline, with a budget:
// while more than the budget of bytes (or frames) waits to be handled, the
// socket stops reading, so TCP pushes back on the peer instead of the node
// holding whatever it sends (docs/PROTOCOL.md decision 48). Frames that
// arrived before the peer closed are handled before its loss is.

import type { Effect } from "./effects.ts";
import type { LinkSocket } from "./ws/socket.ts";
import { Pipeline } from "./_pipeline.ts";

/** A socket whose reading can be paused (server/ws/socket.ts); other sockets just are not. */
export interface PausableSocket extends LinkSocket {
  pause?(): void;
  resume?(): void;
}

/** What {@linkcode readFrames} does with each frame. */
export interface Intake {
  /** Handles one frame; `earlier` settles once the frames before it have applied. */
  handle(data: unknown, earlier?: Promise<void>): Promise<Effect[]>;
  /** Applies a frame's effects, in arrival order. */
  apply(effects: Effect[]): Promise<void>;
  /** Whether a frame may start before the frames ahead of it are done. */
  concurrent(text: string): boolean;
  /** Bytes of unhandled frames at which reading pauses (it resumes below half). */
  maxQueuedBytes: number;
  /** Unhandled frames at which reading pauses. */
  maxQueuedFrames: number;
  /** The peer closed; runs after the frames that arrived before the close. */
  closed(): void;
}

/** Frames handled at once per link (read-only routes; server/_pipeline.ts). */
const PIPELINE_DEPTH = 8;

/**
 * Reads `socket`'s messages into an ordered pipeline.
 *
 * @example
 * ```ts
 * import { readFrames } from "./_intake.ts";
 * // readFrames(socket, { handle, apply, concurrent, maxQueuedBytes, maxQueuedFrames });
 * ```
 */
export function readFrames(socket: PausableSocket, intake: Intake): void {
  const pipeline = new Pipeline<Effect[]>(PIPELINE_DEPTH);
  let frames = 0;
  let bytes = 0;
  let paused = false;
  const over = () => frames >= intake.maxQueuedFrames || bytes >= intake.maxQueuedBytes;
  socket.onmessage = (event) => {
    const data: unknown = event.data;
    const size = typeof data === "string" ? data.length : (data as Uint8Array).byteLength;
    frames++;
    bytes += size;
    if (!paused && over() && socket.pause) {
      paused = true;
      socket.pause();
    }
    const concurrent = typeof data === "string" && intake.concurrent(data);
    pipeline.push(
      concurrent,
      (earlier) => intake.handle(data, concurrent ? earlier : undefined),
      async (effects) => {
        try {
          await intake.apply(effects);
        } finally {
          frames--;
          bytes -= size;
          const calm = frames < intake.maxQueuedFrames / 2 && bytes < intake.maxQueuedBytes / 2;
          if (paused && calm) {
            paused = false;
            socket.resume?.();
          }
        }
      },
    );
  };
  socket.onclose = () => {
    pipeline.push(false, () => Promise.resolve([]), () => Promise.resolve(intake.closed()));
  };
}
