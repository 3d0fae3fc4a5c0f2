// The frame generator of tests/_fuzz.ts. Frame i draws from its own PRNG,
// seeded from (seed, i), so the sequence of links, kinds and mutations is the
// same for a seed however the run's timing goes (which frames are lost while a
// link is down still depends on timing). Re-signed frames cost an RSA-4096
// signature each, too slow to make at the send rate on two cores shared with
// three servers, so they are all signed before the run starts; once that
// budget is spent a "resign" frame replays one of them with a fresh ts (a new
// seen_ids key, so it is handled again).

import { buildSigned } from "../mod.ts";
import {
  type FuzzLink,
  mutateEnvelope,
  mutatePayload,
  type Pools,
  retarget,
  type Seed,
  uuidFrom,
} from "./_fuzz_corpus.ts";
import { Mutator } from "./_mutate.ts";

/** How often each mutation is chosen, per link. */
export const WEIGHTS: Record<FuzzLink, [string, number][]> = {
  user: [
    ["valid", 15],
    ["envelope", 15],
    ["structure", 20],
    ["bytes", 20],
    ["resign", 25],
    ["random", 5],
  ],
  // A malformed frame, or 20 bad signatures in a minute, closes a server link:
  // sig-breaking kinds are rarer here, so the peer mostly reaches handlers.
  peer: [
    ["valid", 25],
    ["envelope", 20],
    ["structure", 6],
    ["bytes", 2],
    ["resign", 45],
    ["random", 0.5],
  ],
};

/**
 * Types whose re-signed lies change what a server believes (who is where,
 * which key is current, which servers exist, what a user is sent). Signatures
 * are scarce, so these are re-signed STATEFUL_WEIGHT times as often.
 */
const STATEFUL = new Set([
  "USER_ADVERTISE",
  "USER_REMOVE",
  "SERVER_ANNOUNCE",
  "SERVER_DELIVER",
  "PUBLIC_CHANNEL_UPDATED",
  "PUBLIC_CHANNEL_KEY_SHARE",
  "FILE_START",
  "MSG_DIRECT",
]);
const STATEFUL_WEIGHT = 4;
/** Signatures made at once while pre-signing (one per core). */
const SIGNERS = 2;

const mix = (seed: number, i: number) =>
  (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) | 0;

function pickWeighted(m: Mutator, weights: [string, number][]): string {
  const total = weights.reduce((n, [, w]) => n + w, 0);
  let r = m.random() * total;
  for (const [kind, w] of weights) if ((r -= w) < 0) return kind;
  return weights[0][0];
}

/** One planned frame: where it goes and what it is. */
export interface Planned {
  link: FuzzLink;
  kind: string;
  text: string;
}

/** Plans and produces the frames of a run. */
export class Generator {
  readonly #seed: number;
  readonly #pools: Pools;
  readonly #peerShare: number;
  readonly #seeds: Record<FuzzLink, Seed[]>;
  readonly #signed: Record<FuzzLink, Record<string, unknown>[]> = { user: [], peer: [] };
  readonly #used: Record<FuzzLink, number> = { user: 0, peer: 0 };

  constructor(seed: number, pools: Pools, seeds: Seed[], peerShare: number) {
    this.#seed = seed;
    this.#pools = pools;
    this.#peerShare = peerShare;
    this.#seeds = {
      user: seeds.filter((s) => s.link === "user"),
      peer: seeds.filter((s) => s.link === "peer"),
    };
  }

  #start(i: number): { m: Mutator; link: FuzzLink; kind: string } {
    const m = new Mutator(mix(this.#seed, i));
    const link: FuzzLink = m.random() < this.#peerShare ? "peer" : "user";
    return { m, link, kind: pickWeighted(m, WEIGHTS[link]) };
  }

  /**
   * Signs the re-signed frames of the first `frames` frames, at most `budget`
   * in all; returns how many were signed.
   */
  async presign(frames: number, budget: number): Promise<number> {
    const wanted: Record<FuzzLink, number> = { user: 0, peer: 0 };
    for (let i = 0; i < frames; i++) {
      const { link, kind } = this.#start(i);
      if (kind === "resign") wanted[link]++;
    }
    const total = wanted.user + wanted.peer;
    const share = total > budget ? budget / total : 1;
    const jobs: { link: FuzzLink; j: number }[] = [];
    for (const link of ["user", "peer"] as const) {
      const n = Math.max(wanted[link] > 0 ? 1 : 0, Math.floor(wanted[link] * share));
      for (let j = 0; j < n; j++) jobs.push({ link, j });
    }
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const { link, j } = jobs[next++];
        const frame = await this.#resigned(link, j);
        if (frame) this.#signed[link][j] = frame;
      }
    };
    await Promise.all(Array.from({ length: SIGNERS }, worker));
    for (const link of ["user", "peer"] as const) {
      this.#signed[link] = this.#signed[link].filter(Boolean);
    }
    return this.#signed.user.length + this.#signed.peer.length;
  }

  /**
   * The j-th re-signed frame of a link: one plausible lie (retarget) or many
   * junk values, sometimes another `to`, sometimes under an id of the
   * signer's choosing (a new id pins on first use when it is an announce).
   */
  async #resigned(link: FuzzLink, j: number): Promise<Record<string, unknown> | null> {
    const m = new Mutator(mix(this.#seed ^ 0x51c9ed, j * 2 + (link === "peer" ? 1 : 0)));
    const seeds = this.#seeds[link].flatMap((s) =>
      Array(STATEFUL.has(s.frame.type) ? STATEFUL_WEIGHT : 1).fill(s) as Seed[]
    );
    const seed = m.pick(seeds);
    const payload = m.random() < 0.5
      ? retarget(m, this.#pools, seed.frame.payload as Record<string, unknown>)
      : mutatePayload(m, this.#pools, seed.frame.payload);
    const to = m.random() < 0.15 ? m.pick(this.#pools.ids) : seed.frame.to;
    const signer = m.random() < 0.1
      ? { id: m.random() < 0.5 ? uuidFrom(m) : m.pick(this.#pools.ids), keys: seed.signer.keys }
      : seed.signer;
    try {
      const frame = await buildSigned(signer, seed.frame.type, to, payload as never);
      return frame as unknown as Record<string, unknown>;
    } catch {
      return null; // not canonicalisable (a non-integer number): it could never verify
    }
  }

  /** Frame i of the run. */
  frame(i: number): Planned {
    const { m, link, kind } = this.#start(i);
    const seed = m.pick(this.#seeds[link]);
    const fresh = { ...seed.frame, ts: Date.now() };
    const planned = (kind: string, text: string) => ({ link, kind, text });
    switch (kind) {
      case "valid":
        return planned(kind, JSON.stringify(fresh));
      case "envelope":
        return planned(kind, JSON.stringify(mutateEnvelope(m, this.#pools, seed.frame)));
      case "structure":
        return planned(kind, JSON.stringify(m.mutateValue(fresh)));
      case "bytes":
        return planned(kind, m.mutateText(JSON.stringify(fresh)));
      case "random":
        return planned(kind, m.randomText());
    }
    const signed = this.#signed[link];
    if (signed.length === 0) return planned("valid", JSON.stringify(fresh));
    const used = this.#used[link]++;
    if (used < signed.length) return planned("resign", JSON.stringify(signed[used]));
    return planned("replay", JSON.stringify({ ...m.pick(signed), ts: Date.now() }));
  }
}
