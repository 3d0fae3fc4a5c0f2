/**
 * How we write to dialect C servers (docs/DIALECT-FACTS.md §C): C verifies every frame
 * by the key of the link's peer, so everything goes out signed by us; keys
 * stay DER; the WELCOME and ANNOUNCE take C's fields; SERVER_DELIVER carries
 * `orig_ts`; and types C does not handle are not sent (each would draw an
 * ERROR, which C answers with another).
 *
 * @module
 */

import type { Frame } from "../../protocol/types.ts";

type Json = Record<string, unknown>;

/** Signs a transformed frame as ours (once per form and payload). */
export type Resign = (form: string, frame: Json & { payload: Json }) => Promise<string | null>;

/** The frame to send a C server for `f`, or null. `wsUri` is where C can reach us. */
export function forCServer(
  f: Frame,
  self: { id: string; pubkey: string; wsUri: string },
  resign: Resign,
): Promise<string | null> | null {
  const frame = f as unknown as Json & { payload: Json };
  switch (f.type) {
    case "SERVER_WELCOME": {
      // C reads server_id, server_pub and the snapshot of user locations (seconds).
      const seconds = Math.floor(f.ts / 1000);
      const locations: Record<string, Json> = {};
      for (const c of f.payload.clients ?? []) {
        locations[c.user_id] = { server_id: c.server_id, ts: seconds };
      }
      return resign("C-welcome", {
        ...frame,
        payload: {
          server_id: self.id,
          server_pub: self.pubkey,
          snapshot: { user_locations: locations },
          assigned_id: f.payload.assigned_id,
        },
      });
    }
    case "SERVER_HELLO_JOIN":
    case "SERVER_ANNOUNCE": {
      // C opens every link with a JOIN, and takes a server's identity from `server_id`.
      const p = f.payload;
      const wsUri = f.from === self.id ? self.wsUri : `ws://${p.host}:${p.port}/`;
      const payload = { server_id: f.from, host: p.host, port: p.port, pubkey: p.pubkey };
      return resign(`C-${f.type}`, { ...frame, payload: { ...payload, ws_uri: wsUri } });
    }
    case "SERVER_DELIVER":
      if ("type" in f.payload) return null; // a wrapped file: C files are another format
      return resign("C-deliver", { ...frame, payload: { ...f.payload, orig_ts: f.ts } });
    case "HEARTBEAT":
    case "USER_ADVERTISE":
    case "USER_REMOVE":
    case "CTRL_CLOSE":
      return resign(`C-${f.type}`, frame); // relays too: C checks the link's key, not the origin's
    default:
      // ACK, ERROR, PUBLIC_CHANNEL_*, HELLO_LINK, our extensions; MSG_PUBLIC_CHANNEL and FILE_*
      // too: C clients read neither our public channel nor our files, and crash on the latter.
      return null;
  }
}
