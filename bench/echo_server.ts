/**
 * The round-trip baseline: a bare Deno WebSocket server (`Deno.serve` and `upgradeWebSocket`)
 * that sends every text frame straight back. Prints `{"port": N}` on stdout once listening and
 * exits when stdin closes or reads `quit`.
 *
 * @module
 */

if (import.meta.main) {
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => listening.resolve(port),
  }, (request) => {
    if ((request.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
      return new Response("ok");
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (event) => socket.send(event.data);
    socket.onerror = () => {};
    return response;
  });
  console.log(JSON.stringify({ port: await listening.promise }));
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    if (decoder.decode(chunk).includes("quit")) break;
  }
  await server.shutdown();
}
