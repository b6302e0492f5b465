/**
 * Numbers as ui-engine's Lua (gopher-lua, a Lua 5.1) has them: every number is a double, exact
 * to 2^53, and integral values print without `.0`.
 *
 * fengari is a Lua 5.3 with 32-bit integers that wrap (`100000 * 100000` is `1410065408`,
 * `65536 * 65536` is `0`), and it prints integral floats as `5.0`. Rather than change its code,
 * this module changes how fengari's value cells answer two questions, once for the process:
 *
 * - "is this an integer?" is always no, and "is this a float?" is yes for every number. The VM,
 *   the constant folder and the libraries then take their float paths everywhere (`+ - *`,
 *   unary minus, `for` steps, `//`, `%`, `math`), which cannot wrap. Values still tagged as
 *   integers (literals, `#t`, `os.time()`, table keys) are read as the doubles they hold.
 * - while a number is being turned into text (fengari's `luaO_tostring` and `luaO_pushvfstring`,
 *   behind `tostring`, `..`, `print` and error messages), an integral value counts as an
 *   integer, so it prints as `5` and `9007199254740992`; other values print as Lua's `%.14g`.
 *
 * Bitwise operators keep fengari's 32-bit integers (Lua 5.1 has none). fengari's internals are
 * reached through `fengari_internals/number_cells.ts`; a self-check at start undoes the change
 * and logs an error when the internals are not as expected, leaving fengari's own behaviour.
 *
 * @module
 */
import { lauxlib, lua, type LuaApi, lualib, type LuaState, toLua } from "./fengari.ts";
import { createLogger } from "../log.ts";
import { patchNumberCells } from "./fengari_internals/number_cells.ts";
import { guard } from "./guard.ts";
import type { LuaVm } from "./vm.ts";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Whether exact numbers are on, and why not when they are off.
 *
 * @example
 * ```ts
 * import { useExactNumbers } from "./numbers.ts";
 * const status = useExactNumbers();
 * if (!status.exact) console.error(status.reason);
 * ```
 */
export type NumbersStatus = { exact: true } | { exact: false; reason: string };

let status: NumbersStatus | undefined;

/**
 * Switches fengari to exact numbers for the whole process (idempotent). Returns whether it
 * worked; on failure fengari is left as it was and an error is logged once.
 *
 * @example
 * ```ts
 * import { useExactNumbers } from "./numbers.ts";
 * useExactNumbers(); // { exact: true }
 * ```
 */
export function useExactNumbers(): NumbersStatus {
  if (status) return status;
  try {
    const undo = patch();
    const problem = probe();
    if (problem) {
      undo();
      status = { exact: false, reason: problem };
    } else status = { exact: true };
  } catch (error) {
    status = { exact: false, reason: String((error as Error)?.message ?? error) };
  }
  if (!status.exact) {
    createLogger({ level: "error" }).error(
      `Exact numbers are off, integers wrap past 2^31 (fengari internals changed): ${status.reason}`,
    );
  }
  return status;
}

function patch(): () => void {
  const undoCells = patchNumberCells({
    isInteger: (cell, { intTag, floatTag }, formatting) => {
      if (!formatting) return false;
      if (cell.type === intTag) return true;
      return cell.type === floatTag && Number.isInteger(cell.value);
    },
    isFloat: (cell, { intTag, floatTag }, formatting) =>
      cell.type === floatTag || (!formatting && cell.type === intTag),
  });
  // This server's own code asks "integer?" to find array keys: an integral number in 32 bits.
  const api = lua as { -readonly [K in keyof LuaApi]: LuaApi[K] };
  const isInteger = api.lua_isinteger;
  api.lua_isinteger = (L, idx) =>
    lua.lua_type(L, idx) === lua.LUA_TNUMBER && isInt32(lua.lua_tonumber(L, idx));
  return () => {
    api.lua_isinteger = isInteger;
    undoCells();
  };
}

const PROBE = `
local t = {}
t[2^40] = "big"
t[3.0] = "three"
local s = 0
for i = 2147483640, 2147483650, 5 do s = s + i end
return 100000 * 100000, 65536 * 65536, -(-2147483647 - 1), tostring(2^53), "n=" .. 10 / 2,
  t[1099511627776], t[3], s, 7 // 2, 0.1 + 0.2, 1e15, string.format("%d", 3)
`;
const EXPECTED = [
  "10000000000",
  "4294967296",
  "2147483648",
  "9007199254740992",
  "n=5",
  "big",
  "three",
  "6442450935",
  "3",
  "0.3",
  "1000000000000000",
  "3",
];

/** Runs the cases that matter on a fresh state; a description of the first wrong one, if any. */
function probe(): string | undefined {
  const L = lauxlib.luaL_newstate();
  for (
    const [name, open] of [["_G", lualib.luaopen_base], ["string", lualib.luaopen_string]] as const
  ) {
    lauxlib.luaL_requiref(L, toLua(name), open, 1);
    lua.lua_pop(L, 1);
  }
  const code = toLua(PROBE);
  if (lauxlib.luaL_loadbufferx(L, code, code.length, toLua("=probe"), toLua("t")) !== lua.LUA_OK) {
    return "the probe does not compile";
  }
  if (lua.lua_pcall(L, 0, lua.LUA_MULTRET, 0) !== lua.LUA_OK) return "the probe fails";
  for (let i = 0; i < EXPECTED.length; i++) {
    lauxlib.luaL_tolstring(L, i + 1);
    const text = new TextDecoder().decode(lua.lua_tolstring(L, -1) ?? new Uint8Array());
    lua.lua_pop(L, 1);
    if (text !== EXPECTED[i]) return `probe ${i + 1} gave ${text}, expected ${EXPECTED[i]}`;
  }
  return undefined;
}

