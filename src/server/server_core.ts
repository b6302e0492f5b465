/**
 * Everything a server is but the listening socket: the site, the session store, the session
 * manager, the Hono app and its graceful shutdown. `startServer` serves a core on a port;
 * `luaUi` (the library's entry point) hands one to any Hono app or `Deno.serve`.
 *
 * @module
 */
import type { Hono } from "hono";
import { type Config, ConfigError } from "../config.ts";
import { createLogger, type Logger } from "../log.ts";
import { SessionManager } from "../session/manager.ts";
import { createPersistence, type Persistence } from "../session/persistence.ts";
import { type Hotload, watchSite } from "../site/hotload.ts";
import { loadSite, type Site } from "../site/site.ts";
import { loadEmbeddedSite } from "../site/embedded_site.ts";
import { PACKAGE_ROOT } from "../package_files.ts";
import { openSessionStore } from "../store/open_session_store.ts";
import type { SessionStore } from "../store/session_store.ts";
import { type HostFunctionsOption, sessionHost } from "../session/host_builtins/session_host.ts";
import { createApp } from "./app.ts";
import { clientAssets, clientScriptUrl } from "./client_assets.ts";
import { mountDebug } from "./debug.ts";
import { createOwnership, randomSecret } from "./ownership.ts";
import project from "../../deno.json" with { type: "json" };

/**
 * The version reported by `/healthz`: the `version` of deno.json.
 *
 * @example
 * ```ts
 * import { VERSION } from "./server_core.ts";
 * console.log(`Version ${VERSION}`);
 * ```
 */
export const VERSION: string = project.version;

/**
 * How long shutdown waits for queued Lua work (and, with a store, the last snapshots) before
 * closing the sockets, in milliseconds.
 *
 * @example
 * ```ts
 * import { CLOSE_TIMEOUT_MS, DRAIN_TIMEOUT_MS } from "./server_core.ts";
 * DRAIN_TIMEOUT_MS + CLOSE_TIMEOUT_MS < 4000; // true
 * ```
 */
export const DRAIN_TIMEOUT_MS = 2000;
/**
 * How long shutdown waits for clients to answer the 1012 close, in milliseconds.
 *
 * @example
 * ```ts
 * import { CLOSE_TIMEOUT_MS } from "./server_core.ts";
 * console.log(`Clients have ${CLOSE_TIMEOUT_MS} ms to answer the close`);
 * ```
 */
export const CLOSE_TIMEOUT_MS = 1500;

/** Options of {@link createCore}. */
export interface CoreOptions {
  /** Where log lines go; a logger at `config.logLevel` on the console by default. */
  log?: Logger;
  /** Longest wait before a background flush, in milliseconds (tests shorten it). */
  flushDelayMs?: number;
  /** The path the app is mounted under (`/ui`), or `""` at the root. */
  basePath?: string;
  /** A site already loaded (an in-memory one); `config.dir` or the embedded app otherwise. */
  site?: Site;
  /** The embedding app's functions for Lua's `host` table. */
  hostFunctions?: HostFunctionsOption;
}

/** A server without its listening socket. */
export interface ServerCore {
  app: Hono;
  manager: SessionManager;
  site: Site;
  log: Logger;
  /** The file watcher, with `--hotload`. */
  hotload: Hotload | undefined;
  /** The session store, when one is configured. */
  store: SessionStore | undefined;
  /** Lets queued work finish and be saved, closes every socket with 1012, drops every session. */
  shutdown(): Promise<void>;
}

/**
 * Makes a server core from a configuration. A site or store that cannot be opened is a
 * {@link ConfigError}.
 *
 * @example
 * ```ts
 * import { createCore } from "./server_core.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * import { silentLogger } from "../log.ts";
 * const core = await createCore(DEFAULT_CONFIG, { log: silentLogger });
 * const response = await core.app.fetch(new Request("http://localhost/healthz"));
 * await core.shutdown();
 * ```
 */
