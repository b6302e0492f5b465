/**
 * Globals made on first read: a library a session never touches (`table`, `math`, `os`, ...)
 * costs it nothing. Each library table is some 4 to 13 KiB per session, and an idle session
 * of a typical app reads few of them.
 *
 * While some are pending, the global table has a metatable whose `__index` makes a pending
 * global when it is read (from Lua or through the API) and stores it as an ordinary field;
 * once none is pending the metatable is removed. Lua code sees the libraries as before, with
 * two exceptions until a library is first read: `rawget(_G, name)` and `next(_G)` do not see
 * it. `pairs(_G)`, `getmetatable(_G)` and `setmetatable(_G, ...)` first make every pending
 * global, so they see (and replace) exactly what they would have.
 *
 * @module
 */
import { fromLua, lua, type LuaCFunction, type LuaState, toLua } from "./fengari.ts";
import { guard } from "./guard.ts";
import type { RawTable } from "./fengari_internals/raw_reads.ts";
import { shareKeys } from "./fengari_internals/shared_strings.ts";
import type { LuaVm } from "./vm.ts";

/**
 * Makes one global on the thread `L` (the one that first read it) and sets it with
 * `lua_setglobal`; leaves the stack as it found it.
 */
export type GlobalMaker = (L: LuaState) => void;

/** Each VM's pending makers, for {@link extendLazyGlobal}. */
const pendingOf = new WeakMap<LuaVm, Map<string, GlobalMaker>>();

/** Base functions that first make every pending global when given the global table. */
const WHOLE_TABLE = ["pairs", "getmetatable", "setmetatable"];

/**
 * Installs `makers` as globals made on first read.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { openSandbox } from "./sandbox.ts";
 * import { installLazyGlobals } from "./lazy_globals.ts";
 * import { lua, toLua } from "./fengari.ts";
 * const vm = new LuaVm();
 * openSandbox(vm);
 * installLazyGlobals(vm, {
 *   answer: (L) => {
 *     lua.lua_pushinteger(L, 42);
 *     lua.lua_setglobal(L, toLua("answer"));
 *   },
 * });
 * vm.evaluate("return answer"); // { ok: true, value: [42] }
 * ```
 */
export function installLazyGlobals(vm: LuaVm, makers: Record<string, GlobalMaker>): void {
  const pending = new Map(Object.entries(makers));
  if (pending.size === 0) return;
  pendingOf.set(vm, pending);
  const L = vm.L;
  const originals = new Map<string, LuaCFunction>();

  const make = (L: LuaState, name: string) => {
    const maker = pending.get(name);
    if (maker === undefined) return;
    pending.delete(name);
    try {
      maker(L);
    } catch (error) {
      // A budget spent inside the maker: drop what it made, so the next read makes it whole.
      const top = lua.lua_gettop(L);
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
      lua.lua_pushstring(L, toLua(name));
      lua.lua_pushnil(L);
      lua.lua_rawset(L, -3);
      lua.lua_settop(L, top);
      pending.set(name, maker);
      throw error;
    }
    // Library names are one copy per process, as for the libraries opened at once.
    lua.lua_getglobal(L, toLua(name));
    if (lua.lua_type(L, -1) === lua.LUA_TTABLE) shareKeys(lua.lua_topointer(L, -1) as RawTable);
    lua.lua_pop(L, 1);
    if (pending.size === 0) finish(L);
  };
  const makeAll = (L: LuaState) => {
    for (const name of [...pending.keys()]) make(L, name);
  };
  // Back to a plain global table: no metatable, the base functions unwrapped.
  const finish = (L: LuaState) => {
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    lua.lua_pushnil(L);
    lua.lua_setmetatable(L, -2);
    for (const [name, original] of originals) {
      lua.lua_pushcfunction(L, original);
      lua.lua_setfield(L, -2, toLua(name));
    }
    lua.lua_pop(L, 1);
  };

  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
  for (const name of WHOLE_TABLE) {
    lua.lua_getfield(L, -1, toLua(name));
    const original = lua.lua_tocfunction(L, -1);
    lua.lua_pop(L, 1);
    if (original === null) continue;
    originals.set(name, original);
    lua.lua_pushcfunction(
      L,
      guard((L) => {
        if (pending.size > 0 && isGlobalTable(L, 1)) makeAll(L);
        return original(L);
      }),
    );
    lua.lua_setfield(L, -2, toLua(name));
  }
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushcfunction(
    L,
    guard((L) => {
      if (lua.lua_type(L, 2) !== lua.LUA_TSTRING) return 0;
      const name = fromLua(lua.lua_tolstring(L, 2) as Uint8Array);
      if (!pending.has(name)) return 0;
      make(L, name);
      lua.lua_rawget(L, 1);
      return 1;
    }),
  );
  lua.lua_setfield(L, -2, toLua("__index"));
  lua.lua_setmetatable(L, -2);
  lua.lua_pop(L, 1);
}

function isGlobalTable(L: LuaState, idx: number): boolean {
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
  const same = lua.lua_rawequal(L, idx, -1);
  lua.lua_pop(L, 1);
  return same;
}

/**
 * Runs `extra` right after the pending global `name` is made (to change a library that does
 * not exist yet) and returns true; returns false, running nothing, when `name` is not pending
 * (made already, or never lazy): the caller changes the global now.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { openSandbox } from "./sandbox.ts";
 * import { extendLazyGlobal } from "./lazy_globals.ts";
 * const vm = new LuaVm();
 * openSandbox(vm);
 * const change = () => {}; // would wrap a math function
 * if (!extendLazyGlobal(vm, "math", change)) change();
 * ```
 */
export function extendLazyGlobal(vm: LuaVm, name: string, extra: GlobalMaker): boolean {
  const pending = pendingOf.get(vm);
  const maker = pending?.get(name);
  if (pending === undefined || maker === undefined) return false;
  pending.set(name, (L) => {
    maker(L);
    extra(L);
  });
  return true;
}
