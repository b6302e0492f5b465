/**
 * Starts a server from a configuration: loads the site, makes the session manager and the app,
 * and serves it. Used by `main.ts` and by the tests, which serve on port 0.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { createLogger, type Logger } from "../log.ts";
import { SessionManager } from "../session/manager.ts";
import { type Hotload, watchSite } from "../site/hotload.ts";
import { EMBEDDED_SITE, loadSite } from "../site/site.ts";
import { createApp } from "./app.ts";
import { clientAssets } from "./client_assets.ts";

/** The version reported by `/healthz`. */
export const VERSION = "0.1.0";

/** A running server. */
export interface RunningServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  manager: SessionManager;
  /** The file watcher, with `--hotload`. */
  hotload: Hotload | undefined;
  /** Closes every socket with 1012, drops every session and stops listening. */
  shutdown(): Promise<void>;
}

/**
 * Starts serving.
 *
 * @example
 * ```ts
 * import { startServer } from "./start.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * const server = await startServer({ ...DEFAULT_CONFIG, port: 0 });
 * await server.shutdown();
 * ```
 */
export async function startServer(
  config: Config,
  options: { log?: Logger; flushDelayMs?: number } = {},
): Promise<RunningServer> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const site = await loadSite(config.dir ?? EMBEDDED_SITE);
  const manager = new SessionManager({ ...config, site, log, flushDelayMs: options.flushDelayMs });
  const app = createApp({ manager, site, log, version: VERSION, assets: clientAssets() });
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: ({ port }) => listening.resolve(port),
  }, app.fetch);
  const port = await listening.promise;
  const hotload = config.hotload
    ? watchSite({ site, sessions: () => manager.sessions(), log })
    : undefined;
  log.info(`Serving ${config.dir ?? "the embedded app"} on http://${config.host}:${port}/`);
  return {
    port,
    manager,
    hotload,
    async shutdown() {
      hotload?.close();
      manager.shutdown();
      await server.shutdown();
    },
  };
}
