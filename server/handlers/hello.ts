/**
 * USER_HELLO (SOCP.md §6.2, §10.2): authentication against the user id's
 * mesh-wide binding (docs/PROTOCOL.md decision 42), throttled password checks
 * for dialect logins, the registration written before anything is
 * acknowledged, then the ACK, the advert and the catch-up.
 *
 * @module
 */

import { msgRef } from "../../protocol/dedup.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { verifyFrame } from "../../protocol/transport_sig.ts";
import {
  ADVERT_ACK_CAP,
  type FrameOf,
  PRESENCE_LITE_CAP,
  type UserAdvertisePayload,
  type UserMeta,
} from "../../protocol/types.ts";
import type { PublicKey } from "../../protocol/keys.ts";
import { canonicalJson } from "../../protocol/canonical.ts";
import { decideHello, hashPassword, type HelloDecision, verifyPassword } from "../auth.ts";
import { type NodeContext, type Route, signed, validatedKey } from "../context.ts";
import { type Effect, error, send, sendAll } from "../effects.ts";
import type { Link } from "../link.ts";
import { helloDialect } from "../dialects/read.ts";
import { presenceEntry, verbatimPresenceLinks } from "../presence.ts";
import { TokenBucket } from "../rate.ts";
import { type DirectoryEntry, LOCAL } from "../state.ts";
import type { BindingRow, UserRow } from "../store.ts";
import { handOver } from "./offline.ts";

const OPTIONAL_META = ["extras", "avatar_url", "pronouns", "age"] as const;

/**
 * The `meta` of a user's advert: the hello's displayable fields plus the
 * key(s), trimmed of optional fields until it fits the 4 KiB receivers allow.
 */
function advertMeta(meta: UserMeta | undefined, pubkey: PublicKey, encKey: PublicKey): UserMeta {
  const out: UserMeta = {};
  for (const field of ["display_name", "caps", ...OPTIONAL_META] as const) {
    if (meta?.[field] !== undefined) (out as Record<string, unknown>)[field] = meta[field];
  }
  out.pubkey = pubkey.b64;
  if (!encKey.equals(pubkey)) out.enc_pubkey = encKey.b64;
  for (const field of OPTIONAL_META) {
    if (new TextEncoder().encode(canonicalJson(out)).length <= 4096) break;
    delete out[field];
  }
  return out;
}

/** Checks a dialect password at the id's home, unless its user or address must still wait. */
async function checkPassword(
  ctx: NodeContext,
  link: Link,
  userId: string,
  password: string,
  stored: string,
): Promise<{ matches: boolean } | { waitMs: number }> {
  const throttle = ctx.state.passwords;
  const keys = [`user:${userId}`, `ip:${link.remote}`];
  const waitMs = throttle.waitMs(keys, ctx.now());
  if (waitMs > 0) {
    ctx.metrics.inc("passwords_throttled");
    return { waitMs };
  }
  const matches = await verifyPassword(password, stored);
  if (matches) {
    throttle.succeeded(keys[0]);
  } else {
    const delay = throttle.failed(keys, ctx.now());
    ctx.metrics.inc("passwords_failed");
    ctx.log.warn("failed password", { user: userId, remote: link.remote, delay_ms: delay });
  }
  return { matches };
}

/** The rows a successful hello writes: the registration here (if home) and the binding. */
function rowsToWrite(
  ctx: NodeContext,
  decision: HelloDecision & { accept: true },
  facts: {
    userId: string;
    pubkey: PublicKey;
    meta: string;
    passwordHash: string;
    user?: UserRow;
    binding?: BindingRow;
    proofTs: number;
  },
): { user?: UserRow; binding: BindingRow } {
  const { userId, pubkey, user, binding } = facts;
  const now = ctx.now();
  const proofTs = Math.max(binding?.proof_ts ?? 0, facts.proofTs);
  if (decision.roaming) return { binding: { ...binding!, proof_ts: proofTs } };
  const changed = decision.replaceKey ||
    (user !== undefined && (user.meta !== facts.meta || user.pake_password !== facts.passwordHash));
  return {
    user: {
      user_id: userId,
      pubkey: pubkey.b64,
      privkey_store: "",
      pake_password: facts.passwordHash,
      meta: facts.meta,
      version: user ? user.version + (changed ? 1 : 0) : 1,
    },
    binding: {
      user_id: userId,
      pubkey: pubkey.b64,
      home: ctx.state.self.id,
      key_version: (binding?.key_version ?? 0) + (decision.replaceKey || !binding ? 1 : 0),
      registered_at: binding?.registered_at ?? now,
      first_seen: binding?.first_seen ?? now,
      confirmed: 1,
      proof_ts: decision.replaceKey ? facts.proofTs : proofTs,
    },
  };
}

