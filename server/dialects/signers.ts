/**
 * How dialect peers' signatures are read (docs/DIALECT-FACTS.md §B.2): dialect B sends
 * its hellos, WELCOME and ANNOUNCE unsigned, and signs what it relays with
 * its own key while keeping the origin's `from`. Both are taken only from a
 * B server whose key we pinned, and only with `--accept-unsigned-servers`.
 * The dispatcher asks here once per frame, after the route named its signers.
 *
 * @module
 */

import { ErrorCode } from "../../protocol/errors.ts";
import { B_UNSIGNED_TYPES } from "../../protocol/frame.ts";
import { parsePublicKey } from "../../protocol/keys.ts";
import type { Frame } from "../../protocol/types.ts";
import { isRejection, type NodeContext, type Signers } from "../context.ts";
import type { Link } from "../link.ts";
import { isPemKeyText } from "./read.ts";

/** The signers of `frame` on `link`, widened where a dialect B peer's ways require it. */
export function dialectSigners(
  ctx: NodeContext,
  link: Link,
  frame: Frame,
  signers: Signers,
): Signers {
  if (!ctx.config.acceptUnsignedServers || signers === "link") return signers;
  const peerKey = bPeerKey(ctx, link, frame);
  if (!peerKey) return signers;
  if (frame.sig === undefined) {
    if (!B_UNSIGNED_TYPES.has(frame.type)) return signers;
    ctx.log.debug("took an unsigned frame from a pinned dialect B server", {
      link: link.describe(),
      type: frame.type,
    });
    return "link";
  }
  // Relayed by B: signed by the B server, `from` still the origin (a server or a user).
  if (isRejection(signers)) {
    return signers.error.code === ErrorCode.INVALID_SIG ? [peerKey] : signers;
  }
  return [...signers, peerKey];
}

/** The pinned key of the dialect B server at the other end of `link`, if it is one. */
function bPeerKey(ctx: NodeContext, link: Link, frame: Frame) {
  const { pins } = ctx.state;
  if (link.kind === "joining") return link.dialect === "B" ? link.introducerKey ?? null : null;
  if (link.kind === "server") return link.dialect === "B" ? pins.get(link.peerId!) ?? null : null;
  if (link.kind !== "pending" || frame.type !== "SERVER_HELLO_LINK") return null;
  // A B server dialling us: its key must be the one we pinned for its id (from a B WELCOME),
  // and, as the key is public, the connection must come from the address we know for it.
  const offered = frame.payload.pubkey;
  const pin = pins.get(frame.from);
  const key = isPemKeyText(offered) ? parsePublicKey(offered) : null;
  const known = ctx.state.serverAddrs.get(frame.from);
  const fromThere = known !== undefined && known.host === link.remote;
  return pin && key?.ok && key.key.equals(pin) && fromThere ? pin : null;
}