export async function createCore(
  config: Config,
  options: CoreOptions = {},
): Promise<ServerCore> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const site = options.site ?? await openSite(config, log);
  const store = await openStore(config);
  // --app-store without a session store keeps the app's values in this process only.
  const valueStore = config.appStore ? store ?? await openSessionStore("memory") : undefined;
  if (config.appStore && !store) {
    log.warn("--app-store with the memory session store: the app's data ends with the process");
  }
  const secret = config.secret ?? await sharedSecret(store, log) ??
    randomSecret();
  let persistence: Persistence | undefined = undefined;
  const manager: SessionManager = new SessionManager({
    ...config,
    site,
    log,
    flushDelayMs: options.flushDelayMs,
    hostTables: sessionHost({
      functions: options.hostFunctions,
      allowFetch: config.allowFetch,
      appStore: valueStore,
    }),
    persistence: store && (persistence = createPersistence({
      store,
      instanceId: crypto.randomUUID(),
      log,
      delayMs: config.snapshotDelayMs,
      touchMs: Math.max(1000, Math.floor(config.sessionTimeoutMs / 3)),
      lost: (sid) => manager.lost(sid),
    })),
  });
  const sockets = new Set<WebSocket>();
  const app = createApp({
    manager,
    site,
    log,
    version: VERSION,
    basePath: options.basePath ?? "",
    ownership: createOwnership(secret),
    allowedOrigins: config.allowedOrigins,
    csp: config.csp,
    trustProxy: config.trustProxy,
    assets: clientAssets(),
    clientScript: clientScriptUrl,
    extend: (app) => mountDebug(app, { sessions: manager, enabled: config.debug }),
    onSocket: (socket) => {
      sockets.add(socket);
      socket.addEventListener("close", () => sockets.delete(socket));
    },
  });
  const hotload = config.hotload
    ? watchSite({
      site,
      luaChanged: (file) => manager.reloadFile(file),
      viewdefChanged: (key) => manager.resendViewdef(key),
      log,
    })
    : undefined;
  if (config.secret === undefined && !store) {
    log.warn("No --secret (UI_SECRET): session URLs stop working when this process restarts");
  }
  if (config.reusePort && !store) {
    log.warn(
      "--reuse-port without --session-store: each process keeps its own sessions, so a " +
        "reconnect that lands on another process starts afresh",
    );
  }
  if (config.reusePort && Deno.build.os !== "linux") {
    log.warn("--reuse-port spreads connections over processes on Linux only");
  }
  if (config.debug) {
    log.warn("Debug view on: /<sid>/variables shows a session's data to anyone with its sid");
  }
  return {
    app,
    manager,
    site,
    log,
    hotload,
    store,
    async shutdown() {
      hotload?.close();
      log.info(
        `Shutting down: ${manager.connectionCount} connections, ${manager.sessionCount} sessions`,
      );
      // Frames already queued run to the end, so their results reach the client below.
      await within(DRAIN_TIMEOUT_MS, manager.drain());
      manager.shutdown(); // flushes, closes each socket with 1012, cancels timers, drops the VMs
      await persistence?.close();
      if (valueStore !== store) await valueStore?.close();
      await within(CLOSE_TIMEOUT_MS, allClosed(sockets));
    },
  };
}

async function openStore(config: Config): Promise<SessionStore | undefined> {
  if (config.sessionStore === "memory") return undefined;
  try {
    return await openSessionStore(config.sessionStore, {
      ttlMs: config.sessionTimeoutMs,
    });
  } catch (error) {
    throw new ConfigError(
      `Cannot open the session store: ${(error as Error)?.message ?? error}`,
    );
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
  await store.setValue(
    SERVER_NAMESPACE,
    "secret",
    new TextEncoder().encode(randomSecret()),
  );
  const settled = await store.getValue(SERVER_NAMESPACE, "secret");
  log.info(
    "No --secret: using a secret kept in the session store, shared by its instances",
  );
  return settled ? decoder.decode(settled) : undefined;
}

/** The store namespace of the server's own values (apps use their own). */
const SERVER_NAMESPACE = "server";

async function openSite(config: Config, log: Logger): Promise<Site> {
  try {
    const warn = (message: string) => log.warn(message);
    if (config.dir === undefined) return await loadEmbeddedSite(PACKAGE_ROOT, { warn });
    return await loadSite(config.dir, { warn });
  } catch (error) {
    throw new ConfigError(
      `Cannot load the site: ${(error as Error)?.message ?? error}`,
    );
  }
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
