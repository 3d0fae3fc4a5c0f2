/**
 * The answer to our hello. A signed ACK names the server's key; the
 * advert-ACK welcome (ADVERT_ACK_CAP, docs/PROTOCOL.md 59) is an unsigned
 * ACK that carries our own advert, signed by the server, and is taken only
 * if that advert verifies under the server key the ACK names and is ours:
 * our id and key, at that server, with the presence proof of the hello we
 * just sent (so an old advert cannot be replayed as a welcome).
 *
 * @module
 */

import { ErrorCode, SocpError } from "../protocol/errors.ts";
import { parsePublicKey, type PublicKey } from "../protocol/keys.ts";
import { verifyFrame } from "../protocol/transport_sig.ts";
import type { Frame, FrameOf } from "../protocol/types.ts";
import { isRecord } from "../protocol/_schema.ts";

/** The server key a hello's ACK names (`key` unset if none), or why it is not taken. */
export async function welcomeAck(
  ack: FrameOf<"ACK">,
  hello: FrameOf<"USER_HELLO">,
): Promise<{ key?: PublicKey } | string> {
  const key = parsePublicKey(ack.payload.server_pub);
  if (ack.sig !== undefined) return key.ok ? { key: key.key } : {};
  return await advertAckProblem(ack, hello) ?? (key.ok ? { key: key.key } : {});
}

/** Waits for `answer`; after `ms`, gives up with TIMEOUT and calls `giveUp`. */
export async function answeredWithin(
  answer: Promise<void>,
  ms: number,
  giveUp: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unanswered = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new SocpError(
          ErrorCode.TIMEOUT,
          "the server did not answer the hello (a dialect server? see --server-dialect)",
        ),
      );
      giveUp();
    }, ms);
  });
  try {
    await Promise.race([answer, unanswered]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why an unsigned ACK is not a welcome for `hello`, or null when it is. */
async function advertAckProblem(
  ack: FrameOf<"ACK">,
  hello: FrameOf<"USER_HELLO">,
): Promise<string | null> {
  const key = parsePublicKey(ack.payload.server_pub);
  if (!key.ok) return "the welcome names no server key";
  const advert = ack.payload.advert as Frame | undefined;
  if (!advert || !isRecord(advert.payload)) return "an unsigned welcome without an advert";
  const p = advert.payload as Record<string, unknown>;
  const proof = hello.payload.presence;
  const ours = advert.type === "USER_ADVERTISE" && advert.from === ack.from &&
    p.user_id === hello.from && p.server_id === ack.from && p.pubkey === hello.payload.pubkey &&
    proof !== undefined && isRecord(p.presence) && p.presence.sig === proof.sig;
  if (!ours) return "the welcome's advert is not this hello's";
  return await verified(key.key, advert)
    ? null
    : "the welcome's advert is not signed by the server";
}

async function verified(key: PublicKey, frame: Frame): Promise<boolean> {
  try {
    return await verifyFrame(key, frame);
  } catch {
    return false;
  }
}