/** USER_HELLO, the first frame of a user link. Authentication is this handler's (§10.2). */
export const helloRoute: Route<"USER_HELLO"> = {
  signers: () => "link",
  ownClock: true,
  async handle(ctx, frame, link) {
    const { state, store, config } = ctx;
    const { limits } = config;
    const p = frame.payload;
    const userId = frame.from;
    link.client = p.client;
    link.dialect = helloDialect(frame);
    const refuse = (code: ErrorCode, detail: string) => [error(link, code, detail, true)];
    if (state.localUsers.has(userId)) {
      return refuse(ErrorCode.NAME_IN_USE, "this user is already connected here");
    }
    if (state.localUsers.size >= limits.maxLocalUsers) {
      return refuse(ErrorCode.RATE_LIMITED, "server is full");
    }

    const now = ctx.now();
    const pubkey = validatedKey(p.pubkey);
    const encKey = p.enc_pubkey && p.enc_pubkey !== p.pubkey ? validatedKey(p.enc_pubkey) : pubkey;
    // The signature and msg_ref cover the payload as received, password included.
    const sigValid = frame.sig !== undefined && await verifyFrame(pubkey, frame);
    const reference = await msgRef(p);
    const password = p.password;
    delete p.password; // checked below, then gone: never stored, logged or echoed
    const nonceKey = `${userId}:${p.nonce}`;
    const signedFresh = sigValid && p.auth_ts === frame.ts &&
      Math.abs(now - frame.ts) <= limits.clockWindowMs &&
      typeof p.nonce === "string" && !state.helloNonces.has(nonceKey, now);
    const user = store.getUser(userId);
    const binding = store.getBinding(userId);
    const boundKey = binding?.pubkey ?? user?.pubkey;
    const registration = boundKey === undefined
      ? "none"
      : boundKey === pubkey.b64
      ? "same-key"
      : "other-key";
    const home = !binding || binding.home === state.self.id ? "here" : "elsewhere";
    // Live elsewhere: NAME_IN_USE, unless the key is not even the user's (then BAD_KEY below).
    const location = state.userLocations.get(userId);
    const impostor = registration === "other-key" && !(home === "here" && password !== undefined);
    if (location !== undefined && location !== LOCAL && !impostor) {
      return refuse(ErrorCode.NAME_IN_USE, "this user is connected to another server");
    }
    let passwordMatches = false;
    if (password !== undefined && home === "here" && user?.pake_password) {
      const checked = await checkPassword(ctx, link, userId, password, user.pake_password);
      if ("waitMs" in checked) {
        const seconds = Math.ceil(checked.waitMs / 1000);
        return refuse(ErrorCode.AUTH_FAILED, `too many failed passwords; retry in ${seconds} s`);
      }
      passwordMatches = checked.matches;
    }
    const decision = decideHello({
      signed: frame.sig !== undefined,
      sigValid,
      signedFresh,
      passwordGiven: password !== undefined,
      passwordMatches,
      registration,
      home,
      allowUnsignedHello: config.allowUnsignedHello,
    });
    if (!decision.accept) {
      ctx.log.info("refused a hello", { user: userId, code: decision.code });
      return refuse(decision.code, decision.detail);
    }
    if (signedFresh) state.helloNonces.add(nonceKey, now);
    const passwordHash = decision.register && password !== undefined
      ? await hashPassword(password)
      : user?.pake_password ?? "";
    // The hello waited on crypto: re-check the binding before writing.
    const nowBound = store.getBinding(userId);
    if (nowBound?.pubkey !== binding?.pubkey || nowBound?.home !== binding?.home) {
      return refuse(ErrorCode.BAD_KEY, "this user id was bound elsewhere meanwhile; try again");
    }
    // A proof naming this server (or "*"), made with this hello, travels in the advert.
    const proof = p.presence && p.presence.ts === p.auth_ts && signedFresh &&
        (p.presence.server_id === state.self.id || p.presence.server_id === "*")
      ? p.presence
      : undefined;
    const rows = rowsToWrite(ctx, decision, {
      userId,
      pubkey,
      meta: JSON.stringify(p.meta ?? {}),
      passwordHash,
      user,
      binding,
      proofTs: proof?.ts ?? 0,
    });
    try {
      // Written before anything is acknowledged: a write that fails is never ACKed.
      store.transaction(() => {
        if (rows.user) store.putUser(rows.user);
        store.putBinding(rows.binding);
      });
    } catch (e) {
      ctx.log.error("could not store a hello; refused", { user: userId, error: String(e) });
      ctx.metrics.inc("writes_failed", "hello");
      return refuse(ErrorCode.SERVER_ERROR, "the server could not store your login; try later");
    }
    return await welcomeUser(ctx, frame, link, {
      pubkey,
      encKey,
      reference,
      binding: rows.binding,
      proof,
      decision,
    });
  },
};

