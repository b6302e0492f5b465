/**
 * The Lua-facing API (SPEC 10): the per-session `session` table, the `ui` table and `require`
 * (`print` comes with the sandbox). Each function accepts both `session:f(...)` and `session.f(...)`.
 *
 * The functions are thin: they read arguments, call the {@link ApiHost} (the LuaSession) and
 * push results. JavaScript exceptions become Lua errors through `guard`.
 *
 * @module
 */
import { fromLua, lauxlib, lua, type LuaCFunction, type LuaState, toLua } from "./fengari.ts";
import { luaToJsonText, pushJson } from "./json.ts";
import { guard, type LuaObject, type LuaValue, type LuaVm } from "./vm.ts";

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
  /** Source of `lua/<path>`, or `undefined`. */
  readLua(path: string): string | undefined;
  /** `require` cache: module name → its value. */
  readonly modules: Map<string, LuaValue>;
  /** Site files this session has run (for hot reload), e.g. `main.lua`, `a/b.lua`. */
  readonly loadedFiles: Set<string>;
}

/** Extra `session` functions added by other modules (prototypes, timers). */
export type SessionFunctions = Record<string, LuaCFunction>;

const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
const LEVELS = new Set(["error", "warn", "info", "debug"]);

/**
 * Installs `session`, `ui`, `EMPTY` and `require` into a sandboxed VM. Returns the
 * `session` table.
 *
 * @example
 * ```ts
 * // Called by LuaSession after openSandbox; see src/session/lua_session.ts.
 * ```
 */
export function installApi(host: ApiHost, extra: SessionFunctions = {}): LuaObject {
  const vm = host.vm;
  const L = vm.L;
  lua.lua_newtable(L);
  const session = vm.objectAt(-1);
  lua.lua_pop(L, 1);
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
    ...extra,
  };
  session.push(L);
  for (const [name, fn] of Object.entries(functions)) {
    lua.lua_pushcfunction(L, method(fn));
    lua.lua_setfield(L, -2, toLua(name));
  }
  lua.lua_pushstring(L, toLua(host.vendedId));
  lua.lua_setfield(L, -2, toLua("id"));
  lua.lua_pushboolean(L, false);
  lua.lua_setfield(L, -2, toLua("reloading"));
  lua.lua_setglobal(L, toLua("session"));

  installUi(host);
  lua.lua_newtable(L);
  lua.lua_setglobal(L, toLua("EMPTY"));
  installRequire(host);
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
      lua.lua_pushstring(L, toLua(luaToJsonText(vm, 1)));
      return 1;
    },
    json_decode: (L) => {
      const text = fromLua(lauxlib.luaL_checklstring(L, 1));
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        lua.lua_pushnil(L);
        lua.lua_pushstring(L, toLua(`Invalid JSON: ${(error as Error).message}`));
        return 2;
      }
      pushJson(vm, parsed, { L, objectRefs: false });
      return 1;
    },
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
  if (n >= 2 && lua.lua_type(L, 1) === lua.LUA_TSTRING) {
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

/** `require("a.b")`: loads `lua/a/b.lua` once per session; a cycle gets `true`, not a loop. */
function installRequire(host: ApiHost): void {
  const vm = host.vm;
  const loaded = host.modules;
  const loading = new Set<string>();
  vm.setGlobalFunction("require", (L) => {
    const name = fromLua(lauxlib.luaL_checklstring(L, 1));
    if (!MODULE_NAME.test(name)) {
      return lauxlib.luaL_error(L, toLua(`Bad module name '${name.slice(0, 80)}'`));
    }
    const cached = loaded.get(name);
    if (cached !== undefined) {
      vm.push(cached, L);
      return 1;
    }
    if (loading.has(name)) {
      lua.lua_pushboolean(L, true);
      return 1;
    }
    const file = `${name.replaceAll(".", "/")}.lua`;
    const source = host.readLua(file);
    if (source === undefined) {
      return lauxlib.luaL_error(L, toLua(`Module '${name}' not found (no lua/${file})`));
    }
    const failure = vm.loadText(source, `@lua/${file}`, L);
    if (failure) return lauxlib.luaL_error(L, toLua("%s"), toLua(failure.description));
    lua.lua_pushstring(L, toLua(name));
    loading.add(name);
    host.loadedFiles.add(file);
    try {
      lua.lua_call(L, 1, 1);
    } finally {
      loading.delete(name);
    }
    const result = vm.read(-1, L);
    loaded.set(name, result === null ? true : result);
    vm.push(loaded.get(name) ?? true, L);
    return 1;
  });
}
