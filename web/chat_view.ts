/**
 * The chat screen: people and conversations on the left, the conversation
 * on screen with its messages and files, the compose line, and the status
 * footer. It redraws from {@linkcode ChatState} at most once per 16 ms and
 * keeps keyboard focus on the item that had it.
 *
 * @module
 */

import { actionOf, formatBytes } from "../client/render.ts";
import { byId, h } from "./_dom.ts";
import type { ChatSession } from "./session.ts";
import { type ChatMessage, type ChatState, type FileEntry, type Person, PUBLIC } from "./state.ts";

const short = (id: string) => id.slice(0, 8);
const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

function fileView(file: FileEntry): HTMLElement {
  const verb = file.direction === "out" ? "sending" : "receiving";
  const label = `${file.name}, ${formatBytes(file.size)}`;
  return h(
    "span",
    { class: "file" },
    h("span", { class: "file-name" }, `📎 ${label}`),
    file.failed
      ? h("span", { class: "refused" }, ` failed: ${file.failed}`)
      : file.url
      ? h("a", { href: file.url, download: file.name, class: "download" }, " Download")
      : file.confirmed
      ? h("span", { class: "done" }, " sent")
      : h("progress", {
        max: Math.max(file.size, 1),
        value: file.done,
        "aria-label": `${verb} ${file.name}`,
      }),
    file.sha256 ? h("span", { class: "sha" }, ` sha256 ${file.sha256.slice(0, 16)}…`) : null,
  );
}

function messageView(m: ChatMessage): HTMLElement {
  const time = h("time", { datetime: new Date(m.ts).toISOString() }, clock(m.ts));
  if (m.notice) return h("li", { class: "notice" }, time, " ", m.text ?? "");
  const mark = m.own
    ? null
    : m.verified
    ? h("span", { class: "ok", title: "signature verified", "aria-label": "verified" }, " ✓")
    : h(
      "span",
      { class: "warn", title: m.warning ?? "not verified", "aria-label": "unverified" },
      " ⚠",
    );
  const action = actionOf(m.text);
  const content = m.file
    ? fileView(m.file)
    : m.text === null
    ? h("span", { class: "refused" }, `✗ not shown: ${m.warning ?? "failed verification"}`)
    : h("span", { class: "text" }, action ?? m.text);
  return h(
    "li",
    { class: m.own ? "own" : "" },
    time,
    " ",
    action !== null ? "* " : null,
    h("span", { class: "from" }, m.own ? "you" : m.fromName),
    " ",
    content,
    mark,
    m.later
      ? h("span", { class: "later", title: "it waited while you were away" }, " (delivered later)")
      : null,
  );
}

function personButton(state: ChatState, key: string, p?: Person): HTMLElement {
  const unread = state.conversation(key).unread;
  const current = state.active === key;
  const details = p
    ? h(
      "span",
      { class: "details" },
      `${short(p.userId)} · server ${short(p.serverId)} · key ${
        p.fingerprint ? p.fingerprint.slice(0, 16) : "?"
      }`,
      p.keyChanged
        ? h("span", { class: "warn", title: "another key was offered" }, " ⚠ key")
        : null,
    )
    : null;
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        "data-key": key,
        "aria-current": current ? "true" : undefined,
        "aria-label": `${state.label(key)}${unread ? `, ${unread} unread` : ""}${
          p?.keyChanged ? ", key changed" : ""
        }`,
      },
      h("span", { class: "name" }, state.label(key)),
      unread ? h("span", { class: "unread", "aria-hidden": "true" }, String(unread)) : null,
      details,
    ),
  );
}

/** Draws the chat of `session` into the page's chat elements and wires its controls. */
export function mountChat(session: ChatSession, onSignOut: () => void): () => void {
  const state = session.state;
  const people = byId<HTMLUListElement>("people");
  const title = byId<HTMLHeadingElement>("title");
  const about = byId<HTMLParagraphElement>("about");
  const messages = byId<HTMLOListElement>("messages");
  const form = byId<HTMLFormElement>("compose");
  const text = byId<HTMLInputElement>("text");
  const attach = byId<HTMLInputElement>("attach");
  const status = byId<HTMLElement>("status");
  const pane = byId<HTMLElement>("conversation");
  let scheduled = false;

  const draw = () => {
    scheduled = false;
    const focusedKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
    const keys = [PUBLIC, ...state.online().map((p) => p.userId)];
    // A conversation with someone who went offline stays listed while it is on screen or unread.
    for (const [key, c] of state.conversations) {
      if (!keys.includes(key) && (key === state.active || c.unread > 0)) keys.push(key);
    }
    people.replaceChildren(
      ...keys.map((key) => personButton(state, key, state.people.get(key))),
    );
    if (focusedKey) {
      people.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
    }
    const active = state.people.get(state.active);
    title.textContent = state.label(state.active);
    about.textContent = active
      ? `${active.online ? "online" : "offline"} · id ${active.userId} · server ${
        short(active.serverId)
      } · key ${active.fingerprint ?? "not known yet"}${
        active.keyChanged ? " · WARNING: another key was offered for this id" : ""
      }`
      : state.active === PUBLIC
      ? "everyone on the mesh; messages are encrypted under the channel key"
      : "";
    const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
    messages.replaceChildren(...state.conversation(state.active).messages.map(messageView));
    if (atBottom) messages.scrollTop = messages.scrollHeight;
    text.setAttribute("aria-label", `Message to ${state.label(state.active)}`);
    const s = state.status;
    status.textContent = s.kind === "offline" && s.retryInMs !== undefined
      ? `offline: ${s.detail}; reconnecting in ${Math.round(s.retryInMs / 1000)} s`
      : `${s.kind}: ${s.detail}`;
    status.dataset.kind = s.kind;
    const unread = [...state.conversations.values()].reduce((n, c) => n + c.unread, 0);
    document.title = unread ? `(${unread}) socp` : "socp";
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // A timer, not requestAnimationFrame: a background tab must still update its title.
    setTimeout(draw, 16);
  };

  const off = state.onChange(schedule);
  const onPick = (e: Event) => {
    const key = (e.target as HTMLElement).closest<HTMLElement>("[data-key]")?.dataset.key;
    if (key) session.open(key);
  };
  const onSend = async (e: Event) => {
    e.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    if (await session.send(value)) text.value = "";
  };
  const onAttach = () => {
    for (const file of attach.files ?? []) session.sendFile(file);
    attach.value = "";
  };
  const onDragOver = (e: DragEvent) => {
    e.preventDefault();
    pane.classList.add("dropping");
  };
  const onDragLeave = () => pane.classList.remove("dropping");
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    pane.classList.remove("dropping");
    for (const file of e.dataTransfer?.files ?? []) session.sendFile(file);
  };
  const wiring: [EventTarget, string, EventListener][] = [
    [people, "click", onPick],
    [form, "submit", onSend],
    [attach, "change", onAttach],
    [pane, "dragover", onDragOver as EventListener],
    [pane, "dragleave", onDragLeave],
    [pane, "drop", onDrop as EventListener],
    [byId("sign-out"), "click", onSignOut],
  ];
  for (const [target, type, listener] of wiring) target.addEventListener(type, listener);
  byId("me").textContent = `${session.client.identity.id.slice(0, 8)}`;
  draw();
  text.focus();
  return () => {
    off();
    for (const [target, type, listener] of wiring) target.removeEventListener(type, listener);
  };
}
