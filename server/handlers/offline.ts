/**
 * Offline delivery (docs/PROTOCOL.md decision 64): a DM or DM file for a
 * user who is registered in the mesh but online nowhere goes to the queue
 * of the user's home server, across the mesh if need be; the sender hears
 * MSG_QUEUED once it is committed there. When the user comes back, on any
 * server, the home server hands the items on, in order, and removes them.
 *
 * @module
 */

import { buildUserDeliver } from "../../protocol/builders.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ServerDeliverDmPayload } from "../../protocol/types.ts";
import { type NodeContext, pinnedSigner, type Route, signed } from "../context.ts";
import { type Effect, error, persist, refusalOf, send } from "../effects.ts";
import type { Link } from "../link.ts";
import { enqueue, quotaProblem, removeItems, waitingFor } from "../offline_queue.ts";

/** What is queued: a DM (as a SERVER_DELIVER payload) or a FILE_* frame as sent. */
export interface QueueItem {
  recipient: string;
  sender: string;
  kind: "dm" | "file";
  item: string;
  /** msgRef of the frame's payload, which MSG_QUEUED names. */
  ref: string;
  /** Whether the sender hears MSG_QUEUED for this item (a file: only for its FILE_END). */
  notify: boolean;
  /** Whether it counts as an item in the quotas (a file: only its FILE_START). */
  counts: boolean;
  /** Bytes it takes against the byte quotas when it counts (a file: all its frames, as declared). */
  quotaBytes?: number;
}

/** Where the sender of an item is: on `link` (ours), or behind the server link `link`. */
type Reply = { link: Link; viaServer: boolean };

const queuedFiles = new WeakMap<NodeContext["state"], Set<string>>();
/** Files in the middle of being queued here, at most (the oldest are forgotten beyond). */
const MAX_QUEUED_FILES = 10_000;
/** Files whose FILE_START was queued here: their chunks and end follow it into the queue. */
function filesOf(ctx: NodeContext): Set<string> {
  let set = queuedFiles.get(ctx.state);
  if (!set) queuedFiles.set(ctx.state, set = new Set());
  // A FILE_START whose end never came must not hold memory for ever.
  for (const key of set) {
    if (set.size <= MAX_QUEUED_FILES) break;
    set.delete(key);
  }
  return set;
}

/**
 * Effects for an item whose recipient is online nowhere: queued here (we
 * are the home), or sent on to the home server (`forward`, for a local
 * sender). Null when it is not ours to queue (nobody knows the user, or a
 * peer sent it to us though we are not the home): the caller answers as
 * for any unknown recipient.
 */
export async function toAbsentUser(
  ctx: NodeContext,
  entry: QueueItem,
  reply: Reply,
  forward: (home: Link) => Promise<Effect[]>,
): Promise<Effect[] | null> {
  const binding = ctx.store.getBinding(entry.recipient);
  if (!binding) return null;
  if (binding.home === ctx.state.self.id) return await queueHere(ctx, entry, reply);
  if (reply.viaServer) return null;
  const home = ctx.state.links.get(binding.home);
  if (!home) {
    const detail = "recipient is offline and its home server is not reachable now";
    return entry.counts ? [error(reply.link, ErrorCode.USER_NOT_FOUND, detail)] : [];
  }
  return await forward(home);
}

async function queueHere(ctx: NodeContext, entry: QueueItem, reply: Reply): Promise<Effect[]> {
  const now = ctx.now();
  const fileKey = entry.kind === "file" ? fileKeyOf(entry) : "";
  if (entry.kind === "file" && !entry.counts && !filesOf(ctx).has(fileKey)) return [];
  const problem = entry.counts
    ? quotaProblem(
      ctx.store,
      ctx.config.limits,
      entry.recipient,
      entry.sender,
      entry.quotaBytes ?? entry.item.length,
      now,
    )
    : null;
  if (problem) return await answer(ctx, entry, reply, { refused: problem });
  if (entry.kind === "file") {
    if (entry.counts) filesOf(ctx).add(fileKey);
    else if (entry.notify) filesOf(ctx).delete(fileKey);
  }
  const write = persist((store) => enqueue(store, entry, now, ctx.config.limits.queueExpiryMs));
  return entry.notify ? [write, ...await answer(ctx, entry, reply, { queued_at: now })] : [write];
}

function fileKeyOf(entry: QueueItem): string {
  const frame = JSON.parse(entry.item) as { payload: { file_id: string } };
  return `${entry.sender}:${frame.payload.file_id}`;
}

/** MSG_QUEUED to the sender (or its server), or an ERROR for a local sender's refused item. */
async function answer(
  ctx: NodeContext,
  entry: QueueItem,
  reply: Reply,
  outcome: { queued_at: number } | { refused: string },
): Promise<Effect[]> {
  if ("refused" in outcome && !reply.viaServer) {
    return [refusalOf(reply.link, ErrorCode.RATE_LIMITED, outcome.refused, entry.ref)];
  }
  // MSG_QUEUED is ours: a dialect server (which cannot forward it) is not sent one.
  const peer = reply.link.peerId;
  if (reply.viaServer && peer && (ctx.state.peerDialects.get(peer) ?? "socp") !== "socp") return [];
  const frame = await signed(ctx, "MSG_QUEUED", entry.sender, {
    user_id: entry.recipient,
    msg_ref: entry.ref,
    ...outcome,
  });
  return [send(reply.link, frame)];
}

/**
 * MSG_QUEUED from a home server: told to our local sender, signed by us (or
 * an ERROR). Only the recipient's home may say so: another pinned peer
 * cannot make our users believe a message waits somewhere.
 */
const queuedRoute: Route<"MSG_QUEUED"> = {
  signers: (ctx, frame) => pinnedSigner(ctx, frame.from),
  async handle(ctx, frame) {
    const link = ctx.state.localUsers.get(frame.to);
    if (!link || ctx.store.getBinding(frame.payload.user_id)?.home !== frame.from) return [];
    const { refused, ...notice } = frame.payload;
    if (refused !== undefined) {
      return [refusalOf(link, ErrorCode.RATE_LIMITED, refused, notice.msg_ref)];
    }
    return [send(link, await signed(ctx, "MSG_QUEUED", frame.to, notice))];
  },
};

/** Server-link routes of offline delivery. */
export const OFFLINE_SERVER_ROUTES = { MSG_QUEUED: queuedRoute } as const;

/**
 * Hands what waits for `userId` (whose home we are) to `link`: its own user
 * link (USER_DELIVER, files as sent) or the server now hosting it
 * (SERVER_DELIVER, files as sent), in order, then removes the items.
 */
export async function handOver(
  ctx: NodeContext,
  userId: string,
  link: Link,
  toServer?: string,
): Promise<Effect[]> {
  const items = waitingFor(ctx.store, userId, ctx.now());
  if (!items.length) return [];
  const effects: Effect[] = [];
  for (const it of items) {
    if (it.kind === "file") {
      effects.push(send(link, it.item));
      continue;
    }
    // Stamped now (servers keep a clock window), with the sender's ts as orig_ts.
    const payload = { ...(JSON.parse(it.item) as ServerDeliverDmPayload), queued_at: it.queued_at };
    const deliver = await signed(ctx, "SERVER_DELIVER", toServer ?? userId, payload);
    effects.push(
      send(link, toServer ? deliver : await buildUserDeliver(ctx.state.self, deliver)),
    );
  }
  ctx.log.info("offline items handed on", {
    user: userId,
    items: items.length,
    to: toServer ?? "here",
  });
  return [persist((store) => removeItems(store, items.map((i) => i.seq))), ...effects];
}
