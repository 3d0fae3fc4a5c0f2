/**
 * `GET /metrics` in the Prometheus text exposition format: links, users,
 * frames in and out by type, errors by code, signature work, file transfers.
 *
 * @module
 */

import { rsaStats } from "../protocol/rsa.ts";
import type { NodeContext } from "./context.ts";

function escape(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** One metric family's text. */
function family(
  name: string,
  type: "counter" | "gauge",
  help: string,
  samples: [Record<string, string>, number][],
): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const rendered = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`).join(",");
    lines.push(`${name}${rendered ? `{${rendered}}` : ""} ${value}`);
  }
  return lines.join("\n");
}

/** A counter family from one of the node's metric families, labelled by `label`. */
function counters(
  ctx: NodeContext,
  source: string,
  name: string,
  help: string,
  label: string,
): string {
  const values = ctx.metrics.snapshot()[source] ?? {};
  return family(
    name,
    "counter",
    help,
    Object.entries(values).sort().map(([k, v]) => [{ [label]: k }, v]),
  );
}

/**
 * The metrics text of a node.
 *
 * @example
 * ```ts
 * import { metricsText } from "./prometheus.ts";
 * // new Response(metricsText(ctx, uptimeMs), { headers: { "content-type": "text/plain; version=0.0.4" } })
 * ```
 */
export function metricsText(ctx: NodeContext, uptimeMs: number): string {
  const { state } = ctx;
  const remoteUsers = state.userLocations.size - state.localUsers.size;
  return [
    family("socp_up", "gauge", "1 while the node runs.", [[{
      role: ctx.config.role,
      id: state.self.id,
    }, 1]]),
    family("socp_uptime_seconds", "gauge", "Seconds since the node started.", [[
      {},
      Math.round(uptimeMs / 1000),
    ]]),
    family("socp_links", "gauge", "Live links by kind.", [
      [{ kind: "server" }, state.links.size],
      [{ kind: "user" }, state.localUsers.size],
      [{ kind: "all" }, state.allLinks.size],
    ]),
    family("socp_users", "gauge", "Online users known to this node.", [[
      { where: "local" },
      state.localUsers.size,
    ], [{ where: "remote" }, remoteUsers]]),
    family("socp_public_channel_version", "gauge", "Current public-channel key version.", [[
      {},
      state.channel.version,
    ]]),
    counters(ctx, "frames_in", "socp_frames_in_total", "Valid frames received, by type.", "type"),
    counters(ctx, "frames_out", "socp_frames_out_total", "Frames sent, by type.", "type"),
    counters(
      ctx,
      "frames_rejected",
      "socp_frames_rejected_total",
      "Frames refused by the parser, by code.",
      "code",
    ),
    counters(
      ctx,
      "frames_duplicate",
      "socp_frames_duplicate_total",
      "Frames dropped by seen_ids, by type.",
      "type",
    ),
    counters(ctx, "errors_sent", "socp_errors_sent_total", "ERROR frames sent, by code.", "code"),
    counters(
      ctx,
      "errors_suppressed",
      "socp_errors_suppressed_total",
      "ERRORs not sent (one per second per link), by code.",
      "code",
    ),
    counters(
      ctx,
      "sig_invalid",
      "socp_signatures_invalid_total",
      "Frames whose signature failed, by type.",
      "type",
    ),
    family(
      "socp_rsa_operations_total",
      "counter",
      "RSA operations done by this process.",
      Object.entries(rsaStats).map(([op, s]) => [{ op }, s.count]),
    ),
    family(
      "socp_rsa_seconds_total",
      "counter",
      "Time spent in RSA operations, by operation.",
      Object.entries(rsaStats).map(([op, s]) => [{ op }, Number((s.ms / 1000).toFixed(6))]),
    ),
    counters(
      ctx,
      "file_transfers",
      "socp_file_transfers_total",
      "File transfers of local senders, by outcome.",
      "event",
    ),
    family("socp_file_transfers_active", "gauge", "File transfers in progress.", [[
      {},
      state.transfers.size,
    ]]),
  ].join("\n\n") + "\n";
}
