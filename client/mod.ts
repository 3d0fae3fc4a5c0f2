/**
 * The socp client SDK: connect to a SOCP v1.3 server with a signed-fresh
 * hello, track who is online, send and receive end-to-end encrypted DMs,
 * public-channel messages and files, and reconnect with backoff. The SDK
 * ({@linkcode SocpClient}) reaches the platform only through a
 * {@linkcode ClientAdapter}; {@linkcode DenoAdapter} is the one for Deno.
 *
 * @example Connect and send a DM
 * ```ts
 * import { DenoAdapter, loadOrCreateIdentity, SocpClient } from "@socp/socp/client";
 *
 * // The identity file (.socp/identity.json, mode 0600) is made on first use.
 * const { identity } = await loadOrCreateIdentity(".socp", "correct horse", "Alice");
 * const adapter = new DenoAdapter({
 *   caCert: await Deno.readTextFile("certs/ca.pem"),
 *   downloadsDir: ".socp/downloads",
 * });
 * const client = new SocpClient({
 *   url: "wss://127.0.0.1:8443/ws",
 *   identity,
 *   displayName: "Alice",
 *   adapter,
 * });
 * client.events.on((event) => {
 *   if (event.type === "dm") console.log(`${event.fromName}: ${event.text}`);
 * });
 * await client.connect(); // resolves once the server accepts the hello
 * await client.sendDm("Bob", "hi Bob"); // a display name, a user id or an id prefix
 * await client.close();
 * adapter.close();
 * ```
 *
 * @module
 */

export { type ClientAdapter, type ClientOptions, FAST_FILES, SocpClient } from "./sdk.ts";
export {
  DenoAdapter,
  type DenoAdapterOptions,
  IDENTITY_FILE,
  loadOrCreateIdentity,
} from "./deno.ts";
export { type ClientEvent, EventHub, type UserListing } from "./events.ts";
export {
  type Contact,
  Directory,
  type DirectoryChange,
  type Listing,
  type Resolution,
} from "./directory.ts";
export { type ChannelKey, ChannelKeys } from "./channel_keys.ts";
export {
  DEFAULT_INCOMING_LIMITS,
  type IncomingLimits,
  IncomingTransfers,
  type ReceivedFile,
  type Refusal,
} from "./transfers.ts";
export type { ReceiveContext } from "./receive.ts";
export type { ServerDialect } from "./server_dialect.ts";
export { ConnectError, type ConnectFailure } from "./connect_errors.ts";
export { type KeystoreFile, openIdentity, PBKDF2_ITERATIONS, sealIdentity } from "./keystore.ts";
export type { Identity } from "../protocol/builders.ts";
