/**
 * The library's entry point: the whole server as a Hono app, to serve with `Deno.serve` or to
 * mount in a host Hono app at any path (`app.route("/ui", luaUi())`). Routes, redirects, the
 * ownership cookie and the page's links follow the path it is mounted at.
 *
 * The server core (site, store, sessions) is made on the first request, once per mount path,
 * so making the app is synchronous and cheap.
 *
 * @module
 */
import { Hono } from "hono";
import { type Config, DEFAULT_CONFIG } from "../config.ts";
import type { Logger } from "../log.ts";
import { inMemorySite, type SiteFiles } from "../site/in_memory_site.ts";
import { createCore, type ServerCore } from "./server_core.ts";
import { mergeOptions } from "../options.ts";
import type { HostFunctionsOption } from "../session/host_builtins/session_host.ts";

/** A site given as files rather than a folder: `lua/` paths and viewdef keys to their text. */
export type InMemorySite = SiteFiles;

/** Options of {@link luaUi}. */
export interface LuaUiOptions {
  /** A site folder, or the site's files; the embedded default app when absent. */
  site?: string | InMemorySite;
  /** Options over the defaults (limits, `secret`, `sessionStore`, ...), as the CLI's flags. */
  config?: Partial<Config>;
  /** Where log lines go; a console logger at `config.logLevel` by default. */
  log?: Logger;
  /**
   * Functions Lua calls as `host.NAME(...)`: JSON-able values in and out; one returning a
   * Promise suspends the Lua action until it settles. The same for every session, or made per
   * session from its id and a signal that aborts when it closes.
   */
  host?: HostFunctionsOption;
}

/** The server as a Hono app, plus a way to stop it. */
export interface LuaUi extends Hono {
  /**
   * Lets queued Lua work finish (and be saved to the store), closes every socket with 1012 and
   * drops every session. Call it when the host shuts down.
   */
  shutdown(): Promise<void>;
}

/**
 * Makes the server as a Hono app.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { luaUi } from "./lua_ui.ts";
 * const app = new Hono();
 * app.get("/", (c) => c.text("The host app"));
 * const ui = luaUi({ config: { secret: "a secret of sixteen characters or more" } });
 * app.route("/ui", ui); // the default app at /ui
 * // Deno.serve(app.fetch);
 * await ui.shutdown();
 * ```
 */
export function luaUi(options: LuaUiOptions = {}): LuaUi {
  const config: Config = mergeOptions(DEFAULT_CONFIG, options.config);
  const site = typeof options.site === "object" ? inMemorySite(options.site) : undefined;
  if (typeof options.site === "string") config.dir = options.site;
  const cores = new Map<string, Promise<ServerCore>>();
  const coreFor = (basePath: string) => {
    let core = cores.get(basePath);
    if (!core) {
      core = createCore(config, {
        log: options.log,
        basePath,
        site,
        hostFunctions: options.host,
      });
      cores.set(basePath, core);
    }
    return core;
  };
  const ui = new Hono() as LuaUi;
  ui.all("*", async (c) => {
    // Mounted at `/ui`, this route is `/ui/*`: the mount path is what precedes the `*`.
    const basePath = c.req.routePath.replace(/\/?\*$/, "");
    // The request itself goes on (a WebSocket upgrade needs it): the core's routes carry the base.
    const core = await coreFor(basePath);
    return core.app.fetch(c.req.raw, c.env);
  });
  ui.shutdown = async () => {
    const made = await Promise.allSettled(cores.values());
    await Promise.all(
      made.map((core) => core.status === "fulfilled" && core.value.shutdown()),
    );
  };
  return ui;
}
