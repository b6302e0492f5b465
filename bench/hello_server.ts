/**
 * The cold-start baseline: the smallest Deno HTTP server (`Deno.serve` on port 0 answering
 * `/healthz`), started the same way as the session server. Prints its address in the same form
 * as the server's log line and runs until it is killed.
 *
 * @module
 */

if (import.meta.main) {
  Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(`Serving on http://127.0.0.1:${port}/`),
  }, () => Response.json({ status: "ok" }));
}
