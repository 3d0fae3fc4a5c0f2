/**
 * The sign-in screen: unlock a stored identity with its password, create a
 * new one, import an identity file from the terminal client, export or
 * forget one. An identity is open in one tab at a time (a Web Lock), since
 * the server takes one connection per user.
 *
 * @module
 */

import { openIdentity, sealIdentity } from "../client/keystore.ts";
import type { Identity } from "../protocol/builders.ts";
import { newId } from "../protocol/ids.ts";
import { generateKeyPair } from "../protocol/keys.ts";
import { byId, download, h } from "./_dom.ts";
import { parseIdentityFile } from "./identity_file.ts";
import type { IdentityStore } from "./identity_store.ts";

/** An unlocked identity, held by this tab until `release`. */
export interface Unlocked {
  identity: Identity;
  displayName: string;
  release: () => void;
}

/** Holds the tab lock of `userId`; null when another tab holds it. */
function holdIdentity(userId: string): Promise<(() => void) | null> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return Promise.resolve(() => {});
  return new Promise((resolve) => {
    locks.request(`socp-identity-${userId}`, { ifAvailable: true }, (lock) => {
      if (!lock) return resolve(null);
      return new Promise<void>((release) => resolve(() => release()));
    });
  });
}

/** Shows the sign-in screen; calls `onUnlocked` once an identity is open. */
export function mountLogin(store: IdentityStore, onUnlocked: (u: Unlocked) => void): void {
  const pick = byId<HTMLSelectElement>("identity");
  const unlockForm = byId<HTMLFormElement>("unlock");
  const unlockPassword = byId<HTMLInputElement>("unlock-password");
  const createForm = byId<HTMLFormElement>("create");
  const importInput = byId<HTMLInputElement>("import");
  const error = byId<HTMLParagraphElement>("login-error");
  const busy = byId<HTMLParagraphElement>("login-busy");
  let working = false;

  const say = (message: string, isError = true) => {
    error.textContent = isError ? message : "";
    busy.textContent = isError ? "" : message;
  };
  const refill = async (select?: string) => {
    const all = await store.list();
    pick.replaceChildren(
      ...all.map((f) =>
        h("option", { value: f.user_id }, `${f.name ?? "unnamed"} (${f.user_id.slice(0, 8)})`)
      ),
    );
    if (select) pick.value = select;
    byId("unlock-section").hidden = all.length === 0;
  };
  const run = async (what: string, job: () => Promise<void>) => {
    if (working) return;
    working = true;
    say(what, false);
    try {
      await job();
    } catch (e) {
      say((e as Error).message);
    } finally {
      working = false;
    }
  };
  const enter = async (identity: Identity, displayName: string) => {
    const release = await holdIdentity(identity.id);
    if (!release) throw new Error("this identity is open in another tab of this browser");
    say("", false);
    onUnlocked({ identity, displayName, release });
  };

  unlockForm.addEventListener("submit", (e) => {
    e.preventDefault();
    run("Unlocking…", async () => {
      const file = (await store.list()).find((f) => f.user_id === pick.value);
      if (!file) throw new Error("choose an identity");
      const password = unlockPassword.value;
      unlockPassword.value = "";
      try {
        await enter(
          await openIdentity(file, password),
          file.name ?? `user-${file.user_id.slice(0, 8)}`,
        );
      } catch (e) {
        unlockPassword.focus();
        throw e;
      }
    });
  });
  createForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = byId<HTMLInputElement>("new-name").value.trim();
    const first = byId<HTMLInputElement>("new-password");
    const repeat = byId<HTMLInputElement>("new-repeat");
    if (!name) return say("choose a display name");
    if (first.value === "") return say("choose a password: it protects your key");
    if (first.value !== repeat.value) {
      repeat.value = "";
      repeat.focus();
      return say("the passwords differ; type the repeat again");
    }
    const password = first.value;
    first.value = repeat.value = "";
    run("Generating an RSA-4096 key (a few seconds)…", async () => {
      const identity = { id: newId(), keys: await generateKeyPair() };
      await store.put(await sealIdentity(identity, password, name));
      await refill(identity.id);
      await enter(identity, name);
    });
  });
  importInput.addEventListener("change", () => {
    const file = importInput.files?.[0];
    importInput.value = "";
    if (!file) return;
    run("Importing…", async () => {
      const parsed = parseIdentityFile(await file.text());
      if (typeof parsed === "string") throw new Error(`${file.name}: ${parsed}`);
      await store.put(parsed);
      await refill(parsed.user_id);
      say(
        `Imported ${parsed.name ?? parsed.user_id.slice(0, 8)}: unlock it with its password`,
        false,
      );
      unlockPassword.focus();
    });
  });
  byId("export").addEventListener("click", () =>
    run("", async () => {
      const file = (await store.list()).find((f) => f.user_id === pick.value);
      if (!file) throw new Error("choose an identity");
      download(
        "identity.json",
        new Blob([JSON.stringify(file, null, 2) + "\n"], { type: "application/json" }),
      );
      say("Exported as identity.json (still encrypted under its password)", false);
    }));
  byId("forget").addEventListener("click", () =>
    run("", async () => {
      const id = pick.value;
      if (!id) throw new Error("choose an identity");
      if (!confirm("Forget this identity in this browser? Without an exported copy it is gone.")) {
        return say("", false);
      }
      await store.remove(id);
      await refill();
      say("Forgotten", false);
    }));
  refill().then(() => (byId("unlock-section").hidden ? byId("new-name") : unlockPassword).focus());
}
