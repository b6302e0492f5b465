/**
 * Starts a server from a configuration: makes a server core (site, store, session manager, app;
 * see `server_core.ts`) and serves it on a port. Used by `main.ts` and by the tests, which serve
 * on port 0.
 *
 * Also owns the graceful shutdown: stop taking requests, let queued Lua work finish, flush what
 * it produced, close every socket with 1012 (service restart, so clients reconnect), wait briefly
 * for the closing handshakes, cancel every timer and stop listening. `signals.ts` runs it on
 * SIGINT or SIGTERM.
 *
 * @module
 */
import { type Config, ConfigError } from "../config.ts";
import { createLogger, type Logger } from "../log.ts";
import type { SessionManager } from "../session/manager.ts";
import type { Hotload } from "../site/hotload.ts";
import { createCore } from "./server_core.ts";

/**
 * A running server.
 *
 * @example
 * ```ts
 * import { type RunningServer, startServer } from "./start.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * const server: RunningServer = await startServer({ ...DEFAULT_CONFIG, port: 0 });
 * console.log(server.port, server.manager.sessionCount);
 * await server.shutdown();
 * ```
 */
export interface RunningServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  manager: SessionManager;
  /** The file watcher, with `--hotload`. */
  hotload: Hotload | undefined;
  /** True once {@link shutdown} has begun. */
  readonly closing: boolean;
  /**
   * Stops taking requests (new ones get 503), lets queued Lua work finish and flushes it,
   * closes every socket with 1012, drops every session (cancelling its timers) and stops
   * listening. Safe to call more than once: every call returns the same promise.
   */
  shutdown(): Promise<void>;
}

/**
 * Options of {@link startServer}.
 *
 * @example
 * ```ts
 * import type { StartOptions } from "./start.ts";
 * import { silentLogger } from "../log.ts";
 * const options: StartOptions = { log: silentLogger, flushDelayMs: 1 };
 * ```
 */
export interface StartOptions {
  /** Where log lines go; a logger at `config.logLevel` on the console by default. */
  log?: Logger;
  /** Longest wait before a background flush, in milliseconds (tests shorten it). */
  flushDelayMs?: number;
}

/**
 * Starts serving. A site that cannot be loaded or an address that cannot be bound is reported
 * as a {@link ConfigError}.
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
  options: StartOptions = {},
): Promise<RunningServer> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  // Deno ends the process, without an exception to catch, when an unstable option is used
  // without its flag; `listenDatagram` exists exactly when `--unstable-net` is on.
  if (config.reusePort && !("listenDatagram" in Deno)) {
    throw new ConfigError(
      "--reuse-port needs Deno's --unstable-net flag (deno run --unstable-net ... main.ts)",
    );
  }
  const core = await createCore(config, { log, flushDelayMs: options.flushDelayMs });
  let closing = false;
  const listening = Promise.withResolvers<number>();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.host,
      // Several processes on one port, each with its own sessions: the shared store moves a
      // session to whichever process its next connection lands on.
      reusePort: config.reusePort,
      onListen: ({ port }) => listening.resolve(port),
    }, (request, info) => {
      if (closing) {
        return new Response("Server is shutting down", {
          status: 503,
          headers: { "retry-after": "1" },
        });
      }
      return core.app.fetch(request, info);
    });
  } catch (error) {
    await core.shutdown();
    throw new ConfigError(
      `Cannot listen on ${config.host}:${config.port}: ${(error as Error)?.message ?? error}`,
    );
  }
  const port = await listening.promise;
  log.info(`Serving ${config.dir ?? "the embedded app"} on ${urlOf(config.host, port)}`);
  const shown = { ...config, port, secret: config.secret === undefined ? undefined : "(set)" };
  log.debug(`Options: ${JSON.stringify(shown)}`);

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    closing = true;
    await core.shutdown();
    await server.shutdown();
    log.info("Server stopped");
  };
  return {
    port,
    manager: core.manager,
    hotload: core.hotload,
    get closing() {
      return closing;
    },
    shutdown() {
      stopped ??= stop();
      return stopped;
    },
  };
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
}
