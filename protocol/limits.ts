/**
 * Size, count and time limits of the profile (SOCP.md §11). Servers and
 * clients read their defaults from here; configurable ones are overridden per
 * deployment.
 *
 * @module
 */

/** Limits whose defaults come from SOCP.md §11. */
export interface Limits {
  /** Largest inbound WebSocket text frame, in UTF-8 bytes. */
  maxFrameBytes: number;
  /** Frames senders keep under, because dialect libraries refuse larger ones. */
  sendFrameBytes: number;
  /** Deepest JSON nesting accepted. */
  maxJsonDepth: number;
  /** Milliseconds a new connection has to send its first frame. */
  firstFrameTimeoutMs: number;
  /** Milliseconds from TCP accept until a connection's HTTP request head has arrived (TLS included). */
  headerTimeoutMs: number;
  /** Allowed clock skew for `ts` and `auth_ts`, in milliseconds. */
  clockWindowMs: number;
  /** How long a hello nonce stays in the replay cache, in milliseconds. */
  helloReplayMs: number;
  /** First delay after repeated failed passwords for one user id or address (doubles each time). */
  passwordBackoffMs: number;
  /** Sustained frames per second on a user link. */
  userRatePerSec: number;
  /** Burst size of the user-link token bucket. */
  userBurst: number;
  /** Seconds of sustained excess after which a user link is closed. */
  userRateCloseSec: number;
  /** Sustained frames per second on a server link. */
  serverRatePerSec: number;
  /** Burst size of the server-link token bucket. */
  serverBurst: number;
  /** Invalid signatures per minute after which a server link is closed. */
  invalidSigsPerMinute: number;
  /** Outgoing ERROR frames per second per link. */
  errorsPerSec: number;
  /** Open connections per remote IP. */
  connectionsPerIp: number;
  /** Connections per remote IP that have not yet sent a first frame. */
  pendingConnectionsPerIp: number;
  /** Local users per server. */
  maxLocalUsers: number;
  /** Offline delivery: items queued for one recipient at most. */
  queueMessagesPerRecipient: number;
  /** Offline delivery: bytes queued for one recipient at most (files included). */
  queueBytesPerRecipient: number;
  /** Offline delivery: items one sender may have waiting in this server's queue. */
  queueMessagesPerSender: number;
  /** Offline delivery: bytes one sender may have waiting in this server's queue. */
  queueBytesPerSender: number;
  /** Offline delivery: how long a queued item is kept. */
  queueExpiryMs: number;
  /** `meta.display_name` length in characters. */
  maxDisplayName: number;
  /** Canonical size of `meta`, in bytes. */
  maxMetaBytes: number;
  /** Decoded size of a DM ciphertext, in bytes (exact). */
  dmCiphertextBytes: number;
  /** Plaintext bytes of a public-channel message. */
  maxPublicPlaintext: number;
  /** Characters of a public-channel AES-GCM blob. */
  maxPublicBlobChars: number;
  /** Plaintext bytes of one file. */
  maxFileBytes: number;
  /** Concurrent transfers per sending user. */
  transfersPerUser: number;
  /** Idle time after which a transfer is dropped, in milliseconds. */
  transferIdleMs: number;
  /** Chunks in one transfer. */
  maxChunks: number;
  /** Entries in any list field (`servers`, `clients`, `wraps`, `shares`, `add`, `users`). */
  maxListEntries: number;
  /** Entries of the duplicate-suppression cache. */
  seenIdsCap: number;
  /** Lifetime of a duplicate-suppression entry, in milliseconds. */
  seenIdsTtlMs: number;
  /** Interval between HEARTBEAT frames on a server link, in milliseconds. */
  heartbeatMs: number;
  /** Silence after which a server link is dead, in milliseconds. */
  linkTimeoutMs: number;
}

