/**
 * The web client's entry point: the sign-in screen, then the chat on the
 * server that served the page.
 *
 * @module
 */

import { byId } from "./_dom.ts";
import { sameOriginSocketUrl } from "./adapter.ts";
import { mountChat } from "./chat_view.ts";
import { IdentityStore } from "./identity_store.ts";
import { mountLogin, type Unlocked } from "./login_view.ts";
import { ChatSession } from "./session.ts";
import { ChatState } from "./state.ts";

const login = byId("login");
const chat = byId("chat");

function show(which: "login" | "chat"): void {
  login.hidden = which !== "login";
  chat.hidden = which !== "chat";
}

async function enterChat(u: Unlocked): Promise<void> {
  const session = new ChatSession({
    identity: u.identity,
    displayName: u.displayName,
    url: sameOriginSocketUrl(location),
    state: new ChatState(u.identity.id),
  });
  byId("me-name").textContent = u.displayName;
  show("chat");
  const unmount = mountChat(session, async () => {
    unmount();
    await session.close();
    u.release();
    // A fresh page forgets the unlocked key and every received file.
    location.reload();
  });
  await session.start();
}

try {
  const store = await IdentityStore.open(indexedDB);
  show("login");
  mountLogin(store, (u) => void enterChat(u));
} catch (e) {
  byId("login-error").textContent = `this browser cannot keep an identity: ${(e as Error).message}`;
  show("login");
}
