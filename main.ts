/**
 * Entry point: options → site → session manager → Hono app → `Deno.serve`; signals shut the
 * server down gracefully.
 *
 * @module
 */
import { ConfigError, helpText, parseConfig } from "./src/config.ts";
import { startServer } from "./src/server/start.ts";

if (import.meta.main) {
  let config;
  try {
    config = parseConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Error: ${error.message}`);
    Deno.exit(2);
  }
  if (config === "help") {
    console.log(helpText());
    Deno.exit(0);
  }
  const server = await startServer(config);
  const stop = () => {
    server.shutdown().finally(() => Deno.exit(0));
    // Exit within 5 seconds whatever happens.
    setTimeout(() => Deno.exit(0), 5000);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Some platforms do not deliver this signal.
    }
  }
}