/**
 * Library functions whose answers depend on what an integer is. `math.type` says `integer` for
 * an integral value in 32 bits (what fengari's integer arguments, bitwise operators and
 * `math.maxinteger` take), `float` for any other number, whatever it was computed from;
 * `math.tointeger` agrees with it. `string.format`'s `%d`/`%i` take any integral value (fengari's
 * own accepts only 32-bit ones), so `string.format("%d", os.time() * 1000)` works.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { openSandbox } from "./sandbox.ts";
 * const vm = new LuaVm();
 * openSandbox(vm); // calls installNumberFunctions
 * vm.evaluate("return string.format('%d', 2^40)"); // { ok: true, values: ["1099511627776"] }
 * ```
 */
export function installNumberFunctions(vm: LuaVm): void {
  const L = vm.L;
  // Into a math library opened already; the sandbox makes its own later, with them.
  const hasMath = lua.lua_getglobal(L, toLua("math")) === lua.LUA_TTABLE;
  lua.lua_pop(L, 1);
  if (hasMath) installMathFunctions(L);
  wrapFormat(L);
}

/**
 * The `math` half of {@link installNumberFunctions}: `math.type` and `math.tointeger`, on the
 * thread `L`, for a math library opened after it.
 *
 * @example
 * ```ts
 * import { lauxlib, lua, lualib, toLua } from "./fengari.ts";
 * import { installMathFunctions } from "./numbers.ts";
 * const L = lauxlib.luaL_newstate();
 * lauxlib.luaL_requiref(L, toLua("math"), lualib.luaopen_math, 1);
 * lua.lua_pop(L, 1);
 * installMathFunctions(L);
 * ```
 */
export function installMathFunctions(L: LuaState): void {
  lua.lua_getglobal(L, toLua("math"));
  lua.lua_pushcfunction(L, mathType);
  lua.lua_setfield(L, -2, toLua("type"));
  lua.lua_pushcfunction(L, mathToInteger);
  lua.lua_setfield(L, -2, toLua("tointeger"));
  lua.lua_pop(L, 1);
}

// Shared by every session: they read only their arguments.
const mathType = guard((L) => {
  lauxlib.luaL_checkany(L, 1);
  const kind = lua.lua_type(L, 1) !== lua.LUA_TNUMBER
    ? undefined
    : isInt32(lua.lua_tonumber(L, 1))
    ? "integer"
    : "float";
  if (kind) lua.lua_pushstring(L, toLua(kind));
  else lua.lua_pushnil(L);
  return 1;
});

const mathToInteger = guard((L) => {
  const n = lua.lua_type(L, 1) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, 1) : NaN;
  if (isInt32(n)) lua.lua_pushnumber(L, n);
  else {
    lauxlib.luaL_checkany(L, 1);
    lua.lua_pushnil(L);
  }
  return 1;
});

function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;
}

const SPEC = /%([-+ #0]*)(\d*)(\.\d*)?([a-zA-Z%])/g;

// `%d` of an integral value outside 32 bits becomes `%.0f` with the same flags and width: the
// same digits, from fengari's own formatter.
function wrapFormat(L: LuaState): void {
  lua.lua_getglobal(L, toLua("string"));
  lua.lua_getfield(L, -1, toLua("format"));
  lua.lua_pushcclosure(
    L,
    guard((L) => {
      const format = lauxlib.luaL_checklstring(L, 1);
      const text = Array.from(format, (byte) => String.fromCharCode(byte)).join("");
      let arg = 1;
      let changed = false;
      const rewritten = text.replace(SPEC, (spec, flags, width, precision, kind) => {
        if (kind === "%") return spec;
        arg++;
        if ((kind !== "d" && kind !== "i") || precision !== undefined) return spec;
        if (lua.lua_type(L, arg) !== lua.LUA_TNUMBER) return spec;
        const n = lua.lua_tonumber(L, arg);
        if (!Number.isInteger(n) || (n >= INT32_MIN && n <= INT32_MAX)) return spec;
        changed = true;
        return `%${flags.replace("#", "")}${width}.0f`;
      });
      if (changed) {
        const bytes = Uint8Array.from(rewritten, (char) => char.charCodeAt(0));
        lua.lua_pushstring(L, bytes);
        lua.lua_insert(L, 1);
        lua.lua_remove(L, 2);
      }
      const n = lua.lua_gettop(L);
      lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
      lua.lua_insert(L, 1);
      lua.lua_call(L, n, 1);
      return 1;
    }),
    1,
  );
  lua.lua_setfield(L, -2, toLua("format"));
  lua.lua_pop(L, 1);
}
