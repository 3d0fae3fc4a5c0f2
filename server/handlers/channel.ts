/**
 * Handlers of the public channel (SOCP.md §6.3, §7): incoming key states
 * from other servers (convergence, repair) and MSG_PUBLIC_CHANNEL fan-out.
 * Servers relay ciphertext they cannot read: they never hold the clear key.
 *
 * @module
 */

import { verifyKeyShareContentSig } from "../../protocol/content_sig.ts";
import { plausibleVersion } from "../../protocol/channel_version.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { isUuidV4 } from "../../protocol/ids.ts";
import type { PublicKey } from "../../protocol/keys.ts";
import type { ChannelWrap, FrameOf } from "../../protocol/types.ts";
import {
  channelKeyEffects,
  channelRecipients,
  coversLocalUsers,
  persistChannel,
  stateWins,
} from "../channel.ts";
import {
  type NodeContext,
  pinnedSigner,
  type Route,
  type Signers,
  validatedKey,
} from "../context.ts";
import { type Effect, error, send, sendAll } from "../effects.ts";
import { echoesAdoptedState } from "../dialects/write.ts";
import type { Link } from "../link.ts";
import { notFoundDetail, routeToUser } from "../routing.ts";
import { gossip } from "./server_links.ts";
import { boundUserSigner, memberServerLinks, relayedUserSigner } from "./users.ts";

/** After adopting a state: repair when our own online users are not in it. */
function repairIfUncovered(ctx: NodeContext, effects: Effect[]): Effect[] {
  if (!coversLocalUsers(ctx)) effects.push({ kind: "rotate", reason: "repair" });
  return effects;
}

const addRoute: Route<"PUBLIC_CHANNEL_ADD"> = {
  signers: (ctx, frame) => pinnedSigner(ctx, frame.from),
  handle: (ctx, frame, link, raw) => gossip(ctx, frame, link, raw), // the version changes with UPDATED only
};

/** Forward to servers; relay verbatim to local clients without the channel-key capability. */
function relayState(ctx: NodeContext, frame: { from: string }, link: Link, raw: string): Effect[] {
  return gossip(ctx, frame, link, raw, channelRecipients(ctx).verbatim);
}

/** A state whose version jumps implausibly far is neither adopted nor passed on. */
function implausible(ctx: NodeContext, link: Link, version: number, from: string): Effect[] {
  const { channel } = ctx.state;
  if (plausibleVersion(version, channel.version, ctx.now() - channel.adoptedAt)) return [];
  ctx.metrics.inc("channel_states_refused");
  ctx.log.warn("refused an implausible public-channel version", {
    version,
    current: channel.version,
    creator: from,
  });
  return [error(link, ErrorCode.BAD_REQUEST, `public-channel version ${version} is implausible`)];
}

/**
 * Channel states are verified under their creator's key: a peer's pin, or our
 * own when link sync echoes a state we created (after a restart that lost or
 * reset our channel state, that is how we learn the versions we issued).
 */
function creatorKey(ctx: NodeContext, from: string): PublicKey | undefined {
  return from === ctx.state.self.id ? ctx.state.self.keys.publicKey : ctx.state.pins.get(from);
}

function creatorSigner(ctx: NodeContext, frame: { from: string }): Signers {
  return frame.from === ctx.state.self.id
    ? [ctx.state.self.keys.publicKey]
    : pinnedSigner(ctx, frame.from);
}

/**
 * One of our own states came back. It is never passed on; a different state
 * under our current (version, creator) means we issued that pair twice (our
 * state was lost): a fresh rotation settles it for everyone.
 */
function ownStateEcho(ctx: NodeContext, version: number, sig: string | undefined, stored?: string) {
  const { channel, self } = ctx.state;
  const clash = version === channel.version && channel.creator === self.id &&
    stored !== undefined &&
    (JSON.parse(stored) as { sig?: string }).sig !== sig;
  return clash ? [{ kind: "rotate", reason: "renew" } as const] : [];
}

const updatedRoute: Route<"PUBLIC_CHANNEL_UPDATED"> = {
  signers: creatorSigner,
  async handle(ctx, frame, link, raw) {
    const { version, wraps } = frame.payload;
    const refused = implausible(ctx, link, version, frame.from);
    if (refused.length) return refused;
    const own = frame.from === ctx.state.self.id;
    if (own && !stateWins(version, frame.from, ctx.state.channel)) {
      return ownStateEcho(ctx, version, frame.sig, ctx.state.channel.updated);
    }
    const effects = own ? [] : relayState(ctx, frame, link, raw); // whether or not it wins
    if (!stateWins(version, frame.from, ctx.state.channel)) return effects;
    ctx.state.channel = {
      version,
      creator: frame.from,
      members: new Set(wraps.map((w) => w.member_id)),
      updated: raw,
      adoptedAt: ctx.now(),
    };
    effects.push(persistChannel(ctx.state.channel, wraps, ctx.now()));
    effects.push(...await channelKeyEffects(ctx, version, frame.from, wraps));
    if (echoesAdoptedState(link.dialect)) effects.push(send(link, raw));
    return repairIfUncovered(ctx, effects);
  },
};