/**
 * Signs the ACK and the advert, then (if the user still may) binds the link
 * to its user: the ACK, the advert everywhere and the catch-up.
 */
async function welcomeUser(
  ctx: NodeContext,
  frame: FrameOf<"USER_HELLO">,
  link: Link,
  facts: {
    pubkey: PublicKey;
    encKey: PublicKey;
    reference: string;
    binding: BindingRow;
    proof?: UserAdvertisePayload["presence"];
    decision: HelloDecision & { accept: true };
  },
): Promise<Effect[]> {
  const { state, config } = ctx;
  const { pubkey, encKey, binding } = facts;
  const p = frame.payload;
  const userId = frame.from;
  const meta = advertMeta(p.meta, pubkey, encKey);
  const advertPayload: UserAdvertisePayload = {
    user_id: userId,
    server_id: state.self.id,
    pubkey: pubkey.b64,
    meta,
    home: binding.home,
    key_version: binding.key_version,
    registered_at: binding.registered_at,
  };
  if (facts.proof) advertPayload.presence = facts.proof;
  const ackPayload = { msg_ref: facts.reference, server_pub: state.self.keys.publicKey.b64 };
  // A client that takes its own advert as the welcome costs one signature: the advert, whose
  // presence proof is this hello's (decision 59). Otherwise both at once: one per core.
  const advertAck = facts.proof !== undefined && (p.meta?.caps ?? []).includes(ADVERT_ACK_CAP);
  const [advertFrame, ack] = await Promise.all([
    signed(ctx, "USER_ADVERTISE", "*", advertPayload),
    advertAck ? null : signed(ctx, "ACK", userId, ackPayload),
  ]);
  // Signing took time: another session, or another server's registration, may have come first.
  if (link.closed) return [];
  if (state.localUsers.has(userId)) {
    return [error(link, ErrorCode.NAME_IN_USE, "this user is already connected here", true)];
  }
  if (ctx.store.getBinding(userId)?.pubkey !== pubkey.b64) {
    const detail =
      "this user id was registered at the same moment on another server, which keeps it";
    return [error(link, ErrorCode.BAD_KEY, detail, true)];
  }
  link.kind = "user";
  link.peerId = userId;
  link.caps = new Set(p.meta?.caps ?? []);
  link.rate = new TokenBucket(config.limits.userRatePerSec, config.limits.userBurst, ctx.now());
  state.addLocalUser(userId, link);
  state.userLocations.set(userId, LOCAL);
  const advert = JSON.stringify(advertFrame);
  const entry: DirectoryEntry = { userId, serverId: state.self.id, pubkey, encKey, meta, advert };
  state.directory.set(userId, entry);
  ctx.log.info("user joined", {
    user: userId,
    registered: facts.decision.register,
    key_replaced: facts.decision.replaceKey,
    roaming: facts.decision.roaming,
  });
  // Presence-lite clients get a snapshot instead of every other user's advert.
  const catchUp: Effect[] = link.caps.has(PRESENCE_LITE_CAP)
    ? [{ kind: "welcome", link }]
    : [...state.directory.values()].filter((e) => e.userId !== userId).map((e) =>
      send(link, e.advert)
    );
  const welcome = ack ?? {
    type: "ACK" as const,
    from: state.self.id,
    to: userId,
    ts: ctx.now(),
    payload: { ...ackPayload, advert: advertFrame },
  };
  return [
    send(link, welcome),
    ...sendAll(state.serverLinks(), advert),
    ...sendAll(verbatimPresenceLinks(ctx, userId), advert),
    { kind: "presence", online: [presenceEntry(entry)], offline: [] },
    ...catchUp,
    // What waited for this user while away (we are the home): in order, after the welcome.
    ...await handOver(ctx, userId, link),
    { kind: "rotate", reason: "join", users: [userId] },
  ];
}
