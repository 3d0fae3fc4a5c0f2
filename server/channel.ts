/**
 * Public-channel key rotation (SOCP.md §7.2, §7.3). A fresh 256-bit key is
 * wrapped for every online member and announced as PUBLIC_CHANNEL_ADD (joins
 * only), PUBLIC_CHANNEL_UPDATED and PUBLIC_CHANNEL_KEY_SHARE; the clear key
 * is dropped as soon as it is wrapped. Joins and leaves within 250 ms share a
 * rotation, and a large channel's rotations are spaced by three times their
 * duration; a repair rotation waits a random 100–500 ms and is skipped if a
 * newer state covering our users arrives first.
 *
 * @module
 */

import { generateAesKey } from "../protocol/aes.ts";
import { buildKeyShare } from "../protocol/builders.ts";
import { buildChannelKeyFrames, CHANNEL_KEY_CAP } from "../protocol/channel_key.ts";
import { compareCodePoints } from "../protocol/canonical.ts";
import { MAX_CHANNEL_VERSION } from "../protocol/channel_version.ts";
import { encryptFor } from "../protocol/rsa.ts";
import type { ChannelWrap } from "../protocol/types.ts";
import { type NodeContext, signed } from "./context.ts";
import { type Effect, persist, send, sendAll } from "./effects.ts";
import type { Link } from "./link.ts";
import { type ChannelState, LOCAL } from "./state.ts";
import { needsPemSenderPub } from "./dialects/write.ts";
import type { Logger } from "./log.ts";
import type { Store } from "./store.ts";

const JOIN_BATCH_MS = 250;
/** After a rotation of d ms, the next batched one waits at least this many times d. */
const ROTATION_SPACING = 3;
const UPDATED_SETTING = "public_updated";
const KEY_SHARE_SETTING = "public_key_share";
const ADOPTED_SETTING = "public_adopted_at";

/**
 * Whether an incoming state (version, creator) replaces the current one:
 * a higher version, or the same version from a lower creator id (§7.3).
 *
 * @example
 * ```ts
 * import { stateWins } from "./channel.ts";
 * stateWins(5, "b", { version: 5, creator: "c" }); // true
 * stateWins(4, "a", { version: 5, creator: "c" }); // false
 * ```
 */
export function stateWins(
  version: number,
  creator: string,
  current: Pick<ChannelState, "version" | "creator">,
): boolean {
  if (version !== current.version) return version > current.version;
  return current.creator !== null && compareCodePoints(creator, current.creator) < 0;
}

/**
 * Persist effect for a new current state: version, creator, member wraps and
 * the verbatim frames for link sync.
 *
 * @example
 * ```ts
 * import { persistChannel } from "./channel.ts";
 * // effects.push(persistChannel(state.channel, wraps, now));
 * ```
 */
export function persistChannel(channel: ChannelState, wraps: ChannelWrap[], now: number): Effect {
  return persist((store) => {
    store.setPublicVersion(channel.version, channel.creator ?? "", wraps, now);
    store.setSetting(UPDATED_SETTING, channel.updated ?? "");
    store.setSetting(KEY_SHARE_SETTING, channel.keyShare ?? "");
    store.setSetting(ADOPTED_SETTING, String(channel.adoptedAt));
  });
}

/**
 * Reads the stored channel state at startup.
 *
 * @example
 * ```ts
 * import { loadChannel } from "./channel.ts";
 * // state.channel = loadChannel(store);
 * ```
 */
export function loadChannel(store: Store, log?: Logger): ChannelState {
  const group = store.publicGroup();
  if (group.version > MAX_CHANNEL_VERSION) {
    // Poisoned before versions were checked: start over, and let peers' states win.
    log?.warn("stored public-channel version is implausible; starting the channel over", {
      version: group.version,
    });
    return { version: 0, creator: null, members: new Set(), adoptedAt: 0 };
  }
  return {
    version: group.version,
    creator: group.key_creator,
    members: new Set(store.publicMembers().map((m) => m.member_id)),
    updated: store.getSetting(UPDATED_SETTING) || undefined,
    keyShare: store.getSetting(KEY_SHARE_SETTING) || undefined,
    adoptedAt: Number(store.getSetting(ADOPTED_SETTING) ?? group.created_at ?? 0),
  };
}

