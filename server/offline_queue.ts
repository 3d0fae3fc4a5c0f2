/**
 * The offline queue (docs/PROTOCOL.md decision 64): what waits on a user's
 * home server while the user is away, in SQLite (table `offline_queue`).
 * Items are the frames as the sender made them (ciphertext, signatures,
 * the original ts); nothing is ever decrypted. Quotas per recipient and per
 * sender, in items and bytes, and an expiry bound it.
 *
 * @module
 */

import type { Limits } from "../protocol/limits.ts";
import type { Store } from "./store.ts";

/** One queued item. */
export interface QueuedItem {
  seq: number;
  recipient: string;
  sender: string;
  /** `dm`: a SERVER_DELIVER payload (JSON); `file`: a FILE_* frame as sent. */
  kind: "dm" | "file";
  item: string;
  queued_at: number;
}

/** Why an item cannot be queued, or null when it can. */
export function quotaProblem(
  store: Store,
  limits: Pick<
    Limits,
    | "queueMessagesPerRecipient"
    | "queueBytesPerRecipient"
    | "queueMessagesPerSender"
    | "queueBytesPerSender"
  >,
  recipient: string,
  sender: string,
  bytes: number,
  now: number,
): string | null {
  const sum = (column: string, id: string) =>
    store.prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM offline_queue WHERE ${column} = ? AND expires_at > ?`,
    ).get(id, now) as { n: number; b: number };
  const forRecipient = sum("recipient", recipient);
  if (forRecipient.n + 1 > limits.queueMessagesPerRecipient) {
    return `the recipient's offline queue is full (${limits.queueMessagesPerRecipient} items)`;
  }
  if (forRecipient.b + bytes > limits.queueBytesPerRecipient) {
    return `the recipient's offline queue is full (${limits.queueBytesPerRecipient} bytes)`;
  }
  const fromSender = sum("sender", sender);
  if (fromSender.n + 1 > limits.queueMessagesPerSender) {
    return `you have ${fromSender.n} items waiting for offline users; the limit is ${limits.queueMessagesPerSender}`;
  }
  if (fromSender.b + bytes > limits.queueBytesPerSender) {
    return `your items waiting for offline users would exceed ${limits.queueBytesPerSender} bytes`;
  }
  return null;
}

/** Adds an item (inside the handler's transaction, through a persist effect). */
export function enqueue(
  store: Store,
  entry: { recipient: string; sender: string; kind: "dm" | "file"; item: string },
  now: number,
  expiryMs: number,
): void {
  store.prepare(
    "INSERT INTO offline_queue (recipient, sender, kind, item, bytes, queued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(
    entry.recipient,
    entry.sender,
    entry.kind,
    entry.item,
    new TextEncoder().encode(entry.item).length,
    now,
    now + expiryMs,
  );
}

/** The items waiting for `recipient`, oldest first (expired ones left out). */
export function waitingFor(store: Store, recipient: string, now: number): QueuedItem[] {
  return store.prepare(
    "SELECT seq, recipient, sender, kind, item, queued_at FROM offline_queue WHERE recipient = ? AND expires_at > ? ORDER BY seq",
  ).all(recipient, now) as unknown as QueuedItem[];
}

/** Whether anything waits for `recipient`. */
export function hasWaiting(store: Store, recipient: string, now: number): boolean {
  return store.prepare(
    "SELECT 1 FROM offline_queue WHERE recipient = ? AND expires_at > ? LIMIT 1",
  ).get(recipient, now) !== undefined;
}

/** Removes delivered items. */
export function removeItems(store: Store, seqs: number[]): void {
  const remove = store.prepare("DELETE FROM offline_queue WHERE seq = ?");
  for (const seq of seqs) remove.run(seq);
}

/** Drops expired items; returns how many. */
export function expireQueue(store: Store, now: number): number {
  return Number(store.prepare("DELETE FROM offline_queue WHERE expires_at <= ?").run(now).changes);
}
