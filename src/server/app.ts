/**
 * The Hono app (SPEC 2): `/` mints a session id for the browser asking, `/<sid>` serves the page
 * to the browser that owns it, `/ws/<sid>` upgrades to the session's WebSocket for that browser
 * only, `/healthz` reports status, anything else is a static file. Every response carries the
 * security headers.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import type { Logger } from "../log.ts";
import { SessionManager, SID_PATTERN } from "../session/manager.ts";
import type { Site } from "../site/site.ts";
import { refusedOrigin } from "./origin.ts";
import { browserCookie, browserIdOf, isHttps, type Ownership } from "./ownership.ts";
import { builtinPage } from "./page.ts";
import { templateScriptHashes } from "./script_hashes.ts";
import { defaultPolicy, securityHeaders } from "./security_headers.ts";
import { serveFile } from "./static.ts";
import { attachSocket } from "./websocket.ts";

/** Serves files that are not on disk (the built-in client); the request allows a 304. */
export type AssetSource = (path: string, request?: Request) => Promise<Response | undefined>;

/** Options of {@link createApp}. */
export interface AppOptions {
  manager: SessionManager;
  site: Site;
  log: Logger;
  version: string;
  /**
   * The path the app is served under (`/ui` when a host app mounts it there), or `""`: it
   * prefixes every route, redirects, the ownership cookie's path and the page's links.
   */
  basePath?: string;
  /** Mints and checks the session ids bound to browsers. */
  ownership: Ownership;
  /** Origins besides the server's own that may open sessions' sockets (`--allowed-origins`). */
  allowedOrigins?: readonly string[];
  /** A Content-Security-Policy that replaces the default one (`--csp`). */
  csp?: string;
  /** Built-in client assets; none by default. */
  assets?: AssetSource;
  /** The URL the built-in page loads the client from; `/ui-engine-client.js` by default. */
  clientScript?: () => Promise<string>;
  /** Extra routes (the debug view) mounted before the static fallback. */
  extend?: (app: Hono) => void;
  /** Called with every upgraded socket (graceful shutdown waits for their close). */
  onSocket?: (socket: WebSocket) => void;
  /** Take the client address from `X-Forwarded-For` (`--trust-proxy`). */
  trustProxy?: boolean;
}

/**
 * The client's address: the peer of the connection, or behind a trusted proxy the last entry of
 * `X-Forwarded-For` (the one that proxy added; earlier ones are the client's to write).
 *
 * @example
 * ```ts
 * import { clientAddress } from "./app.ts";
 * const request = new Request("http://x/", { headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.9" } });
 * clientAddress(request, undefined, true); // "203.0.113.9"
 * ```
 */
export function clientAddress(
  request: Request,
  info: Deno.ServeHandlerInfo | undefined,
  trustProxy: boolean,
): string | undefined {
  if (trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  const remote = info?.remoteAddr;
  return remote && "hostname" in remote ? remote.hostname : undefined;
}

/**
 * Creates the app. Serve it with `Deno.serve(app.fetch)`.
 *
 * @example
 * ```ts ignore
 * const ownership = createOwnership(secret);
 * const app = createApp({ manager, site, log, version: "0.1.0", ownership });
 * Deno.serve({ port: 8000 }, app.fetch);
 * ```
 */
export function createApp(options: AppOptions): Hono {
  const { manager, site, log, ownership } = options;
  const base = options.basePath ?? "";
  const started = Date.now();
  const app = base ? new Hono().basePath(base) : new Hono();
  const scriptHashes = templateScriptHashes(site.viewdefs);
  const csp = options.csp;
  app.use(
    "*",
    securityHeaders({ policy: async () => csp ?? defaultPolicy(await scriptHashes()) }),
  );

  /** A fresh session of the browser asking, at `/<sid><rest>`; gives it an id if it has none. */
  const freshSession = async (c: Context, rest = "") => {
    let browserId = browserIdOf(c.req.raw);
    const headers = new Headers({ "cache-control": "no-store" });
    if (!browserId) {
      browserId = ownership.newBrowserId();
      headers.set("set-cookie", browserCookie(browserId, isHttps(c.req.raw), base || "/"));
    }
    headers.set("location", `${base}/${await ownership.mint(browserId)}${rest}`);
    return new Response(null, { status: 307, headers });
  };

  app.onError((error, c) => {
    log.error(`Request ${c.req.method} ${c.req.path} failed: ${error.stack ?? error}`);
    return c.text("Internal error", 500);
  });

  app.get("/healthz", (c) =>
    c.json({
      status: "ok",
      version: options.version,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      sessions: manager.sessionCount,
      connections: manager.connectionCount,
      ...manager.stats,
    }));

  app.get("/", (c) => freshSession(c));

  app.get("/ws/:sid", async (c) => {
    const sid = c.req.param("sid");
    if (!SID_PATTERN.test(sid)) return c.text("Malformed session id", 400);
    if ((c.req.header("upgrade") ?? "").toLowerCase() !== "websocket") {
      return c.text("Expected a WebSocket upgrade", 426);
    }
    // Both checks come before the upgrade: a refused socket never reaches the session manager.
    const foreign = refusedOrigin(c.req.raw, options.allowedOrigins ?? []);
    if (foreign) {
      log.debug(`Refused a WebSocket: ${foreign}`);
      return c.text(foreign, 403);
    }
    if (!await ownership.owns(sid, browserIdOf(c.req.raw))) {
      log.debug("Refused a WebSocket: the session is not this browser's");
      return c.text("This session belongs to another browser", 403);
    }
    // Read before the upgrade: after it, the request's connection details are gone.
    const info = c.env as Deno.ServeHandlerInfo | undefined;
    const address = clientAddress(c.req.raw, info, options.trustProxy ?? false);
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw);
    attachSocket(socket, manager, sid, log, { address });
    options.onSocket?.(socket);
    return response;
  });

  options.extend?.(app);

  const page = async () => {
    if (site.htmlDir) {
      const custom = await serveFile(site.htmlDir, "/index.html");
      if (custom) {
        custom.headers.set("cache-control", "no-store");
        return custom;
      }
    }
    return new Response(builtinPage(await options.clientScript?.(), base), {
      // The answer depends on the cookie: no cache may hand it to another browser.
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    });
  };

  app.get("*", async (c) => {
    const path = c.req.path.slice(base.length) || "/";
    if (path === "/") return await freshSession(c);
    const first = path.split("/")[1] ?? "";
    if (SID_PATTERN.test(first)) {
      if (await ownership.owns(first, browserIdOf(c.req.raw))) return await page();
      // Someone else's session, a planted or a forged one: this browser gets its own instead.
      const query = new URL(c.req.url).search;
      return await freshSession(c, path.slice(1 + first.length) + query);
    }
    if (site.htmlDir) {
      const file = await serveFile(site.htmlDir, path, c.req.raw);
      if (file) return file;
    }
    const asset = await options.assets?.(path, c.req.raw);
    return asset ?? c.text("Not found", 404);
  });

  return app;
}
