/**
 * `/whois`: who a name or id is, by the key this client holds for them.
 *
 * @module
 */

import { ErrorCode, SocpError } from "../protocol/errors.ts";
import type { ClientEvent } from "./events.ts";
import type { SocpClient } from "./sdk.ts";

/** The whois event for `target` (a display name or an id prefix), looked up if need be. */
export async function whois(
  client: SocpClient,
  target: string,
): Promise<Extract<ClientEvent, { type: "whois" }>> {
  const listing = client.resolve(target);
  const contact = await client.contact(listing.userId);
  if (!contact) throw new SocpError(ErrorCode.USER_NOT_FOUND, `no key known for ${listing.name}`);
  return {
    type: "whois",
    userId: contact.userId,
    displayName: contact.name,
    serverId: contact.serverId,
    online: client.directory.isOnline(contact.userId),
    fingerprint: contact.fingerprint,
    ...(contact.offeredFingerprint ? { offered: contact.offeredFingerprint } : {}),
  };
}
