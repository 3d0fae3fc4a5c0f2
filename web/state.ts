/**
 * What the web client shows, as plain data: people, one conversation per
 * user plus `#public`, unread counts, transfers and the connection status.
 * Client events go in ({@linkcode ChatState.apply}); the view reads the
 * state and redraws. No DOM here, so it is tested under `deno test`.
 *
 * @module
 */

import type { ClientEvent, UserListing } from "../client/events.ts";

/** The key of the public conversation. */
export const PUBLIC = "#public";
/** Messages kept per conversation (older ones are dropped from view). */
export const MAX_MESSAGES = 500;

/** A file in a conversation, sent or received. */
export interface FileEntry {
  /** Local id of the transfer (the protocol's file id for received files). */
  id: string;
  name: string;
  size: number;
  /** Bytes sent or received so far. */
  done: number;
  direction: "in" | "out";
  /** Where to download it from (received files, after their checks). */
  url?: string;
  /** Hex SHA-256 (received files, checked). */
  sha256?: string;
  /** Why it failed, if it did. */
  failed?: string;
  /** Sent files: the server confirmed it took the whole file. */
  confirmed?: boolean;
}

/** One line of a conversation. */
export interface ChatMessage {
  /** Sender's user id; "" for notices. */
  from: string;
  fromName: string;
  own: boolean;
  /** Milliseconds since the epoch. */
  ts: number;
  /** The text, or null when it failed verification (never shown then). */
  text: string | null;
  verified: boolean;
  warning?: string;
  file?: FileEntry;
  /** A notice from the client itself (errors, presence). */
  notice?: boolean;
  /** It waited on the recipient's home server while we were away (offline delivery). */
  later?: boolean;
}

/** A conversation. */
export interface Conversation {
  messages: ChatMessage[];
  unread: number;
}

/** Someone this client has seen. */
export interface Person {
  userId: string;
  name: string;
  serverId: string;
  online: boolean;
  /** Hex SHA-256 of the key, when known. */
  fingerprint?: string;
  /** Another key was offered for this id (and refused). */
  keyChanged: boolean;
}

/** Connection status, as the footer shows it. */
export type Status =
  | { kind: "connecting"; detail: string }
  | { kind: "online"; detail: string }
  | { kind: "offline"; detail: string; retryInMs?: number };

const toMs = (ts: number) => (ts < 1e11 ? ts * 1000 : ts);

/** The state of one signed-in web client. */
export class ChatState {
  /** The signed-in user's id. */
  readonly selfId: string;
  readonly people: Map<string, Person> = new Map();
  readonly conversations: Map<string, Conversation> = new Map([[PUBLIC, {
    messages: [],
    unread: 0,
  }]]);
  status: Status = { kind: "connecting", detail: "connecting…" };
  /** The conversation on screen. */
  active: string = PUBLIC;
  readonly #listeners = new Set<() => void>();
  readonly #now: () => number;

  /** State for `selfId`; `now` is the clock of notices and own messages. */
  constructor(selfId: string, now: () => number = Date.now) {
    this.selfId = selfId;
    this.#now = now;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  /** The conversation with `key` (a user id or {@linkcode PUBLIC}), created when new. */
  conversation(key: string): Conversation {
    let c = this.conversations.get(key);
    if (!c) this.conversations.set(key, c = { messages: [], unread: 0 });
    return c;
  }

  #add(key: string, message: ChatMessage): void {
    const c = this.conversation(key);
    c.messages.push(message);
    if (c.messages.length > MAX_MESSAGES) c.messages.splice(0, c.messages.length - MAX_MESSAGES);
    if (key !== this.active && !message.own && !message.notice) c.unread++;
  }

  /** Shows conversation `key` and clears its unread count. */
  open(key: string): void {
    this.active = key;
    this.conversation(key).unread = 0;
    this.#changed();
  }

  /**
   * How a person is named on screen: the display name, with the short id
   * when someone else online (or ourselves) shares the name.
   */
  label(userId: string): string {
    if (userId === PUBLIC) return PUBLIC;
    const person = this.people.get(userId);
    const name = person?.name ?? userId.slice(0, 8);
    const shared = [...this.people.values()].some((p) =>
      p.userId !== userId && p.online && p.name === name
    );
    return shared ? `${name} (${userId.slice(0, 8)})` : name;
  }

  /** Online people, by name then id (ourselves excluded). */
  online(): Person[] {
    return [...this.people.values()].filter((p) => p.online && p.userId !== this.selfId)
      .sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  }

