/**
 * The likely-typo test of a path segment that read nil: the object has a prototype (a metatable
 * whose `__index` is a table, as `session:prototype` and `session:create` make) and neither the
 * object nor any table of its `__index` chain holds the key. Plain tables (no metatable) and
 * objects with an `__index` function are never reported: the first have nothing to compare
 * with, the second may make any field up.
 *
 * @module
 */
import { lua, type LuaString, toLua } from "./fengari.ts";
import type { LuaObject, LuaVm } from "./vm.ts";

const INDEX_KEY = toLua("__index");
/** Longer chains are loops or generated code: not reported. */
const MAX_CHAIN = 64;

/**
 * True when `object` has a prototype chain of tables and none of them (nor the object) holds
 * `key`. Runs no Lua (raw reads only).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { openSandbox } from "./sandbox.ts";
 * import { undeclaredField } from "./undeclared.ts";
 * import { toLua } from "./fengari.ts";
 * const vm = new LuaVm();
 * openSandbox(vm);
 * const made = vm.evaluate("local P = {name = ''}; P.__index = P; return setmetatable({}, P)");
 * if (made.ok && made.value[0] !== null && typeof made.value[0] === "object") {
 *   undeclaredField(vm, made.value[0], toLua("nmae")); // true
 *   undeclaredField(vm, made.value[0], toLua("name")); // false
 * }
 * ```
 */
export function undeclaredField(vm: LuaVm, object: LuaObject, key: LuaString): boolean {
  if (object.kind !== "table") return false;
  const L = vm.L;
  const top = lua.lua_gettop(L);
  try {
    object.push(L);
    for (let depth = 0; depth < MAX_CHAIN; depth++) {
      vm.pushKey(key, L);
      if (lua.lua_rawget(L, -2) !== lua.LUA_TNIL) return false;
      lua.lua_pop(L, 1);
      // The end of the chain: undeclared, unless the object itself had no prototype.
      if (!lua.lua_getmetatable(L, -1)) return depth > 0;
      vm.pushKey(INDEX_KEY, L);
      const handler = lua.lua_rawget(L, -2);
      if (handler !== lua.LUA_TTABLE) return depth > 0 && handler === lua.LUA_TNIL;
      lua.lua_remove(L, -2); // metatable
      lua.lua_remove(L, -2); // previous table
    }
    return false;
  } finally {
    lua.lua_settop(L, top);
  }
}
