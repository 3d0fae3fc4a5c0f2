// Asking the server who is online: /list in the form the server's dialect
// answers (LIST_REQUEST for ours and the profile, COMMAND "/list" with a
// JSON-text answer for dialect A, or the presence this client already knows:
// dialect B has no /list), and USER_LOOKUP for one user's advert.

import { buildSigned, type Identity } from "../protocol/builders.ts";
import { msgRef } from "../protocol/dedup.ts";
import { ErrorCode, SocpError } from "../protocol/errors.ts";
import { parsePublicKey, type PublicKey } from "../protocol/keys.ts";
import { verifyFrame } from "../protocol/transport_sig.ts";
import type { Frame, ListEntry } from "../protocol/types.ts";
import { awaitReply } from "./_replies.ts";
import type { Contact, Directory } from "./directory.ts";
import { acceptsAdvert, type ReceiveContext } from "./receive.ts";
import type { UserListing } from "./events.ts";
import { listForm, type ServerDialect } from "./server_dialect.ts";

/** What asking for the list needs of the client. */
export interface ListHost {
  identity: Identity;
  directory: Directory;
  dialect: ServerDialect;
  serverId?: string;
  /** Our server's key: a list that carries keys (`all`) must be signed by it. */
  serverKey?: PublicKey;
  socket: WebSocket;
  send(frame: unknown): void;
}

/** A known user who is offline, with the key our server vouches for (offline delivery). */
export interface OfflineUser {
  userId: string;
  home: string;
  pubkey: PublicKey;
}

/**
 * Who is online, as the server (or, for dialect B, this client) knows it;
 * with `all` (our dialect only), also the known users who are offline,
 * whose keys go to `offline`.
 */
export async function askList(
  host: ListHost,
  timeoutMs: number,
  all = false,
  offline?: (user: OfflineUser) => void,
): Promise<UserListing[]> {
  const form = listForm(host.dialect);
  let entries: (ListEntry | string)[];
  let signedBy: Frame | undefined;
  if (form === "presence") {
    entries = [host.identity.id, ...host.directory.online().map((l) => l.userId)];
  } else {
    const reply = awaitReply(host.socket, (frame) => {
      if (form === "request" && frame.type === "LIST_RESPONSE") {
        signedBy = frame;
        return frame.payload.users;
      }
      if (form === "command" && frame.type === "COMMAND_RESPONSE") {
        try {
          return JSON.parse(frame.payload.response).users as string[];
        } catch {
          return undefined;
        }
      }
      return undefined;
    }, timeoutMs);
    const to = host.serverId ?? "*";
    host.send(
      form === "request"
        ? await buildSigned(host.identity, "LIST_REQUEST", to, all ? { all: true } : {})
        : await buildSigned(host.identity, "COMMAND", to, { command: "/list" }),
    );
    const answer = await reply;
    if (!answer) throw new SocpError(ErrorCode.TIMEOUT, "the server did not answer /list");
    entries = answer;
    // Keys of offline users are taken only from a list our server signed.
    if (offline && signedBy && host.serverKey && await verifyFrame(host.serverKey, signedBy)) {
      for (const e of answer) {
        if (typeof e === "string" || e.online !== false || !e.pubkey) continue;
        const key = parsePublicKey(e.pubkey);
        if (key.ok) offline({ userId: e.user_id, home: e.server_id, pubkey: key.key });
      }
    }
  }
  return entries.map((entry): UserListing => {
    const e = typeof entry === "string"
      ? { user_id: entry, server_id: "", display_name: "" }
      : entry;
    const name = e.display_name || host.directory.name(e.user_id) || e.user_id;
    const listing: UserListing = { user_id: e.user_id, display_name: name, server_id: e.server_id };
    if (e.online === false) listing.online = false;
    const fp = e.user_id === host.identity.id
      ? undefined
      : host.directory.get(e.user_id)?.fingerprint;
    if (fp) listing.fingerprint = fp;
    return listing;
  });
}

/**
 * Sends USER_LOOKUP (presence-lite) and waits for the user's advert, a
 * USER_NOT_FOUND for the lookup, or `timeoutMs`; the contact, if any.
 */
export async function lookUp(
  ctx: Pick<ReceiveContext, "server" | "identity" | "directory">,
  socket: WebSocket,
  userId: string,
  send: (frame: unknown) => void,
  timeoutMs: number,
): Promise<Contact | undefined> {
  const payload = { user_ids: [userId] };
  const ref = await msgRef(payload);
  const answered = awaitReply(socket, async (frame) => {
    if (frame.type === "ERROR") return frame.payload.msg_ref === ref || undefined;
    if (frame.type !== "USER_ADVERTISE" || frame.payload.user_id !== userId) return undefined;
    if (!(await acceptsAdvert(ctx, frame))) return undefined;
    await ctx.directory.advertise(frame); // the queued copy then changes nothing
    return true;
  }, timeoutMs);
  send(await buildSigned(ctx.identity, "USER_LOOKUP", ctx.server.id ?? "*", payload));
  await answered;
  return ctx.directory.get(userId);
}
