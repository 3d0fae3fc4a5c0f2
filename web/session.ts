/**
 * One signed-in browser user: the SDK client on the page's own server,
 * connected with backoff until the server answers, feeding the chat state;
 * sending goes to the conversation on screen.
 *
 * @module
 */

import type { Identity } from "../protocol/builders.ts";
import { SocpClient } from "../client/sdk.ts";
import { BrowserAdapter } from "./adapter.ts";
import { ChatState, PUBLIC } from "./state.ts";

const BACKOFF_MS = [1000, 2000, 4000, 8000, 16000, 30000];
/** Keys looked up for the people list at most (more are looked up when opened). */
const KEY_LOOKUPS = 64;
const CHANNEL_KEY_WAIT_MS = 5000;

/** Options of {@linkcode ChatSession}. */
export interface SessionOptions {
  identity: Identity;
  displayName: string;
  /** The server's `/ws` endpoint. */
  url: string;
  /** The chat state to feed (its selfId must be the identity's). */
  state: ChatState;
}

/** A connected (or reconnecting) user. */
export class ChatSession {
  readonly client: SocpClient;
  readonly state: ChatState;
  readonly #adapter = new BrowserAdapter();
  readonly #looked = new Set<string>();
  #closed = false;
  #retry?: ReturnType<typeof setTimeout>;

  /** A session; call {@linkcode ChatSession.start}. */
  constructor(options: SessionOptions) {
    this.state = options.state;
    this.client = new SocpClient({
      url: options.url,
      identity: options.identity,
      displayName: options.displayName,
      adapter: this.#adapter,
    });
    this.client.events.on((e) => {
      this.state.apply(e);
      if (e.type === "ready") this.#refresh();
      if (e.type === "presence" && e.online) this.#lookUp(e.userId);
    });
  }

  /** Connects, retrying with backoff until the server accepts or the session is closed. */
  async start(attempt = 0): Promise<void> {
    if (this.#closed) return;
    try {
      await this.client.connect();
    } catch (e) {
      if (this.#closed) return;
      const code = (e as { code?: string }).code;
      // A refusal of this identity (its key or id) will not heal by waiting.
      if (code === "BAD_KEY" || code === "NAME_IN_USE" || code === "AUTH_FAILED") {
        this.state.status = { kind: "offline", detail: `refused: ${(e as Error).message}` };
        this.state.notice(`the server refused this identity: ${(e as Error).message}`, PUBLIC);
        return;
      }
      const retryInMs = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
      this.state.apply({ type: "disconnected", reason: (e as Error).message, retryInMs });
      this.#retry = setTimeout(() => this.start(attempt + 1), retryInMs);
    }
  }

  async #refresh(): Promise<void> {
    try {
      const users = await this.client.list();
      for (const u of users) this.#lookUp(u.user_id);
    } catch {
      // the list comes again with the next presence change or reconnect
    }
  }

  /** Learns a person's key fingerprint (once per session, a bounded number up front). */
  #lookUp(userId: string, force = false): void {
    if (this.#looked.has(userId) || (!force && this.#looked.size >= KEY_LOOKUPS)) return;
    this.#looked.add(userId);
    this.client.contact(userId).then((c) => {
      if (c) this.state.keyOf(userId, c.fingerprint);
      else this.#looked.delete(userId);
    }, () => this.#looked.delete(userId));
  }

  /** Shows conversation `key`, learning the person's key when not yet known. */
  open(key: string): void {
    this.state.open(key);
    if (key !== PUBLIC) this.#lookUp(key, true);
  }

  /** Sends `text` to the conversation on screen; a failure becomes a notice there. */
  async send(text: string): Promise<boolean> {
    const key = this.state.active;
    try {
      if (key === PUBLIC) {
        await this.#channelKey();
        await this.client.sendPublic(text);
      } else await this.client.sendDm(key, text);
      this.state.sent(key, text);
      return true;
    } catch (e) {
      this.state.notice(`not sent: ${(e as Error).message}`, key);
      return false;
    }
  }

  /** Waits a little for the public channel's key, which arrives just after connecting. */
  async #channelKey(): Promise<void> {
    for (let waited = 0; !this.client.channel.current() && waited < CHANNEL_KEY_WAIT_MS;) {
      await new Promise((r) => setTimeout(r, 100));
      waited += 100;
    }
  }

  /** Sends a file to the conversation on screen, with progress. */
  async sendFile(file: File): Promise<void> {
    const key = this.state.active;
    const entry = this.state.upload(key, file.name, file.size);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (key === PUBLIC) await this.#channelKey();
      await this.client.sendFile(
        key === PUBLIC ? "public" : key,
        file.name,
        bytes,
        (sent) => this.state.uploaded(entry, sent),
      );
      this.state.uploaded(entry, file.size, "confirmed");
    } catch (e) {
      this.state.uploaded(entry, entry.done, { failed: (e as Error).message });
    }
  }

  /** Disconnects for good and releases received files. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.client.close();
    this.#adapter.close();
  }
}