/**
 * Whether every local online user holds the current key.
 *
 * @example
 * ```ts
 * import { coversLocalUsers } from "./channel.ts";
 * // if (!coversLocalUsers(ctx)) request a repair
 * ```
 */
export function coversLocalUsers(ctx: NodeContext): boolean {
  for (const [userId, at] of ctx.state.userLocations) {
    if (at === LOCAL && !ctx.state.channel.members.has(userId)) return false;
  }
  return true;
}

/**
 * How local clients get channel state: those with the channel-key capability
 * get only their own wrap (PUBLIC_CHANNEL_KEY); the rest get UPDATED and
 * KEY_SHARE verbatim.
 *
 * @example
 * ```ts
 * import { channelRecipients } from "./channel.ts";
 * // const { verbatim, keyed } = channelRecipients(ctx);
 * ```
 */
export function channelRecipients(ctx: NodeContext): { verbatim: Link[]; keyed: Set<string> } {
  const verbatim: Link[] = [];
  const keyed = new Set<string>();
  for (const [userId, link] of ctx.state.localUsers) {
    if (link.caps.has(CHANNEL_KEY_CAP)) keyed.add(userId);
    else verbatim.push(link);
  }
  return { verbatim, keyed };
}

/**
 * Sends each local client with the channel-key capability its own wrap of
 * state (`version`, `creator`), under one signature of this server; with
 * the PEM hint when members are hosted where only PEM keys are read.
 *
 * @example
 * ```ts
 * import { channelKeyEffects } from "./channel.ts";
 * // effects.push(...await channelKeyEffects(ctx, version, creator, wraps));
 * ```
 */
export async function channelKeyEffects(
  ctx: NodeContext,
  version: number,
  creator: string,
  wraps: readonly ChannelWrap[],
): Promise<Effect[]> {
  const { keyed } = channelRecipients(ctx);
  if (keyed.size === 0) return [];
  const { userLocations, peerDialects } = ctx.state;
  const pem = wraps.some((w) => {
    const at = userLocations.get(w.member_id);
    return at !== undefined && at !== LOCAL && needsPemSenderPub(peerDialects.get(at));
  });
  const frames = await buildChannelKeyFrames(
    ctx.state.self,
    version,
    creator,
    wraps,
    keyed,
    ctx.now(),
    pem ? "pem" : undefined,
  );
  const effects: Effect[] = [];
  for (const [userId, frame] of frames) {
    const link = ctx.state.localUsers.get(userId);
    if (link) effects.push(send(link, JSON.stringify(frame)));
  }
  return effects;
}

/** What the channel needs from its node. */
export interface ChannelHost {
  readonly ctx: NodeContext;
  apply(effects: Effect[]): Promise<void>;
}

/**
 * Why a rotation is requested: a join or leave (batched), a repair (our
 * users missing from the winning state), or a renewal (a fresh key for
 * everyone, when our own (version, creator) pair was issued twice).
 */
export type RotationReason = "join" | "leave" | "repair" | "renew";

/**
 * Schedules and performs rotations for one node.
 *
 * @example
 * ```ts
 * import { PublicChannel } from "./channel.ts";
 * // const channel = new PublicChannel(node); channel.request("join", [userId]);
 * ```
 */
export class PublicChannel {
  readonly #host: ChannelHost;
  readonly #joined = new Set<string>();
  #batchTimer?: ReturnType<typeof setTimeout>;
  #repairTimer?: ReturnType<typeof setTimeout>;
  #rotating: Promise<void> = Promise.resolve();
  #busy = false;
  /** performance.now() before which the next batched rotation does not start. */
  #earliestNext = 0;
  #stopped = false;

  constructor(host: ChannelHost) {
    this.#host = host;
  }

