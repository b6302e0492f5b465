/**
 * The Lua-facing API (SPEC 10): the per-session `session` table and the `ui` table (`print`
 * comes with the sandbox, `require` with the program loader). Each function accepts both
 * `session:f(...)` and `session.f(...)`.
 *
 * The functions are thin: they read arguments, call the {@link ApiHost} (the session's API,
 * `src/session/session_api.ts`) and push results. JavaScript exceptions become Lua errors
 * through `guard`.
 *
 * @module
 */
import { fromLua, lauxlib, lua, type LuaCFunction, type LuaState, toLua } from "./fengari.ts";
import { luaToJsonText } from "./json.ts";
import { decodeJson } from "./json_decode.ts";
import { normalizePageUrl, setSessionUrl } from "./session_url.ts";
import { guard } from "./guard.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";

/** Log levels Lua may name. */
export type LuaLogLevel = "error" | "warn" | "info" | "debug";

/** What the API needs from its session. */
export interface ApiHost {
  readonly vm: LuaVm;
  /** Vended session id (`"1"`, `"2"`, ...). */
  readonly vendedId: string;
  createAppVariable(app: LuaValue, props: Map<string, string>): number;
  getApp(): LuaValue;
  createVariable(parent: LuaValue, value: LuaValue, props: Map<string, string>): number;
  destroyVariable(target: LuaValue): void;
  watchProperty(varId: number, name: string, fn: LuaObject): void;
  luaLog(level: LuaLogLevel, message: string): void;
  registerPresenter(name: string, proto: LuaValue): void;
  registerWrapper(name: string, factory: LuaValue): void;
  /** Sets the page's address below the session id (the browser pushes it onto its history). */
  navigate(url: string): void;
  /** Sets the page's title. */
  setTitle(title: string): void;
  /** `session:unloadModule(name)`: the next `require` of it runs its file again. */
  unloadModule(name: string): void;
  /** `session:unloadDirectory(dir)`: unloads every module whose file is in the folder. */
  unloadDirectory(dir: string): void;
}

/** Extra `session` functions added by other modules (prototypes, timers). */
export type SessionFunctions = Record<string, LuaCFunction>;

const LEVELS = new Set(["error", "warn", "info", "debug"]);

/**
 * The log level of one of ui-engine's numeric verbosity levels (0 always shown, 1 connections,
 * 2 messages, 3 variables, 4 values): 0 is `info`, anything above is `debug` (any `-v` turns on
 * `debug` here, see `src/ui_engine_cli.ts`).
 *
 * @example
 * ```ts
 * import { numericLogLevel } from "./api.ts";
 * numericLogLevel(0); // "info"
 * numericLogLevel(2); // "debug"
 * ```
 */
export function numericLogLevel(level: number): LuaLogLevel {
  return level <= 0 ? "info" : "debug";
}

/**
 * Installs `session`, `ui` and `EMPTY` into a sandboxed VM. Returns the `session` table.
 *
 * @example
 * ```ts ignore
 * // Called by the LuaSession after openSandbox; see src/session/lua_session.ts.
 * const sessionTable = installApi(host, timers.functions);
 * ```
 */
export function installApi(host: ApiHost, extra: SessionFunctions = {}): LuaObject {
  const vm = host.vm;
  const L = vm.L;
  lua.lua_newtable(L);
  const session = vm.objectAt(-1);
  lua.lua_pop(L, 1);
  let version = 0;
  // Accept both session:f(...) and session.f(...): drop a leading `self`.
  const method = (fn: LuaCFunction): LuaCFunction =>
    guard((L) => {
      if (lua.lua_gettop(L) >= 1 && lua.lua_type(L, 1) === lua.LUA_TTABLE) {
        session.push(L);
        const isSelf = lua.lua_rawequal(L, 1, -1);
        lua.lua_pop(L, 1);
        if (isSelf) lua.lua_remove(L, 1);
      }
      return fn(L);
    });
  const functions: SessionFunctions = {
    createAppVariable: (L) => {
      lua.lua_pushinteger(L, host.createAppVariable(vm.read(1, L), readProps(vm, L, 2)));
      return 1;
    },
    getApp: (L) => {
      vm.push(host.getApp(), L);
      return 1;
    },
    createVariable: (L) => {
      const id = host.createVariable(vm.read(1, L), vm.read(2, L), readProps(vm, L, 3));
      lua.lua_pushinteger(L, id);
      return 1;
    },
    destroyVariable: (L) => {
      host.destroyVariable(vm.read(1, L));
      return 0;
    },
    watchProperty: (L) => {
      const varId = lauxlib.luaL_checkinteger(L, 1);
      const name = fromLua(lauxlib.luaL_checklstring(L, 2));
      lauxlib.luaL_checktype(L, 3, lua.LUA_TFUNCTION);
      host.watchProperty(varId, name, vm.objectAt(3, L));
      return 0;
    },
    log: (L) => {
      logFrom(host, L);
      return 0;
    },
    navigate: (L) => {
      const url = normalizePageUrl(fromLua(lauxlib.luaL_checklstring(L, 1)));
      host.navigate(url);
      setSessionUrl(vm, session, url);
      return 0;
    },
    setTitle: (L) => {
      host.setTitle(fromLua(lauxlib.luaL_tolstring(L, 1)));
      return 0;
    },
    unloadModule: (L) => {
      host.unloadModule(fromLua(lauxlib.luaL_checklstring(L, 1)));
      return 0;
    },
    unloadDirectory: (L) => {
      host.unloadDirectory(fromLua(lauxlib.luaL_checklstring(L, 1)));
      return 0;
    },
    // ui-engine's mutation version, a counter apps bump when their data's shape changes.
    newVersion: (L) => {
      vm.push(++version, L);
      return 1;
    },
    getVersion: (L) => {
      vm.push(version, L);
      return 1;
    },
    ...extra,
  };
  session.push(L);
  for (const [name, fn] of Object.entries(functions)) {
    lua.lua_pushcfunction(L, method(fn));
    lua.lua_setfield(L, -2, toLua(name));
  }
  lua.lua_pushstring(L, toLua(host.vendedId));
  lua.lua_setfield(L, -2, toLua("id"));
  lua.lua_pushstring(L, toLua(host.vendedId));
  lua.lua_setfield(L, -2, toLua("_sessionID")); // ui-engine's name for it
  lua.lua_pushboolean(L, false);
  lua.lua_setfield(L, -2, toLua("reloading"));
  lua.lua_pushboolean(L, false);
  lua.lua_setfield(L, -2, toLua("restoring"));
  lua.lua_setglobal(L, toLua("session"));
  // The browser tells the real address when it connects (the `url` property of variable 1).
  setSessionUrl(vm, session, "/");

  installUi(host);
  lua.lua_newtable(L);
  lua.lua_setglobal(L, toLua("EMPTY"));
  // ui-engine's diag(level, message): per-variable diagnostics there, a debug line here.
  lua.lua_pushcfunction(
    L,
    guard((L) => {
      const level = lauxlib.luaL_checknumber(L, 1);
      const message = fromLua(lauxlib.luaL_tolstring(L, 2));
      host.luaLog("debug", `diag ${level}: ${message}`);
      return 0;
    }),
  );
  lua.lua_setglobal(L, toLua("diag"));
  return session;
}

