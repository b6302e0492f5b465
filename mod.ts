/**
 * A session server for Lua-driven web UIs: each browser session gets its own Lua VM running the
 * site's `lua/main.lua`; the browser renders HTML templates bound to the live Lua objects, and
 * whatever Lua changes is pushed back over a WebSocket.
 *
 * Serve it on its own, or mount it in any Hono app at any path:
 *
 * ```ts
 * import { Hono } from "hono";
 * import { luaUi } from "./mod.ts";
 *
 * const app = new Hono();
 * app.get("/", (c) => c.html('<a href="/ui">Open the app</a>'));
 * const ui = luaUi({ site: "./my-site", config: { secret: Deno.env.get("UI_SECRET") } });
 * app.route("/ui", ui);
 * // Deno.serve(app.fetch);
 * await ui.shutdown();
 * ```
 *
 * On its own: `Deno.serve(luaUi().fetch)`. The command line (`main.ts`, exported as `./cli`)
 * serves the same app with flags and environment variables, and shuts it down on signals.
 *
 * @module
 */
export { type InMemorySite, type LuaUi, luaUi, type LuaUiOptions } from "./src/server/lua_ui.ts";
export {
  type Config,
  ConfigError,
  DEFAULT_CONFIG,
  LOG_LEVELS,
  type LogLevel,
} from "./src/config.ts";
export { createLogger, type Logger, type LoggerOptions, silentLogger } from "./src/log.ts";
export type { HostContext, HostFunctionsOption } from "./src/session/host_builtins/session_host.ts";
export type { HostFunction, HostFunctions, HostValue } from "./src/lua/host_functions.ts";
