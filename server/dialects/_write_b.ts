/**
 * How we write to dialect B servers (docs/DIALECT-FACTS.md §B.2, §B.7): B loads keys
 * only as PEM, reads a user's key from `meta.pubkey`, verifies a frame by the
 * key pinned for its `from`, and has no use for our extensions, ACK,
 * CTRL_CLOSE, LIST_* or channel key frames (an UPDATED carrying real wraps
 * corrupts its key table). Adverts, removes and deliveries go to it re-issued
 * by us, so that our key (pinned from our JOIN) verifies them.
 *
 * @module
 */

import type { Frame } from "../../protocol/types.ts";
import { pem } from "./_pem.ts";
import type { Resign } from "./_write_c.ts";

type Json = Record<string, unknown>;

/** The frame to send a B server for `f`, or null. `self` is our server id. */
export function forBServer(
  f: Frame,
  self: string,
  resign: Resign,
): string | Promise<string | null> | null {
  switch (f.type) {
    case "SERVER_HELLO_JOIN":
    case "SERVER_HELLO_LINK":
    case "SERVER_ANNOUNCE": {
      // B sends and takes these unsigned; it pins the PEM key of the payload.
      const { host, port, pubkey } = f.payload;
      const { sig: _sig, ...unsigned } = f;
      return JSON.stringify({ ...unsigned, payload: { host, port, pubkey: pem(pubkey) } });
    }
    case "USER_ADVERTISE": {
      const p = f.payload;
      const meta: Json = { pubkey: pem(p.pubkey ?? p.meta?.pubkey ?? "") };
      if (p.meta?.display_name !== undefined) meta.display_name = p.meta.display_name;
      const payload = { user_id: p.user_id, server_id: p.server_id, meta };
      return resign("B-peer-advert", { type: f.type, from: self, to: "*", ts: f.ts, payload });
    }
    case "USER_REMOVE": {
      const payload = { user_id: f.payload.user_id, server_id: f.payload.server_id ?? f.from };
      return resign("B-peer-remove", { type: f.type, from: self, to: "*", ts: f.ts, payload });
    }
    case "SERVER_DELIVER": {
      if ("type" in f.payload) return null; // the wrapped form: B cannot take it either
      const { orig_ts: _orig, ...p } = f.payload;
      const payload = { ...p, sender_pub: pem(p.sender_pub) };
      return resign("B-deliver", { ...(f as unknown as Json), from: self, payload });
    }
    case "HEARTBEAT":
    case "ERROR":
      return JSON.stringify(f); // ours, from us
    default:
      // FILE_* (B checks them by `from`, a user it has no key for), MSG_PUBLIC_CHANNEL (B
      // clients read only plaintext), PUBLIC_CHANNEL_*, ACK, CTRL_CLOSE, our extensions.
      return null;
  }
}
