/**
 * How client events look: one JSON object per line (`--json`, for bots and
 * tests), or readable lines with time and verification status.
 *
 * @module
 */

import { type Palette, PLAIN } from "./colour.ts";
import type { ClientEvent } from "./events.ts";

/**
 * The `--json` line of an event, with the documented field names.
 *
 * @example
 * ```ts
 * import { toJsonLine } from "./render.ts";
 * toJsonLine({ type: "presence", userId: "u", displayName: "Bob", online: true, serverId: "s" });
 * // '{"event":"presence","user_id":"u","display_name":"Bob","online":true,"server_id":"s"}'
 * ```
 */
export function toJsonLine(e: ClientEvent): string {
  switch (e.type) {
    case "ready":
      return JSON.stringify({
        event: "ready",
        user_id: e.userId,
        server: e.server,
        server_id: e.serverId,
      });
    case "users":
      return JSON.stringify({ event: "users", users: e.users });
    case "whois":
      return JSON.stringify({
        event: "whois",
        user_id: e.userId,
        display_name: e.displayName,
        server_id: e.serverId,
        online: e.online,
        fingerprint: e.fingerprint,
        ...(e.offered ? { offered: e.offered } : {}),
      });
    case "dm":
    case "public":
      return JSON.stringify({
        event: e.type,
        from: e.from,
        from_name: e.fromName,
        text: e.text,
        ts: e.ts,
        verified: e.verified,
        ...(e.warning ? { warning: e.warning } : {}),
        ...(e.type === "dm" && e.queuedAt !== undefined ? { queued_at: e.queuedAt } : {}),
      });
    case "queued":
      return JSON.stringify({
        event: "queued",
        to: e.to,
        to_name: e.toName,
        msg_ref: e.msgRef,
        queued_at: e.queuedAt,
      });
    case "file":
      return JSON.stringify({
        event: "file",
        file_id: e.fileId,
        from: e.from,
        from_name: e.fromName,
        name: e.name,
        path: e.path,
        size: e.size,
        sha256: e.sha256,
        verified: e.verified,
        mode: e.mode,
      });
    case "progress":
      return JSON.stringify({ event: "progress", file_id: e.fileId, sent: e.sent, total: e.total });
    case "receiving":
      return JSON.stringify({
        event: "receiving",
        file_id: e.fileId,
        from: e.from,
        name: e.name,
        received: e.received,
        total: e.total,
      });
    case "presence":
      return JSON.stringify({
        event: "presence",
        user_id: e.userId,
        display_name: e.displayName,
        online: e.online,
        server_id: e.serverId,
      });
    case "key-change":
      return JSON.stringify({
        event: "key_change",
        user_id: e.userId,
        display_name: e.displayName,
        fingerprint: e.fingerprint,
        offered: e.offered,
      });
    case "error":
      return JSON.stringify({ event: "error", code: e.code, detail: e.detail });
    case "disconnected":
      return JSON.stringify({
        event: "disconnected",
        reason: e.reason,
        retry_in_ms: e.retryInMs ?? null,
      });
  }
}

const short = (id: string) => id.slice(0, 8);

/**
 * `HH:MM:SS` of a timestamp (now by default); small values are read as seconds.
 *
 * @example
 * ```ts
 * import { clock } from "./render.ts";
 * clock(0).length; // 8
 * ```
 */
export function clock(ts: number = Date.now()): string {
  return new Date(ts < 1e11 ? ts * 1000 : ts).toTimeString().slice(0, 8);
}

/** A message body with its trust mark: `text ✓`, `text ⚠ unverified`, or why it is not shown. */
function body(text: string | null, verified: boolean, paint: Palette, warning?: string): string {
  if (text === null) return paint.warn(`✗ not shown: ${warning ?? "failed verification"}`);
  return `${text} ${verified ? "✓" : paint.warn(`⚠ unverified${warning ? ` (${warning})` : ""}`)}`;
}

/** The action of a `/me` message ("/me waves" → "waves"), or null for plain text. */
export function actionOf(text: string | null): string | null {
  return text?.startsWith("/me ") ? text.slice(4) : null;
}

/** A message line: `name: text ✓`, or `* name waves ✓` for an action. */
function said(
  e: { from: string; fromName: string; text: string | null; verified: boolean; warning?: string },
  paint: Palette,
  separator: string,
): string {
  const name = paint.name(e.from, e.fromName);
  const action = actionOf(e.text);
  return action === null
    ? `${name}${separator}${body(e.text, e.verified, paint, e.warning)}`
    : `* ${name} ${body(action, e.verified, paint, e.warning)}`;
}

