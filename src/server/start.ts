/**
 * Starts a server from a configuration: loads the site, makes the session manager and the app,
 * and serves it. Used by `main.ts` and by the tests, which serve on port 0.
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
import { SessionManager } from "../session/manager.ts";
import { createPersistence } from "../session/persistence.ts";
import { openSessionStore } from "../store/open_session_store.ts";
import type { SessionStore } from "../store/session_store.ts";
import { type Hotload, watchSite } from "../site/hotload.ts";
import { EMBEDDED_SITE, loadSite, type Site } from "../site/site.ts";
import { createApp } from "./app.ts";
import { clientAssets } from "./client_assets.ts";
import { mountDebug } from "./debug.ts";
import { createOwnership, randomSecret } from "./ownership.ts";
import project from "../../deno.json" with { type: "json" };

/**
 * The version reported by `/healthz`: the `version` of deno.json.
 *
 * @example
 * ```ts
 * import { VERSION } from "./start.ts";
 * console.log(`Version ${VERSION}`);
 * ```
 */
export const VERSION: string = project.version;

/**
 * How long shutdown waits for queued Lua work before closing the sockets, in milliseconds.
 *
 * @example
 * ```ts
 * import { CLOSE_TIMEOUT_MS, DRAIN_TIMEOUT_MS } from "./start.ts";
 * DRAIN_TIMEOUT_MS + CLOSE_TIMEOUT_MS < 4000; // true
 * ```
 */
export const DRAIN_TIMEOUT_MS = 2000;
/**
 * How long shutdown waits for clients to answer the 1012 close, in milliseconds.
 *
 * @example
 * ```ts
 * import { CLOSE_TIMEOUT_MS } from "./start.ts";
 * console.log(`Clients have ${CLOSE_TIMEOUT_MS} ms to answer the close`);
 * ```
 */
export const CLOSE_TIMEOUT_MS = 1500;
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
  const site = await openSite(config, log);
  const store = await openStore(config);
  const secret = config.secret ?? await sharedSecret(store, log) ?? randomSecret();
  const persistence = store && createPersistence({
    store,
    instanceId: crypto.randomUUID(),
    log,
    delayMs: config.snapshotDelayMs,
    touchMs: Math.max(1000, Math.floor(config.sessionTimeoutMs / 3)),
    lost: (sid) => manager.lost(sid),
  });
  const manager = new SessionManager({
    ...config,
    site,
    log,
    flushDelayMs: options.flushDelayMs,
    persistence,
  });
  const sockets = new Set<WebSocket>();
  const app = createApp({
    manager,
    site,
    log,
    version: VERSION,
    ownership: createOwnership(secret),
    allowedOrigins: config.allowedOrigins,
    csp: config.csp,
    trustProxy: config.trustProxy,
    assets: clientAssets(),
    extend: (app) => mountDebug(app, { sessions: manager, enabled: config.debug }),
    onSocket: (socket) => {
      sockets.add(socket);
      socket.addEventListener("close", () => sockets.delete(socket));
    },
  });
  let closing = false;
  const listening = Promise.withResolvers<number>();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.host,
      onListen: ({ port }) => listening.resolve(port),
    }, (request, info) => {
      if (closing) {
        return new Response("Server is shutting down", {
          status: 503,
          headers: { "retry-after": "1" },
        });
      }
      return app.fetch(request, info);
    });
  } catch (error) {
    throw new ConfigError(
      `Cannot listen on ${config.host}:${config.port}: ${(error as Error)?.message ?? error}`,
    );
  }
  const port = await listening.promise;
  const hotload = config.hotload
    ? watchSite({
      site,
      luaChanged: (file) => manager.reloadFile(file),
      viewdefChanged: (key) => manager.resendViewdef(key),
      log,
    })
    : undefined;
  log.info(`Serving ${config.dir ?? "the embedded app"} on ${urlOf(config.host, port)}`);
  const shown = { ...config, port, secret: config.secret === undefined ? undefined : "(set)" };
  log.debug(`Options: ${JSON.stringify(shown)}`);
  if (config.secret === undefined && !store) {
    log.warn("No --secret (UI_SECRET): session URLs stop working when this process restarts");
  }
  if (config.debug) {
    log.warn("Debug view on: /<sid>/variables shows a session's data to anyone with its sid");
  }

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    closing = true;
    hotload?.close();
    log.info(
      `Shutting down: ${manager.connectionCount} connections, ${manager.sessionCount} sessions`,
    );
    // Frames already queued run to the end, so their results reach the client below.
    await within(DRAIN_TIMEOUT_MS, manager.drain());
    manager.shutdown(); // flushes, closes each socket with 1012, cancels timers, drops the VMs
    await persistence?.close();
    await within(CLOSE_TIMEOUT_MS, allClosed(sockets));
    await server.shutdown();
    log.info("Server stopped");
  };
  return {
    port,
    manager,
    hotload,
    get closing() {
      return closing;
    },
    shutdown() {
      stopped ??= stop();
      return stopped;
    },
  };
}

async function openStore(config: Config): Promise<SessionStore | undefined> {
  if (config.sessionStore === "memory") return undefined;
  try {
    return await openSessionStore(config.sessionStore, { ttlMs: config.sessionTimeoutMs });
  } catch (error) {
    throw new ConfigError(`Cannot open the session store: ${(error as Error)?.message ?? error}`);
  }
}

/**
 * Without `--secret`, instances that share a store share the secret kept there (made by the
 * first one), so session URLs keep working across restarts and instances.
 */
async function sharedSecret(
  store: SessionStore | undefined,
  log: Logger,
): Promise<string | undefined> {
  if (!store) return undefined;
  const decoder = new TextDecoder();
  const kept = await store.getValue(SERVER_NAMESPACE, "secret");
  if (kept) return decoder.decode(kept);
  await store.setValue(SERVER_NAMESPACE, "secret", new TextEncoder().encode(randomSecret()));
  const settled = await store.getValue(SERVER_NAMESPACE, "secret");
  log.info("No --secret: using a secret kept in the session store, shared by its instances");
  return settled ? decoder.decode(settled) : undefined;
}

/** The store namespace of the server's own values (apps use their own). */
const SERVER_NAMESPACE = "server";

async function openSite(config: Config, log: Logger): Promise<Site> {
  try {
    return await loadSite(config.dir ?? EMBEDDED_SITE, { warn: (message) => log.warn(message) });
  } catch (error) {
    throw new ConfigError(`Cannot load the site: ${(error as Error)?.message ?? error}`);
  }
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
}

/** Resolves when `work` settles or after `ms`, whichever comes first. */
async function within(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  try {
    await Promise.race([work.then(() => {}, () => {}), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function allClosed(sockets: Set<WebSocket>): Promise<unknown> {
  return Promise.all([...sockets].map((socket) => {
    if (socket.readyState === WebSocket.CLOSED) return;
    return new Promise((resolve) => socket.addEventListener("close", resolve, { once: true }));
  }));
}
