/**
 * The session server as the benchmarks run it: `startServer` with the same options as `main.ts`,
 * plus a control channel on stdin for the harness. Each stdin line is a command and each answer
 * is one JSON line on stdout:
 *
 * - at start: `{"port": N}`;
 * - `mem`: `{"heapUsed", "rss", "sessions", "connections"}` after a forced collection (run with
 *   `--v8-flags=--expose-gc`);
 * - `quit`: shuts down and exits.
 *
 * @module
 */
import { ConfigError } from "../src/config.ts";
import { parseConfig } from "../src/config_parse.ts";
import { startServer } from "../src/server/start.ts";
import { memoryAfterGc } from "./stats.ts";

/**
 * Flags every benchmark server gets on top of its own: the load clients click back to back
 * (thousands of frames a second, past the default 1,000 per connection and 1 MiB per second)
 * and open every session from one address (past the default rate of new sessions per address).
 */
export const LOAD_FLAGS: readonly string[] = [
  "--log-level",
  "error",
  "--max-frames-per-second",
  "1000000",
  "--max-bytes-per-second",
  "1g",
  "--sessions-per-minute",
  "1000000",
];

if (import.meta.main) {
  let config;
  try {
    config = parseConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Error: ${error.message}`);
    Deno.exit(2);
  }
  if (typeof config !== "object") Deno.exit(2);
  const server = await startServer(config);
  console.log(JSON.stringify({ port: server.port }));
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Deno.stdin.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const command = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (command === "mem") {
        const memory = await memoryAfterGc();
        console.log(JSON.stringify({
          ...memory,
          sessions: server.manager.sessionCount,
          connections: server.manager.connectionCount,
        }));
      } else if (command === "quit") {
        await server.shutdown();
        Deno.exit(0);
      }
    }
  }
  await server.shutdown();
}