/**
 * The defaults of SOCP.md §11.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS } from "@socp/socp";
 * DEFAULT_LIMITS.maxFrameBytes; // 8 MiB
 * ```
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFrameBytes: 8 * 1024 * 1024,
  sendFrameBytes: 1024 * 1024,
  maxJsonDepth: 32,
  firstFrameTimeoutMs: 10_000,
  headerTimeoutMs: 10_000,
  clockWindowMs: 120_000,
  helloReplayMs: 240_000,
  passwordBackoffMs: 1000,
  userRatePerSec: 500,
  userBurst: 1000,
  userRateCloseSec: 10,
  serverRatePerSec: 5000,
  serverBurst: 10_000,
  invalidSigsPerMinute: 20,
  errorsPerSec: 1,
  connectionsPerIp: 32,
  pendingConnectionsPerIp: 8,
  maxLocalUsers: 10_000,
  queueMessagesPerRecipient: 500,
  queueBytesPerRecipient: 32 * 1024 * 1024,
  queueMessagesPerSender: 1000,
  queueBytesPerSender: 64 * 1024 * 1024,
  queueExpiryMs: 14 * 24 * 3600 * 1000,
  maxDisplayName: 64,
  maxMetaBytes: 4096,
  dmCiphertextBytes: 512,
  maxPublicPlaintext: 16 * 1024,
  maxPublicBlobChars: 22_000,
  maxFileBytes: 8 * 1024 * 1024,
  transfersPerUser: 4,
  transferIdleMs: 60_000,
  maxChunks: 65_536,
  maxListEntries: 10_000,
  seenIdsCap: 100_000,
  seenIdsTtlMs: 120_000,
  heartbeatMs: 15_000,
  linkTimeoutMs: 45_000,
});

/**
 * Largest RSA-OAEP plaintext for RSA-4096 with SHA-256 (SOCP.md §4.2).
 *
 * @example
 * ```ts
 * import { OAEP_MAX_PLAINTEXT } from "@socp/socp";
 * new TextEncoder().encode("hi").length <= OAEP_MAX_PLAINTEXT; // true
 * ```
 */
export const OAEP_MAX_PLAINTEXT = 446;
/**
 * PSS salt length used when signing (the maximum for RSA-4096/SHA-256).
 *
 * @example
 * ```ts
 * import { PSS_SALT_SIGN } from "@socp/socp";
 * PSS_SALT_SIGN; // 478
 * ```
 */
export const PSS_SALT_SIGN = 478;
/**
 * PSS salt lengths tried when verifying, in order.
 *
 * @example
 * ```ts
 * import { PSS_SALTS_VERIFY } from "@socp/socp";
 * PSS_SALTS_VERIFY; // [478, 32]
 * ```
 */
export const PSS_SALTS_VERIFY: readonly number[] = [478, 32];
/**
 * Bytes of an RSA-4096 signature or OAEP ciphertext.
 *
 * @example
 * ```ts
 * import { RSA_BYTES } from "@socp/socp";
 * RSA_BYTES; // 512
 * ```
 */
export const RSA_BYTES = 512;
/**
 * Plaintext bytes per chunk in `dm` file mode.
 *
 * @example
 * ```ts
 * import { DM_CHUNK_BYTES } from "@socp/socp";
 * Math.ceil(1000 / DM_CHUNK_BYTES); // 3 chunks for a 1000-byte file
 * ```
 */
export const DM_CHUNK_BYTES = 446;
/**
 * Plaintext bytes per chunk in `public` file mode (sending).
 *
 * @example
 * ```ts
 * import { PUBLIC_CHUNK_BYTES } from "@socp/socp";
 * Math.ceil(100_000 / PUBLIC_CHUNK_BYTES); // 7 chunks
 * ```
 */
export const PUBLIC_CHUNK_BYTES = 16_384;
/**
 * Largest accepted plaintext chunk in `public` file mode.
 *
 * @example
 * ```ts
 * import { MAX_PUBLIC_CHUNK_BYTES } from "@socp/socp";
 * MAX_PUBLIC_CHUNK_BYTES; // 65536
 * ```
 */
export const MAX_PUBLIC_CHUNK_BYTES = 65_536;
/**
 * Largest plaintext chunk in fast (AES-GCM) file mode.
 *
 * @example
 * ```ts
 * import { MAX_FAST_CHUNK_BYTES } from "@socp/socp";
 * MAX_FAST_CHUNK_BYTES; // 262144
 * ```
 */
export const MAX_FAST_CHUNK_BYTES = 262_144;
/**
 * Most user ids one USER_LOOKUP may ask for (presence-lite extension).
 *
 * @example
 * ```ts
 * import { MAX_LOOKUP_IDS } from "@socp/socp";
 * MAX_LOOKUP_IDS; // 64
 * ```
 */
export const MAX_LOOKUP_IDS = 64;