function installUi(host: ApiHost): void {
  const vm = host.vm;
  const L = vm.L;
  const functions: Record<string, LuaCFunction> = {
    registerPresenter: (L) => {
      host.registerPresenter(fromLua(lauxlib.luaL_checklstring(L, 1)), vm.read(2, L));
      return 0;
    },
    registerWrapper: (L) => {
      host.registerWrapper(fromLua(lauxlib.luaL_checklstring(L, 1)), vm.read(2, L));
      return 0;
    },
    log: (L) => {
      logFrom(host, L);
      return 0;
    },
    json_encode: (L) => {
      lauxlib.luaL_checkany(L, 1);
      lua.lua_pushstring(L, toLua(luaToJsonText(vm, 1, L)));
      return 1;
    },
    // Parsed and built in chunks, time-sliced inside an action or a timer (json_decode.ts).
    json_decode: (L) => decodeJson(vm, L),
  };
  lua.lua_newtable(L);
  for (const [name, fn] of Object.entries(functions)) {
    lua.lua_pushcfunction(L, guard(fn));
    lua.lua_setfield(L, -2, toLua(name));
  }
  lua.lua_setglobal(L, toLua("ui"));
}

function logFrom(host: ApiHost, L: LuaState): void {
  const n = lua.lua_gettop(L);
  let level: LuaLogLevel = "info";
  let first = 1;
  if (n >= 2 && lua.lua_type(L, 1) === lua.LUA_TNUMBER) {
    level = numericLogLevel(lua.lua_tonumber(L, 1));
    first = 2;
  } else if (n >= 2 && lua.lua_type(L, 1) === lua.LUA_TSTRING) {
    const name = fromLua(lua.lua_tolstring(L, 1) as Uint8Array);
    if (LEVELS.has(name)) {
      level = name as LuaLogLevel;
      first = 2;
    }
  }
  const parts: string[] = [];
  for (let i = first; i <= n; i++) parts.push(fromLua(lauxlib.luaL_tolstring(L, i)));
  host.luaLog(level, parts.join(" "));
}

function readProps(vm: LuaVm, L: LuaState, index: number): Map<string, string> {
  const props = new Map<string, string>();
  if (lua.lua_type(L, index) !== lua.LUA_TTABLE) return props;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, index) !== 0) {
    if (lua.lua_type(L, -2) === lua.LUA_TSTRING) {
      const key = fromLua(lua.lua_tolstring(L, -2) as Uint8Array);
      const value = vm.read(-1, L);
      if (value !== null && typeof value !== "object") props.set(key, String(value));
    }
    lua.lua_pop(L, 1);
  }
  return props;
}

/**
 * Sets a boolean field of the `session` table (`session.restoring` while a session is restored).
 *
 * @example
 * ```ts ignore
 * setSessionFlag(vm, sessionTable, "restoring", true);
 * ```
 */
export function setSessionFlag(
  vm: LuaVm,
  sessionTable: LuaObject,
  name: string,
  value: boolean,
): void {
  const L = vm.L;
  const top = lua.lua_gettop(L);
  sessionTable.push(L);
  lua.lua_pushboolean(L, value);
  lua.lua_setfield(L, -2, toLua(name));
  lua.lua_settop(L, top);
}
