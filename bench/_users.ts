// Many bench users from the fixture key pool (TEST KEYS ONLY): identities,
// hellos signed ahead of the measured window, and connection helpers.

import { fixtureKeys } from "../tests/_cluster.ts";
import {
  ADVERT_ACK_CAP,
  buildUserHello,
  CHANNEL_KEY_CAP,
  type Identity,
  PRESENCE_LITE_CAP,
} from "../mod.ts";
import { FAST_FILES } from "../client/sdk.ts";
import { BenchSocket } from "./_socket.ts";

/** A user the benchmark drives. */
export interface BenchUser {
  identity: Identity;
  name: string;
  socket?: BenchSocket;
}

/** `count` users named `prefix0…`, keys taken round-robin from the pool starting at `firstKey`. */
export async function makeUsers(count: number, prefix: string, firstKey = 0): Promise<BenchUser[]> {
  return await Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      identity: { id: crypto.randomUUID(), keys: await fixtureKeys(firstKey + i) },
      name: `${prefix}${i}`,
    })),
  );
}

/** Runs `task` over `items` with at most `limit` at a time, in order of start. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i], i);
      }
    }),
  );
}

/** The capabilities the SDK client advertises by default. */
export const SDK_CAPS: readonly string[] = [
  FAST_FILES,
  CHANNEL_KEY_CAP,
  PRESENCE_LITE_CAP,
  ADVERT_ACK_CAP,
];

/**
 * Signed-fresh hello texts for `users`, signed `inFlight` at a time; `ts`
 * defaults to now and `caps` to the SDK's.
 */
export async function signHellos(
  users: readonly BenchUser[],
  options: { ts?: number; caps?: string[]; inFlight?: number } = {},
): Promise<string[]> {
  const hellos: string[] = new Array(users.length);
  await eachLimited(users, options.inFlight ?? 4, async (user, i) => {
    const meta = { display_name: user.name, caps: [...(options.caps ?? SDK_CAPS)] };
    // With a presence proof, as the SDK sends it: the server then welcomes with an advert ACK.
    hellos[i] = JSON.stringify(
      await buildUserHello(user.identity, { meta, ts: options.ts, proof: true }),
    );
  });
  return hellos;
}

/** Connects every user to `url` with a fresh hello, `inFlight` at a time. */
export async function connectUsers(
  users: readonly BenchUser[],
  url: string,
  client: Deno.HttpClient,
  inFlight = 4,
): Promise<void> {
  const hellos = await signHellos(users);
  await eachLimited(users, inFlight, async (user, i) => {
    user.socket = await BenchSocket.open(url, client);
    await user.socket.hello(hellos[i]);
  });
}

/** Closes every user's socket. */
export async function closeUsers(users: readonly BenchUser[]): Promise<void> {
  await Promise.all(users.map((u) => u.socket?.close()));
}
