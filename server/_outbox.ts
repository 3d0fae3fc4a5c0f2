/**
 * What leaves a node on a link: frames as they are for peers of the
 * profile, rendered by the dialect writer for the others, and ERRORs with
 * the code each peer understands, at most `errorsPerSec` per link.
 *
 * @module
 */

import { buildError } from "../protocol/builders.ts";
import { ErrorCode, toStandardCode } from "../protocol/errors.ts";
import type { Frame } from "../protocol/types.ts";
import type { NodeContext } from "./context.ts";
import { typeInText } from "./dispatch.ts";
import type { Effect } from "./effects.ts";
import { DialectWriter } from "./dialects/write.ts";
import type { Link } from "./link.ts";

/** Sends frames and ERRORs for one node. */
export class Outbox {
  readonly #ctx: NodeContext;
  readonly #writer: DialectWriter;

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#writer = new DialectWriter({
      self: () => ctx.state.self,
      channel: () => ctx.state.channel,
      wsUri: () => {
        const { host, port } = ctx.state.address;
        return `${ctx.config.insecurePlain ? "ws" : "wss"}://${host}:${port}/`;
      },
    });
  }

  /** Sends `frame` (or its wire text) on `link`, in the form the peer's dialect reads. */
  send(link: Link, frame: Frame | string): void {
    const type = typeof frame === "string"
      ? typeInText.exec(frame.slice(0, 256))?.[1] ?? "?"
      : frame.type;
    if (link.dialect !== "socp") {
      // Rendered for the peer's dialect (maybe re-signed): kept in order behind the rest.
      if (link.closed) return;
      const kind = link.kind === "user" || link.kind === "server" ? link.kind : "other";
      // A dialect A server never reads its join socket again: only the WELCOME goes there.
      if (link.unread && !(typeof frame !== "string" && frame.type === "SERVER_WELCOME")) return;
      link.sendInOrder(this.#writer.render(link.dialect, { kind, id: link.peerId }, frame));
      this.#ctx.metrics.inc("frames_out", type);
      return;
    }
    const text = typeof frame === "string" ? frame : JSON.stringify(frame);
    if (link.send(text)) this.#ctx.metrics.inc("frames_out", type);
  }

  /** Answers with an ERROR (rate-limited per link; logged for server links). */
  async sendError(effect: Effect & { kind: "error" }): Promise<void> {
    const ctx = this.#ctx;
    const { link, code, detail } = effect;
    if (link.kind === "server" || link.kind === "joining") {
      ctx.log.info("refused a server frame", { link: link.describe(), code, detail });
    } else if (link.kind === "pending") {
      // A server's first frame too (a dialect's unsigned JOIN, say): the operator sees why.
      ctx.log.info("refused a first frame", { remote: link.remote, code, detail });
    }
    const now = ctx.now();
    if (now - link.lastErrorAt < 1000 / ctx.config.limits.errorsPerSec) {
      ctx.metrics.inc("errors_suppressed", code);
      return;
    }
    link.lastErrorAt = now;
    ctx.metrics.inc("errors_sent", code);
    // Some dialect clients stop reading on codes they do not know (SOCP.md §6.5).
    const foreignClient = link.client !== undefined && !link.client.startsWith("socp-ts/");
    const sent = link.dialect === "socp" && foreignClient
      ? toStandardCode(code)
      : this.#writer.errorCode(link.dialect, code);
    if (sent === null) return;
    const to = effect.to ?? link.peerId ?? "*";
    this.send(link, await buildError(ctx.state.self, to, sent as ErrorCode, detail, effect.msgRef));
  }
}
