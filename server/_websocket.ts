// Dialling a WebSocket with a handshake timeout, resolving once it is open.

/** Opens `url`, rejecting if the handshake fails or takes longer than `timeoutMs`. */
export function openWebSocket(
  url: string,
  client: Deno.HttpClient | undefined,
  timeoutMs: number,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = client ? new WebSocket(url, { client }) : new WebSocket(url);
    const timer = setTimeout(() => {
      socket.onclose = null;
      socket.close();
      reject(new Error(`handshake with ${url} timed out`));
    }, timeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onopen = socket.onclose = socket.onerror = null;
      resolve(socket);
    };
    socket.onerror = () => {}; // a close event follows
    socket.onclose = (event) => {
      clearTimeout(timer);
      reject(new Error(`handshake with ${url} refused (${event.code})`));
    };
  });
}