const keyShareRoute: Route<"PUBLIC_CHANNEL_KEY_SHARE"> = {
  signers: creatorSigner,
  async handle(ctx, frame, link, raw) {
    const { state } = ctx;
    const creator = creatorKey(ctx, frame.from)!;
    const p = frame.payload;
    if (!validatedKey(p.creator_pub).equals(creator)) {
      return [error(link, ErrorCode.BAD_KEY, "creator_pub is not the key of the sending server")];
    }
    if (
      !(await verifyKeyShareContentSig(
        creator,
        { shares: p.shares, creatorPub: p.creator_pub },
        p.content_sig,
      ))
    ) {
      return [error(link, ErrorCode.INVALID_SIG, "key-share content_sig does not verify")];
    }
    const channel = state.channel;
    // A share without a version goes with the current state when its creator sent it and
    // no other share of that state is known; otherwise it is a new state (dialect A makes
    // a key, and sends a versionless share, at every join).
    const current = frame.from === channel.creator &&
      (channel.keyShare === undefined || channel.keyShare === raw);
    const version = p.version ?? (current ? channel.version : channel.version + 1);
    const refused = implausible(ctx, link, version, frame.from);
    if (refused.length) return refused;
    const own = frame.from === state.self.id;
    if (own && !stateWins(version, frame.from, channel)) {
      return ownStateEcho(ctx, version, frame.sig, channel.keyShare);
    }
    const effects = own ? [] : relayState(ctx, frame, link, raw); // never trimmed per member
    const wraps: ChannelWrap[] = p.shares.map((s) => ({
      member_id: s.member,
      wrapped_key: (s.wrapped_public_channel_key ?? s.wrapped)!,
    }));
    if (frame.from === channel.creator && version === channel.version) {
      channel.keyShare = raw; // the share that goes with the current UPDATED
      effects.push(persistChannel(state.channel, wraps, ctx.now()));
      return repairIfUncovered(ctx, effects);
    }
    if (!stateWins(version, frame.from, channel)) return effects;
    state.channel = {
      version,
      creator: frame.from,
      members: new Set(wraps.map((w) => w.member_id)),
      keyShare: raw,
      adoptedAt: ctx.now(),
    };
    effects.push(persistChannel(state.channel, wraps, ctx.now()));
    effects.push(...await channelKeyEffects(ctx, version, frame.from, wraps));
    if (echoesAdoptedState(link.dialect)) effects.push(send(link, raw));
    return repairIfUncovered(ctx, effects);
  },
};

/** Whether a MSG_PUBLIC_CHANNEL is the per-recipient dialect form (addressed to one user). */
function perRecipient(ctx: NodeContext, to: string): boolean {
  return to !== "public" && to !== "*" && (ctx.state.userLocations.has(to) || isUuidV4(to));
}

type PublicFrame = FrameOf<"MSG_PUBLIC_CHANNEL">;

/** MSG_PUBLIC_CHANNEL from a local user: to local members and once to each server hosting members. */
const publicFromUser: Route<"MSG_PUBLIC_CHANNEL"> = {
  concurrent: true,
  signers: boundUserSigner,
  handle(ctx, frame: PublicFrame, link, raw) {
    const registered = ctx.state.directory.get(frame.from)?.pubkey;
    if (!registered) return []; // the sender left while this was verified
    if (!validatedKey(frame.payload.sender_pub).equals(registered)) {
      return [error(link, ErrorCode.BAD_KEY, "sender_pub is not your registered key")];
    }
    if (perRecipient(ctx, frame.to)) {
      const target = routeToUser(ctx, frame.to);
      if (target.kind === "local" || target.kind === "remote") return [send(target.link, raw)];
      return [error(link, ErrorCode.USER_NOT_FOUND, notFoundDetail(target))];
    }
    return [
      ...sendAll(ctx.state.localUserLinks(frame.from), raw),
      ...sendAll(memberServerLinks(ctx), raw),
    ];
  },
};

/** MSG_PUBLIC_CHANNEL from another server: to local members only, never re-fanned. */
const publicFromServer: Route<"MSG_PUBLIC_CHANNEL"> = {
  concurrent: true,
  signers: relayedUserSigner,
  handle(ctx, frame: PublicFrame, link: Link, raw) {
    if (perRecipient(ctx, frame.to)) {
      const target = routeToUser(ctx, frame.to, link);
      return target.kind === "local" || target.kind === "remote" ? [send(target.link, raw)] : [];
    }
    return sendAll(ctx.state.localUserLinks(frame.from), raw);
  },
};

/** Channel routes on server links. */
export const CHANNEL_SERVER_ROUTES = {
  PUBLIC_CHANNEL_ADD: addRoute,
  PUBLIC_CHANNEL_UPDATED: updatedRoute,
  PUBLIC_CHANNEL_KEY_SHARE: keyShareRoute,
  MSG_PUBLIC_CHANNEL: publicFromServer,
} as const;

/** Channel routes on user links. */
export const CHANNEL_USER_ROUTES = { MSG_PUBLIC_CHANNEL: publicFromUser } as const;
