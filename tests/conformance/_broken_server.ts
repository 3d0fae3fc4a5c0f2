// For the conformance suite's own tests: its keys from fixtures, and
// deliberately broken servers: a relay in front of a real socp server that
// changes what the server says (e.g. a USER_DELIVER's ts), and a "server"
// that answers nonsense.

import { encodeBase64url } from "../../protocol/base64url.ts";
import { exportPrivateKey } from "../../protocol/keys.ts";
import type { Frame } from "../../protocol/types.ts";
import { fixtureKeys } from "../_cluster.ts";

/** A key directory for the suite in `dir`, filled with fixture keys (no RSA generation in tests). */
export async function suiteKeys(dir: string): Promise<string> {
  const keys = `${dir}/conformance-keys`;
  await Deno.mkdir(keys, { recursive: true });
  for (let i = 0; i < 6; i++) {
    const der = await exportPrivateKey((await fixtureKeys(i)).privateKey);
    await Deno.writeTextFile(`${keys}/user-${i}.pkcs8`, encodeBase64url(der), { mode: 0o600 });
  }
  return keys;
}

/** A listener on 127.0.0.1 (plain ws://); stop it when done. */
export interface FakeServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Relays to `upstream` (wss://, trusting `caCert`), passing every frame the
 * server sends through `mutate` (null drops it).
 */
export function brokenRelay(
  upstream: string,
  caCert: string,
  mutate: (frame: Frame) => Frame | null,
): FakeServer {
  const client = Deno.createHttpClient({ caCerts: [caCert] });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    const early: string[] = [];
    const up = new WebSocket(upstream, { client });
    socket.onmessage = (e) =>
      up.readyState === WebSocket.OPEN ? up.send(e.data) : early.push(e.data);
    up.onopen = () => early.splice(0).forEach((m) => up.send(m));
    up.onmessage = (e) => {
      const changed = mutate(JSON.parse(e.data));
      if (changed && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(changed));
    };
    up.onclose = () => socket.readyState <= WebSocket.OPEN && socket.close();
    socket.onclose = () => up.readyState <= WebSocket.OPEN && up.close();
    up.onerror = socket.onerror = () => {};
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    close: async () => {
      await server.shutdown();
      client.close();
    },
  };
}

/** A "server" that answers every message with nonsense: text, arrays, frames of no meaning. */
export function nonsenseServer(): FakeServer {
  const answers = [
    "not json at all",
    "[1,2,3]",
    JSON.stringify({ type: "ACK", from: "x", to: "y", ts: "soon", payload: { msg_ref: 7 } }),
    JSON.stringify({ type: "ERROR", payload: null }),
    "{}",
  ];
  let n = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = () => {
      socket.send(answers[n++ % answers.length]);
      socket.send(answers[n++ % answers.length]);
    };
    socket.onerror = () => {};
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    close: () => server.shutdown(),
  };
}
