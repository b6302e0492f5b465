/**
 * Entry point: options → site → session manager → Hono app → `Deno.serve`; SIGINT and SIGTERM
 * shut the server down gracefully (see `src/server/start.ts`).
 *
 * Exit codes: 0 after `--help`, `--version` or a graceful shutdown, 2 for a bad option or
 * environment variable (the message goes to stderr), 1 when shutdown overran its deadline, 130
 * or 143 when a second SIGINT or SIGTERM cut it short.
 *
 * @module
 */
import { ConfigError } from "./src/config.ts";
import { parseConfig } from "./src/config_parse.ts";
import { helpText } from "./src/help_text.ts";
import { handleSignals } from "./src/server/signals.ts";
import { VERSION } from "./src/server/server_core.ts";
import { startServer } from "./src/server/start.ts";
import { createLogger } from "./src/log.ts";

if (import.meta.main) {
  try {
    const notices: string[] = [];
    const config = parseConfig(Deno.args, (name) => Deno.env.get(name), (m) => notices.push(m));
    if (config === "help") {
      console.log(helpText());
      Deno.exit(0);
    }
    if (config === "version") {
      console.log(`Lua UI session server ${VERSION}`);
      Deno.exit(0);
    }
    const log = createLogger({ level: config.logLevel });
    for (const notice of notices) log.warn(notice);
    const server = await startServer(config, { log });
    handleSignals(server, { log });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Error: ${error.message}`);
    console.error("Run with --help to see every option.");
    Deno.exit(2);
  }
}