  /** Records what we sent (the SDK does not echo own messages). */
  sent(key: string, text: string): void {
    this.#add(key, {
      from: this.selfId,
      fromName: "you",
      own: true,
      ts: this.#now(),
      text,
      verified: true,
    });
    this.#changed();
  }

  /** A notice in conversation `key` (the active one by default). */
  notice(text: string, key: string = this.active): void {
    this.#notice(key, text);
    this.#changed();
  }

  #notice(key: string, text: string): void {
    this.#add(key, {
      from: "",
      fromName: "",
      own: false,
      ts: this.#now(),
      text,
      verified: true,
      notice: true,
    });
  }

  /** Starts showing an upload to `key`; returns its entry, updated by {@linkcode ChatState.uploaded}. */
  upload(key: string, name: string, size: number): FileEntry {
    const file: FileEntry = { id: crypto.randomUUID(), name, size, done: 0, direction: "out" };
    this.#add(key, {
      from: this.selfId,
      fromName: "you",
      own: true,
      ts: this.#now(),
      text: null,
      verified: true,
      file,
    });
    this.#changed();
    return file;
  }

  /** Progress of an upload, its failure, or (`"confirmed"`) its end. */
  uploaded(file: FileEntry, done: number, outcome?: { failed: string } | "confirmed"): void {
    file.done = done;
    if (outcome === "confirmed") file.confirmed = true;
    else if (outcome) file.failed = outcome.failed;
    this.#changed();
  }

  /** Sets the known fingerprint of a person's key. */
  keyOf(userId: string, fingerprint: string): void {
    const person = this.people.get(userId);
    if (!person || person.fingerprint === fingerprint) return;
    person.fingerprint = fingerprint;
    this.#changed();
  }

  #person(userId: string, name: string, serverId: string, online: boolean): Person {
    const known = this.people.get(userId);
    const person: Person = {
      userId,
      name,
      serverId,
      online,
      fingerprint: known?.fingerprint,
      keyChanged: known?.keyChanged ?? false,
    };
    this.people.set(userId, person);
    return person;
  }

  #listed(users: UserListing[]): void {
    const listed = new Set(users.map((u) => u.user_id));
    for (const p of this.people.values()) if (!listed.has(p.userId)) p.online = false;
    for (const u of users) {
      const p = this.#person(u.user_id, u.display_name, u.server_id, true);
      if (u.fingerprint) p.fingerprint = u.fingerprint;
    }
  }

  /** The line of an incoming file (made at its first event), in its conversation. */
  #incoming(
    e: { fileId: string; from: string; fromName: string; name: string; mode: "dm" | "public" },
    size: number,
  ): { file: FileEntry; message: ChatMessage } {
    const key = e.mode === "public" ? PUBLIC : e.from;
    const found = this.conversations.get(key)?.messages.findLast((m) =>
      m.file?.id === e.fileId && m.file.direction === "in"
    );
    if (found) return { file: found.file!, message: found };
    const file: FileEntry = { id: e.fileId, name: e.name, size, done: 0, direction: "in" };
    const message: ChatMessage = {
      from: e.from,
      fromName: e.fromName,
      own: false,
      ts: this.#now(),
      text: null,
      verified: false,
      file,
    };
    this.#add(key, message);
    return { file, message };
  }

  /** Takes one client event. */
  apply(e: ClientEvent): void {
    switch (e.type) {
      case "ready":
        this.status = { kind: "online", detail: `connected to ${e.server}` };
        break;
      case "disconnected":
        for (const p of this.people.values()) p.online = false;
        this.status = { kind: "offline", detail: e.reason, retryInMs: e.retryInMs };
        break;
      case "users":
        this.#listed(e.users);
        break;
      case "presence":
        this.#person(e.userId, e.displayName, e.serverId, e.online);
        break;
      case "key-change": {
        const p = this.people.get(e.userId) ??
          this.#person(e.userId, e.displayName, "", false);
        p.keyChanged = true;
        p.fingerprint = e.fingerprint;
        this.#notice(
          e.userId,
          `${e.displayName} offered a different key (${e.offered.slice(0, 16)}…); the first key (${
            e.fingerprint.slice(0, 16)
          }…) is kept`,
        );
        break;
      }
      case "dm":
      case "public":
        this.#add(e.type === "dm" ? e.from : PUBLIC, {
          from: e.from,
          fromName: e.fromName,
          own: false,
          ts: toMs(e.ts),
          text: e.text,
          verified: e.verified && e.text !== null,
          warning: e.warning,
          ...(e.type === "dm" && e.queuedAt !== undefined ? { later: true } : {}),
        });
        break;
      case "queued":
        this.#notice(e.to, `${this.label(e.to)} is offline: your message waits on their server`);
        break;
      case "receiving": {
        const { file } = this.#incoming(e, e.total);
        file.done = Math.max(file.done, e.received);
        break;
      }
      case "file": {
        const { file, message } = this.#incoming(e, e.size);
        Object.assign(file, { done: e.size, url: e.path, sha256: e.sha256, name: e.name });
        message.verified = e.verified;
        break;
      }
      case "error":
        this.#notice(this.active, `${e.code}: ${e.detail}`);
        break;
      case "whois":
      case "progress":
        return;
    }
    this.#changed();
  }
}
