/**
 * The public-channel keys a client holds (SOCP.md §7.4, §7.5): its own
 * wrapped key from PUBLIC_CHANNEL_UPDATED, PUBLIC_CHANNEL_KEY_SHARE (content
 * signature checked first) or the channel-key extension's PUBLIC_CHANNEL_KEY
 * (proof and server signature checked first), the 4 newest kept, the current
 * one chosen by the convergence rule of §7.3.
 *
 * @module
 */

import { aesGcmDecrypt } from "../protocol/aes.ts";
import { compareCodePoints } from "../protocol/canonical.ts";
import { openChannelKey } from "../protocol/channel_key.ts";
import { plausibleVersion } from "../protocol/channel_version.ts";
import { verifyKeyShareContentSig } from "../protocol/content_sig.ts";
import { parsePublicKey, type PrivateKey, type PublicKey } from "../protocol/keys.ts";
import { decryptWith } from "../protocol/rsa.ts";
import type { FrameOf } from "../protocol/types.ts";

/** One channel key and where it came from. */
export interface ChannelKey {
  /** The key's version (SOCP.md §7.3). */
  version: number;
  /** Id of the server (or user) that created it. */
  creator: string;
  /** The 32-byte AES-256 key. */
  key: Uint8Array;
  /** `"pem"`: our server says members read keys only as PEM, so `sender_pub` goes as PEM. */
  senderPubForm?: "pem";
}

const KEEP = 4;

/** Whether `a` is newer than `b` by §7.3: higher version, then lower creator id. */
function newer(a: ChannelKey, b: ChannelKey): boolean {
  return a.version !== b.version
    ? a.version > b.version
    : compareCodePoints(a.creator, b.creator) < 0;
}

/**
 * A client's channel keys.
 *
 * @example
 * ```ts
 * import { ChannelKeys } from "@socp/socp/client";
 * import { generateKeyPair } from "@socp/socp";
 * const me = await generateKeyPair();
 * const keys = new ChannelKeys(crypto.randomUUID(), me.privateKey);
 * keys.current(); // undefined until a key arrives
 * ```
 */
export class ChannelKeys {
  readonly #userId: string;
  readonly #privateKey: PrivateKey;
  #keys: ChannelKey[] = [];
  /** When the newest key was stored: how far a next version may plausibly jump. */
  #newestAt = 0;

  /** Keys of the user `userId`, unwrapped with `privateKey`. */
  constructor(userId: string, privateKey: PrivateKey) {
    this.#userId = userId;
    this.#privateKey = privateKey;
  }

  /** The key to send with: the newest by §7.3. */
  current(): ChannelKey | undefined {
    return this.#keys[0];
  }

  /** Keys held, newest first. */
  all(): readonly ChannelKey[] {
    return this.#keys;
  }

  #store(entry: ChannelKey): boolean {
    if (this.#keys.some((k) => k.version === entry.version && k.creator === entry.creator)) {
      return true;
    }
    const newest = this.#keys[0];
    const now = Date.now();
    // A version far beyond ours would win forever (docs/PROTOCOL.md decision 44).
    if (newest && !plausibleVersion(entry.version, newest.version, now - this.#newestAt)) {
      return false;
    }
    this.#keys = [...this.#keys, entry].sort((a, b) => (newer(a, b) ? -1 : newer(b, a) ? 1 : 0))
      .slice(0, KEEP);
    if (this.#keys[0] === entry) this.#newestAt = now;
    return true;
  }

  /** Takes our key from a PUBLIC_CHANNEL_UPDATED. Returns whether one was stored. */
  async fromUpdated(frame: FrameOf<"PUBLIC_CHANNEL_UPDATED">): Promise<boolean> {
    const mine = frame.payload.wraps.find((w) => w.member_id === this.#userId);
    const key = mine && await decryptWith(this.#privateKey, mine.wrapped_key);
    if (!key || key.length !== 32) return false;
    return this.#store({ version: frame.payload.version, creator: frame.from, key });
  }

  /**
   * Takes our key from a PUBLIC_CHANNEL_KEY (channel-key extension) after
   * checking its Merkle proof and root signature against our server's key.
   * Returns whether one was stored.
   */
  async fromChannelKey(
    frame: FrameOf<"PUBLIC_CHANNEL_KEY">,
    serverKey: PublicKey | undefined,
  ): Promise<boolean> {
    if (!serverKey || frame.payload.member_id !== this.#userId) return false;
    const wrap = await openChannelKey(frame, serverKey);
    const key = wrap && await decryptWith(this.#privateKey, wrap.wrapped_key);
    if (!key || key.length !== 32) return false;
    const { version, creator, sender_pub_form: senderPubForm } = frame.payload;
    return this.#store({ version, creator, key, ...(senderPubForm ? { senderPubForm } : {}) });
  }

  /**
   * Takes our key from a PUBLIC_CHANNEL_KEY_SHARE after verifying its
   * content signature under `creator_pub`. Returns whether one was stored.
   */
  async fromKeyShare(frame: FrameOf<"PUBLIC_CHANNEL_KEY_SHARE">): Promise<boolean> {
    const p = frame.payload;
    const creator = parsePublicKey(p.creator_pub);
    if (!creator.ok) return false;
    if (
      !(await verifyKeyShareContentSig(
        creator.key,
        { shares: p.shares, creatorPub: p.creator_pub },
        p.content_sig,
      ))
    ) return false;
    const mine = p.shares.find((s) => s.member === this.#userId);
    const wrapped = mine?.wrapped_public_channel_key ?? mine?.wrapped;
    const key = wrapped && await decryptWith(this.#privateKey, wrapped);
    if (!key || key.length !== 32) return false;
    // Without `version`, take the UPDATED of the same creator with this key, else treat it as newest.
    const sameKey = this.#keys.find((k) =>
      k.creator === frame.from && k.key.every((b, i) => b === key[i])
    );
    const version = p.version ?? sameKey?.version ?? (this.#keys[0]?.version ?? 0) + 1;
    return this.#store({ version, creator: frame.from, key });
  }

  /**
   * Opens a public ciphertext: the key of `keyVersion`, then the current
   * key, then older ones (both IV layouts each), then RSA-OAEP with our own
   * key for the per-recipient dialect. Null if nothing opens it.
   */
  async open(
    ciphertext: string,
    keyVersion?: number,
    aad?: Uint8Array,
  ): Promise<Uint8Array | null> {
    const ordered = [
      ...this.#keys.filter((k) => k.version === keyVersion),
      ...this.#keys.filter((k) => k.version !== keyVersion),
    ];
    for (const { key } of ordered) {
      const plain = await aesGcmDecrypt(key, ciphertext, aad);
      if (plain) return plain;
    }
    return aad ? null : await decryptWith(this.#privateKey, ciphertext);
  }
}