  /** Requests a rotation. */
  request(reason: RotationReason, users: string[] = []): void {
    if (this.#stopped) return;
    if (reason === "repair") {
      // Random, so servers missing from one state do not all repair at once; and no
      // sooner than batched rotations, so a peer sending such states cannot drive us faster.
      const wait = Math.max(100 + Math.random() * 400, this.#earliestNext - performance.now());
      this.#repairTimer ??= setTimeout(() => {
        this.#repairTimer = undefined;
        // Skipped when a newer state covering our users arrived meanwhile.
        if (!coversLocalUsers(this.#host.ctx)) this.#queue([]);
      }, wait);
      return;
    }
    users.forEach((u) => this.#joined.add(u));
    this.#schedule();
  }

  /**
   * Batches joins and leaves: at least 250 ms, and after a rotation at least
   * ROTATION_SPACING times its duration, so wrapping keys for a
   * large channel never takes more than a quarter of the node's time.
   */
  #schedule(): void {
    if (this.#batchTimer !== undefined || this.#stopped) return;
    const wait = Math.max(JOIN_BATCH_MS, this.#earliestNext - performance.now());
    this.#batchTimer = setTimeout(() => {
      this.#batchTimer = undefined;
      if (this.#busy) {
        this.#rotating.then(() => this.#schedule());
        return;
      }
      const joined = [...this.#joined];
      this.#joined.clear();
      this.#queue(joined);
    }, wait);
  }

  /** Cancels pending rotations. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#batchTimer);
    clearTimeout(this.#repairTimer);
  }

  /** Rotations run one at a time, so each builds on the last. */
  #queue(joined: string[]): void {
    this.#rotating = this.#rotating
      .then(async () => {
        this.#busy = true;
        const started = performance.now();
        try {
          await this.#rotate(joined);
        } finally {
          this.#busy = false;
          const took = performance.now() - started;
          this.#earliestNext = performance.now() + ROTATION_SPACING * took;
        }
      })
      .catch((e) =>
        this.#host.ctx.log.error("public channel rotation failed", { error: String(e) })
      );
  }

  async #rotate(joined: string[]): Promise<void> {
    const ctx = this.#host.ctx;
    const { state } = ctx;
    if (this.#stopped) return;
    const members = [...state.directory.values()];
    const version = state.channel.version + 1;
    if (version > MAX_CHANNEL_VERSION) {
      ctx.log.error("public channel version at its cap; not rotating", { version });
      return;
    }
    const key = generateAesKey();
    let wraps: ChannelWrap[];
    try {
      wraps = await Promise.all(
        members.map(async (m) => ({
          member_id: m.userId,
          wrapped_key: await encryptFor(m.encKey, key, { bulk: true }),
        })),
      );
    } finally {
      key.fill(0); // the clear key lives only while it is wrapped
    }
    // A state as new arrived while we wrapped: ours would not win; repair if still needed.
    if (!stateWins(version, state.self.id, state.channel)) {
      if (!coversLocalUsers(ctx)) this.request("repair");
      return;
    }
    const frames = [];
    const now = ctx.now();
    if (joined.length) {
      frames.push(
        await signed(ctx, "PUBLIC_CHANNEL_ADD", "*", { add: joined, if_version: version - 1 }, now),
      );
    }
    const updated = await signed(ctx, "PUBLIC_CHANNEL_UPDATED", "*", { version, wraps }, now);
    const shares = wraps.map((w) => ({
      member: w.member_id,
      wrapped_public_channel_key: w.wrapped_key,
    }));
    const keyShare = await buildKeyShare(state.self, shares, version, now);
    frames.push(updated, keyShare);
    if (!stateWins(version, state.self.id, state.channel)) return; // superseded while signing
    state.channel = {
      version,
      creator: state.self.id,
      members: new Set(wraps.map((w) => w.member_id)),
      updated: JSON.stringify(updated),
      keyShare: JSON.stringify(keyShare),
      adoptedAt: now,
    };
    ctx.log.info("public channel rotated", {
      version,
      members: wraps.length,
      joined: joined.length,
    });
    const targets = [...state.serverLinks(), ...channelRecipients(ctx).verbatim];
    await this.#host.apply([
      persistChannel(state.channel, wraps, now),
      ...frames.flatMap((f) => sendAll(targets, JSON.stringify(f))),
      ...await channelKeyEffects(ctx, version, state.self.id, wraps),
    ]);
  }
}
