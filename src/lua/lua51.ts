/**
 * The Lua 5.1 library names ui-engine apps use (ui-engine runs gopher-lua, a Lua 5.1), added to
 * the 5.3 sandbox so that those apps run unchanged: `unpack`, `loadstring`, `table.getn`,
 * `table.maxn`, `math.pow`, `math.mod`, `string.gfind` and `package.loaded`.
 *
 * They are written in Lua over the sandbox's own functions, so they keep its rules: `loadstring`
 * goes through the text-only `load`, `unpack` through the charged `table.unpack`, `string.gfind`
 * through the capped `string.gmatch`, and every loop runs under the instruction budget.
 *
 * @module
 */
import { lua, type LuaState } from "./fengari.ts";
import type { LuaVm } from "./vm.ts";

// The argument check of Lua's own library functions, as each prelude below needs it (after its
// locals `type` and `error`).
const EXPECT = `local function expect(value, kind, position, name)
  if type(value) ~= kind then
    error(("bad argument #%d to '%s' (%s expected, got %s)"):format(
      position, name, kind, value == nil and "no value" or type(value)), 3)
  end
end`;

const LUA51 = `
local type, error, load = type, error, load
${EXPECT}
loadstring = function(text, name)
  expect(text, "string", 1, "loadstring")
  return load(text, name or text, "t")
end
`;

// When the table library is made (see lazy_globals.ts).
const LUA51_TABLE = `
local type, error, next, rawlen = type, error, next, rawlen
${EXPECT}
table.getn = function(t)
  expect(t, "table", 1, "getn")
  return rawlen(t)
end
table.maxn = function(t)
  expect(t, "table", 1, "maxn")
  local max = 0
  for key in next, t do
    if type(key) == "number" and key > max then max = key end
  end
  return max
end
`;

// `unpack`, made when first read.
const LUA51_UNPACK = `
unpack = table.unpack
string.gfind = string.gmatch
`;

// When the math library is made (see lazy_globals.ts).
const LUA51_MATH = `
local type, error = type, error
${EXPECT}
math.pow = function(x, y)
  expect(x, "number", 1, "pow")
  expect(y, "number", 2, "pow")
  return x ^ y
end
math.mod = math.fmod
`;

// `package.loaded` is a fresh table of the opened libraries: fengari's own registry of loaded
// modules holds the full `os` (with `exit` and `execute`), which must stay out of reach.
// When `package` is first read: reading the libraries makes each of them.
const LUA51_PACKAGE = `
package = {loaded = {
  _G = _G, table = table, string = string, math = math, utf8 = utf8, coroutine = coroutine,
  os = os,
}}
package.loaded.package = package
`;

/**
 * Adds the Lua 5.1 names to a sandboxed VM (after `openSandbox` has opened the libraries).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { openSandbox } from "./sandbox.ts";
 * const vm = new LuaVm();
 * openSandbox(vm); // adds the Lua 5.1 names itself
 * vm.evaluate("return unpack({1, 2})"); // { ok: true, values: [1, 2] }
 * ```
 */
export function installLua51Names(vm: LuaVm): void {
  vm.beginEntry();
  const result = vm.evaluate(LUA51, "=lua51");
  if (!result.ok) throw new Error(`Lua 5.1 names failed: ${result.failure.description}`);
}

/**
 * Adds `math.pow` and `math.mod` on the thread `L` (the math library is made on first read).
 *
 * @example
 * ```ts ignore
 * installLua51Math(vm, L); // inside the maker of the math library
 * ```
 */
export function installLua51Math(vm: LuaVm, L: LuaState): void {
  runOn(vm, L, LUA51_MATH, "=lua51_math");
}

/**
 * Makes `package` (`package.loaded` with the libraries) on the thread `L`.
 *
 * @example
 * ```ts ignore
 * installLua51Package(vm, L); // inside the maker of the package global
 * ```
 */
export function installLua51Package(vm: LuaVm, L: LuaState): void {
  runOn(vm, L, LUA51_PACKAGE, "=lua51_package");
}

// A plain call inside the read that made the library: its errors go to the reader.
function runOn(vm: LuaVm, L: LuaState, code: string, name: string): void {
  const failure = vm.loadText(code, name, L);
  if (failure) throw new Error(`Lua 5.1 names failed: ${failure.description}`);
  lua.lua_call(L, 0, 0);
}

/**
 * Adds `table.getn` and `table.maxn` on the thread `L` (the table library is made on first
 * read).
 *
 * @example
 * ```ts ignore
 * installLua51Table(vm, L); // inside the maker of the table library
 * ```
 */
export function installLua51Table(vm: LuaVm, L: LuaState): void {
  runOn(vm, L, LUA51_TABLE, "=lua51_table");
}

/**
 * Makes `unpack` (`table.unpack`) on the thread `L`.
 *
 * @example
 * ```ts ignore
 * installLua51Unpack(vm, L); // inside the maker of the unpack global
 * ```
 */
export function installLua51Unpack(vm: LuaVm, L: LuaState): void {
  runOn(vm, L, LUA51_UNPACK, "=lua51_unpack");
}
