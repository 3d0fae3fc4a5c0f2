// Who a command means: a name, id or id prefix resolved to an online user,
// with clear errors for the unknown, the ambiguous and oneself.

import { ErrorCode, SocpError } from "../protocol/errors.ts";
import type { Identity } from "../protocol/builders.ts";
import { isUuidV4 } from "../protocol/ids.ts";
import type { Contact, Directory, Listing } from "./directory.ts";

/** Resolves `target` in `directory`, or throws USER_NOT_FOUND saying why. */
export function resolveTarget(directory: Directory, target: string): Listing {
  const found = directory.resolve(target);
  if (found.ok) return found.contact;
  if (found.reason === "ambiguous") {
    const ids = found.candidates.map((c) => `${c.name} (${c.userId.slice(0, 8)})`).join(", ");
    throw new SocpError(
      ErrorCode.USER_NOT_FOUND,
      `"${target}" is ambiguous: ${ids}; use an id prefix`,
    );
  }
  throw new SocpError(ErrorCode.USER_NOT_FOUND, `no online user "${target}"`);
}

/** The contact `target` names (never ourselves), with its key looked up when needed. */
export async function recipientOf(
  client: {
    identity: Identity;
    directory: Directory;
    contact(userId: string): Promise<Contact | undefined>;
  },
  target: string,
  displayName: string,
): Promise<Contact> {
  // Our own name is not in the directory unless someone else has it too.
  const self = target === client.identity.id || target === displayName;
  let listing: Listing | undefined;
  try {
    listing = resolveTarget(client.directory, target);
  } catch (e) {
    // A full user id of someone offline: a DM may wait for them (offline delivery).
    const offline = isUuidV4(target) && !self
      ? await client.contact(target.toLowerCase())
      : undefined;
    if (offline) return offline;
    if (!self) throw e;
  }
  if (!listing || listing.userId === client.identity.id) {
    throw new SocpError(ErrorCode.BAD_REQUEST, `${target} is you: send to someone else`);
  }
  const contact = await client.contact(listing.userId);
  if (!contact) {
    throw new SocpError(ErrorCode.USER_NOT_FOUND, `${listing.name} is no longer online`);
  }
  return contact;
}
