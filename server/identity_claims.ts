/**
 * Settling claimed user bindings against the store (docs/PROTOCOL.md
 * decision 42): the rule of `bindings.ts` applied, the outcome written at
 * once (so two frames racing for one id see each other's decision), and
 * what a replaced binding means for sessions and directory entries that
 * still carry the old key.
 *
 * @module
 */

import { ErrorCode } from "../protocol/errors.ts";
import { type BindingClaim, type BindingVerdict, judgeBinding, rowOfClaim } from "./bindings.ts";
import type { NodeContext } from "./context.ts";
import { type Effect, error } from "./effects.ts";
import { removalEffects } from "./presence.ts";
import type { BindingRow } from "./store.ts";

/** The outcome of {@linkcode settleClaim}. */
export type Settlement =
  | { accepted: true; row: BindingRow; verdict: Exclude<BindingVerdict["kind"], "refused"> }
  | { accepted: false; reason: string };

const REFUSAL_LOG_MS = 1000;
let lastRefusalLog = -Infinity;

/**
 * Judges a claim and stores the result; a refusal is counted and logged (at
 * most once a second, since a hostile peer may send many).
 *
 * @example
 * ```ts
 * import { settleClaim } from "./identity_claims.ts";
 * // const s = settleClaim(ctx, claimOfAdvert(payload, key, from, ts)); if (!s.accepted) …
 * ```
 */
export function settleClaim(ctx: NodeContext, claim: BindingClaim): Settlement {
  const { store, state, log, metrics } = ctx;
  const now = ctx.now();
  const held = store.getBinding(claim.userId);
  const verdict = judgeBinding(held, claim, { self: state.self.id, now });
  if (verdict.kind === "refused") {
    metrics.inc("bindings_refused");
    if (now - lastRefusalLog >= REFUSAL_LOG_MS) {
      lastRefusalLog = now;
      log.warn("refused a user binding", {
        user: claim.userId,
        via: claim.via,
        home: claim.home,
        reason: verdict.reason,
      });
    }
    return { accepted: false, reason: verdict.reason };
  }
  if (verdict.kind === "same" && !verdict.update) {
    return { accepted: true, row: held!, verdict: "same" };
  }
  const row = rowOfClaim(claim, held, now);
  try {
    store.transaction(() => {
      store.putBinding(row);
      // A registration here that lost its id to another home is withdrawn with it.
      if (held?.home === state.self.id && row.home !== state.self.id) {
        store.deleteUser(claim.userId);
      }
    });
  } catch (e) {
    log.error("could not store a user binding", { user: claim.userId, error: String(e) });
    return { accepted: false, reason: "the binding could not be stored" };
  }
  metrics.inc("bindings_stored", verdict.kind);
  if (verdict.kind === "rekey" || verdict.kind === "won") {
    log.info("user binding replaced", { user: claim.userId, home: claim.home, why: verdict.kind });
  }
  return { accepted: true, row, verdict: verdict.kind };
}

/**
 * Ends what still carries a user's previous key once its binding was
 * replaced by `boundKey`: a local session (which logged in with the old
 * binding) gets `BAD_KEY` and is closed, and leaving tells everyone; a
 * remote directory entry with another key is dropped and local clients told.
 *
 * @example
 * ```ts
 * import { displacedEffects } from "./identity_claims.ts";
 * // effects.push(...await displacedEffects(ctx, userId, row.pubkey, "why"));
 * ```
 */
export async function displacedEffects(
  ctx: NodeContext,
  userId: string,
  boundKey: string,
  detail: string,
): Promise<Effect[]> {
  const { state, log } = ctx;
  // A local session logged in with the binding that was just replaced.
  const local = state.localUsers.get(userId);
  if (local) {
    log.info("closing a session whose key lost its binding", { user: userId });
    return [error(local, ErrorCode.BAD_KEY, detail, true)];
  }
  const entry = state.directory.get(userId);
  if (!entry || entry.pubkey.b64 === boundKey) return [];
  state.userLocations.delete(userId);
  state.directory.delete(userId);
  return await removalEffects(ctx, [userId], entry.serverId);
}
