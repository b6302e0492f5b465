/**
 * The Hono app (SPEC 2): `/` mints a session id, `/<sid>` serves the page, `/ws/<sid>` upgrades
 * to the session's WebSocket, `/healthz` reports status, anything else is a static file.
 *
 * @module
 */
import { Hono } from "hono";
import type { Logger } from "../log.ts";
import { newSid, SessionManager, SID_PATTERN } from "../session/manager.ts";
import type { Site } from "../site/site.ts";
import { builtinPage } from "./page.ts";
import { serveFile } from "./static.ts";
import { attachSocket } from "./websocket.ts";

/** Serves files that are not on disk (the built-in client). */
export type AssetSource = (path: string) => Promise<Response | undefined>;

/** Options of {@link createApp}. */
export interface AppOptions {
  manager: SessionManager;
  site: Site;
  log: Logger;
  version: string;
  /** Built-in client assets; none by default. */
  assets?: AssetSource;
  /** Extra routes (the debug view) mounted before the static fallback. */
  extend?: (app: Hono) => void;
  /** Called with every upgraded socket (graceful shutdown waits for their close). */
  onSocket?: (socket: WebSocket) => void;
}

/**
 * Creates the app. Serve it with `Deno.serve(app.fetch)`.
 *
 * @example
 * ```ts
 * // const app = createApp({ manager, site, log, version: "0.1.0" });
 * // Deno.serve({ port: 8000 }, app.fetch);
 * ```
 */
export function createApp(options: AppOptions): Hono {
  const { manager, site, log } = options;
  const started = Date.now();
  const app = new Hono();

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
    }));

  app.get("/", (c) => c.redirect(`/${newSid()}`, 307));

  app.get("/ws/:sid", (c) => {
    const sid = c.req.param("sid");
    if (!SID_PATTERN.test(sid)) return c.text("Malformed session id", 400);
    if ((c.req.header("upgrade") ?? "").toLowerCase() !== "websocket") {
      return c.text("Expected a WebSocket upgrade", 426);
    }
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw);
    attachSocket(socket, manager, sid, log);
    options.onSocket?.(socket);
    return response;
  });

  options.extend?.(app);

  const page = async () => {
    if (site.htmlDir) {
      const custom = await serveFile(site.htmlDir, "/index.html");
      if (custom) return custom;
    }
    return new Response(builtinPage(), {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  };

  app.get("*", async (c) => {
    const path = c.req.path;
    const first = path.split("/")[1] ?? "";
    if (SID_PATTERN.test(first)) return await page();
    if (site.htmlDir) {
      const file = await serveFile(site.htmlDir, path);
      if (file) return file;
    }
    const asset = await options.assets?.(path);
    return asset ?? c.text("Not found", 404);
  });

  return app;
}
