/**
 * socp: a Deno-native toolkit for the Secure Overlay Chat Protocol (SOCP
 * v1.3). This module is the public library API: the pure wire protocol
 * (canonical JSON, keys, signatures, encryption, frame parsing and building),
 * usable unchanged in Deno and in the browser.
 *
 * @example Sign and verify a payload
 * ```ts
 * import { generateKeyPair, signPayload, verifyPayload } from "./mod.ts";
 * const server = await generateKeyPair();
 * const payload = { user_id: crypto.randomUUID(), server_id: crypto.randomUUID() };
 * const sig = await signPayload(server.privateKey, payload);
 * console.log(await verifyPayload(server.publicKey, payload, sig)); // true
 * ```
 *
 * @example Parse a frame from the wire
 * ```ts
 * import { ErrorCode, parseFrame } from "./mod.ts";
 * const result = parseFrame('{"type":"NOPE","from":"a","to":"b","ts":1,"payload":{}}');
 * if (!result.ok) console.log(result.error.code === ErrorCode.UNKNOWN_TYPE); // true
 * ```
 *
 * @module
 */

export { decodeBase64url, encodeBase64url, encodeBase64urlText } from "./protocol/base64url.ts";
export { sha256, sha256Hex, toHex } from "./protocol/hash.ts";
export {
  CanonicalError,
  canonicalJson,
  type CanonicalOptions,
  compareCodePoints,
  hasNonAscii,
} from "./protocol/canonical.ts";
export {
  ErrorCode,
  type ProtocolError,
  protocolError,
  SocpError,
  STANDARD_CODES,
  toStandardCode,
} from "./protocol/errors.ts";
export * from "./protocol/limits.ts";
export { CONTROL_CHARS, displayName, MAX_DISPLAY_NAME, stripControls } from "./protocol/display.ts";
export { displayTime, isHostPort, isPeerId, isUuidV4, newId, nowMs } from "./protocol/ids.ts";
export {
  exportPrivateKey,
  exportPublicKey,
  fingerprint,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  type KeyFormat,
  type KeyPair,
  type ParsedKey,
  parsePublicKey,
  type PrivateKey,
  PublicKey,
  RSA_EXPONENT,
  RSA_MODULUS_BITS,
} from "./protocol/keys.ts";
export {
  decodeSignature,
  decryptWith,
  encryptFor,
  type RsaOpStats,
  rsaStats,
  signBytes,
  verifyBytes,
} from "./protocol/rsa.ts";
export {
  AES_IV_BYTES,
  AES_KEY_BYTES,
  AES_TAG_BYTES,
  aesGcmDecrypt,
  aesGcmEncrypt,
  type AesKey,
  generateAesKey,
  importAesKey,
} from "./protocol/aes.ts";
export { signFrame, signPayload, verifyFrame, verifyPayload } from "./protocol/transport_sig.ts";
export {
  dmContentSig,
  type DmSigFields,
  dmSigFieldsOf,
  keyShareContentSig,
  type KeyShareSigFields,
  publicContentSig,
  type PublicSigFields,
  publicSigFieldsOf,
  verifyDmContentSig,
  verifyKeyShareContentSig,
  verifyPublicContentSig,
} from "./protocol/content_sig.ts";
export * from "./protocol/types.ts";
export { PAYLOAD_CHECKS, validatePayload } from "./protocol/payloads.ts";
export type { Check, CheckContext } from "./protocol/_schema.ts";
export {
  type FrameAcceptance,
  type FrameRejection,
  parseFrame,
  type ParseOptions,
  type ParseResult,
  validateEnvelope,
} from "./protocol/frame.ts";
export {
  buildError,
  buildKeyShare,
  buildMsgDirect,
  buildMsgPublic,
  buildServerDeliver,
  buildSigned,
  buildUserDeliver,
  buildUserHello,
  CLIENT_NAME,
  type Identity,
  makeFrame,
  type UserHelloOptions,
} from "./protocol/builders.ts";
export { msgRef, seenKey } from "./protocol/dedup.ts";
export { signPresenceProof, verifyPresenceProof } from "./protocol/presence_proof.ts";
export {
  buildMerkleTree,
  leafHash,
  MAX_PROOF_LENGTH,
  merkleProof,
  merkleRootOf,
} from "./protocol/merkle.ts";
export { buildChannelKeyFrames, CHANNEL_KEY_CAP, openChannelKey } from "./protocol/channel_key.ts";