/** Binary size for people: 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The human line(s) of an event, or null for events shown otherwise
 * (progress is drawn as a bar).
 *
 * @example
 * ```ts
 * import { toText } from "./render.ts";
 * toText({ type: "error", code: "USER_NOT_FOUND", detail: "recipient is not online" })!.endsWith("USER_NOT_FOUND: recipient is not online"); // true
 * ```
 */
export function toText(e: ClientEvent, paint: Palette = PLAIN): string | null {
  switch (e.type) {
    case "ready":
      return `[${clock()}] connected to ${e.server} as ${short(e.userId)} (server ${
        short(e.serverId)
      }). Type /help.`;
    case "users": {
      const named = new Map<string, number>();
      for (const u of e.users) named.set(u.display_name, (named.get(u.display_name) ?? 0) + 1);
      const offline = e.users.filter((u) => u.online === false).length;
      return [
        `${e.users.length - offline} online${offline ? `, ${offline} known offline` : ""}:`,
        ...e.users.map((u) =>
          u.online === false
            ? `  ${u.user_id}  offline, home ${
              short(u.server_id)
            }: /tell this id to leave a message`
            : `  ${u.display_name.padEnd(20)} ${short(u.user_id)}  server ${short(u.server_id)}${
              u.fingerprint ? `  key ${u.fingerprint.slice(0, 16)}` : ""
            }${(named.get(u.display_name) ?? 0) > 1 ? "  (name shared: use the id)" : ""}`
        ),
      ].join("\n");
    }
    case "whois":
      return [
        `${e.displayName}: id ${e.userId}, server ${e.serverId}, ${
          e.online ? "online" : "offline"
        }`,
        `  key ${e.fingerprint}`,
        e.offered
          ? paint.warn(
            `  WARNING: another key (${e.offered}) was offered for this id; the first is kept`,
          )
          : "  key unchanged since first seen",
      ].join("\n");
    case "dm":
      return `[${clock(e.ts)}] ${said(e, paint, " → you: ")}${
        e.queuedAt !== undefined ? " (delivered later: you were away)" : ""
      }`;
    case "queued":
      return `[${clock()}] queued for ${e.toName} (offline): delivered when they are back`;
    case "public":
      return `[${clock(e.ts)}] #public ${said(e, paint, ": ")}`;
    case "file":
      return `[${clock()}] ${paint.name(e.from, e.fromName)} sent ${
        e.mode === "public" ? "#public" : "you"
      } ${e.name} (${formatBytes(e.size)}) → ${e.path} ${
        e.verified ? "✓" : paint.warn("⚠ unverified sender")
      } sha256 ${e.sha256.slice(0, 16)}…`;
    case "presence":
      return `[${clock()}] * ${paint.name(e.userId, e.displayName)} (${short(e.userId)}) ${
        e.online ? "is online" : "went offline"
      }`;
    case "key-change":
      return paint.warn(
        `[${clock()}] ! ${e.displayName} (${short(e.userId)}) offered a different key (${
          e.offered.slice(0, 16)
        }…); keeping ${e.fingerprint.slice(0, 16)}…`,
      );
    case "error":
      return paint.error(`[${clock()}] ! ${e.code}: ${e.detail}`);
    case "disconnected":
      return paint.error(
        `[${clock()}] ! disconnected (${e.reason})${
          e.retryInMs !== undefined ? `; reconnecting in ${(e.retryInMs / 1000).toFixed(1)} s` : ""
        }`,
      );
    case "progress":
    case "receiving":
      return null;
  }
}

/**
 * A one-line progress bar: `[#####.....] 50%  100.0 KiB/200.0 KiB  1.2 MiB/s`.
 *
 * @example
 * ```ts
 * import { progressBar } from "./render.ts";
 * progressBar(50, 100, 1000, 10).startsWith("[#####.....]  50%"); // true
 * ```
 */
export function progressBar(sent: number, total: number, elapsedMs: number, width = 24): string {
  const fraction = total === 0 ? 1 : Math.min(1, sent / total);
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${
    String(Math.round(fraction * 100)).padStart(3)
  }%  ${formatBytes(sent)}/${formatBytes(total)}  ${formatBytes(Math.round(rate))}/s`;
}
