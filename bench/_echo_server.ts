// A bare TLS WebSocket echo server: the transport ceiling the socp servers
// are compared with. Prints {"port":N} once listening. Args: CERT KEY.

const [certFile, keyFile] = Deno.args;
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  cert: Deno.readTextFileSync(certFile),
  key: Deno.readTextFileSync(keyFile),
  onListen: ({ port }) => console.log(JSON.stringify({ port })),
}, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onmessage = (event) => socket.send(event.data);
  return response;
});
// Exit at once: a graceful shutdown waits about 15 s for hundreds of idle connections.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
await server.finished;
