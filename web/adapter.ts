/**
 * The browser side of the client SDK: WebSockets opened by the browser
 * (which checks the certificate) and received files kept as Blob URLs for
 * the user to download. The SDK and `protocol/` run unchanged on top.
 *
 * @module
 */

import type { ClientAdapter } from "../client/sdk.ts";

/** The `/ws` endpoint of the page's own origin (`wss:` under https, `ws:` under http). */
export function sameOriginSocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

/** Sockets and downloads for the SDK, in a browser (or any runtime with WebSocket and Blob URLs). */
export class BrowserAdapter implements ClientAdapter {
  readonly #urls = new Set<string>();

  /** Opens a WebSocket to `url`; rejects when it closes before opening. */
  connect(url: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(url);
      } catch (e) {
        return reject(e);
      }
      socket.onopen = () => {
        socket.onopen = socket.onerror = socket.onclose = null;
        resolve(socket);
      };
      socket.onerror = () => {};
      // Browsers say nothing about why a WebSocket failed (by design): name the address.
      socket.onclose = (e) =>
        reject(new Error(`cannot connect to ${url} (${e.code === 1006 ? "unreachable" : e.code})`));
    });
  }

  /**
   * Keeps a received file (already checked for size and SHA-256 by the SDK)
   * as a Blob URL; the URL is the "path" the `file` event carries.
   */
  saveFile(_name: string, bytes: Uint8Array): Promise<string> {
    const url = URL.createObjectURL(new Blob([bytes as BlobPart]));
    this.#urls.add(url);
    return Promise.resolve(url);
  }

  /** Releases every file kept (their download links stop working). */
  close(): void {
    for (const url of this.#urls) URL.revokeObjectURL(url);
    this.#urls.clear();
  }
}
