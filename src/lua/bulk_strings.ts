/**
 * `string.rep` and `utf8.len` rewritten for large strings. fengari's `string.rep` copies its
 * operand once per repetition (15 MB of `"x"` takes over half a second), and its `utf8.len`
 * walks a 15 MB string in one call of about 100 ms; both run out of the count hook's sight.
 * Here `string.rep` fills its result by doubling copies (a few milliseconds for the largest
 * string allowed), and `utf8.len` counts in chunks of {@link UTF8_CHUNK_BYTES}, charged to the
 * instruction budget as it goes and time-sliced between chunks inside an action or a timer
 * (`sliced_call.ts`). Results and errors are those of Lua 5.3 (fengari's `lutf8lib.js`).
 *
 * @module
 */
import { lauxlib, lua, type LuaState, toLua } from "./fengari.ts";
import { guard } from "./guard.ts";
import { runInSlices } from "./sliced_call.ts";
import type { LuaVm } from "./vm.ts";

/** Bytes `utf8.len` walks between two chances to end the slice. */
export const UTF8_CHUNK_BYTES = 1 << 20;

/** Options of {@link installBulkStrings}. */
export interface BulkStringOptions {
  /** Longest string `string.rep` makes; a longer one is refused before anything is copied. */
  maxBytes: number;
  /** Bytes of input per instruction charged. */
  bytesPerInstruction: number;
  /** Bytes `utf8.len` walks per chunk; {@link UTF8_CHUNK_BYTES} by default. */
  utf8ChunkBytes?: number;
}

const EMPTY = new Uint8Array(0);
const MAXUNICODE = 0x10ffff;
const LIMITS = [0xff, 0x7f, 0x7ff, 0xffff];

/**
 * Replaces `string.rep` and `utf8.len` of an opened sandbox (see the module comment), or only
 * those of the `libraries` named (a library made later, on first read).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { installBulkStrings } from "./bulk_strings.ts";
 * import { lauxlib, lua, lualib, toLua } from "./fengari.ts";
 * const vm = new LuaVm();
 * for (const [name, open] of [["string", lualib.luaopen_string], ["utf8", lualib.luaopen_utf8]] as const) {
 *   lauxlib.luaL_requiref(vm.L, toLua(name), open, 1);
 *   lua.lua_pop(vm.L, 1);
 * }
 * installBulkStrings(vm, { maxBytes: 1 << 24, bytesPerInstruction: 4 });
 * vm.evaluate("return utf8.len(string.rep('é', 3, '-'))"); // { ok: true, value: [5] }
 * ```
 */
export function installBulkStrings(
  vm: LuaVm,
  options: BulkStringOptions,
  libraries: readonly ("string" | "utf8")[] = ["string", "utf8"],
): void {
  if (libraries.includes("string")) {
    setLibraryFunction(vm, "string", "rep", (L) => stringRep(vm, L, options));
  }
  if (libraries.includes("utf8")) {
    setLibraryFunction(vm, "utf8", "len", (L) => utf8Len(vm, L, options));
  }
}

function setLibraryFunction(
  vm: LuaVm,
  library: string,
  name: string,
  fn: (L: LuaState) => number,
): void {
  const L = vm.L;
  lua.lua_getglobal(L, toLua(library));
  lua.lua_pushcfunction(L, guard(fn));
  lua.lua_setfield(L, -2, toLua(name));
  lua.lua_pop(L, 1);
}

function stringRep(vm: LuaVm, L: LuaState, options: BulkStringOptions): number {
  const s = lauxlib.luaL_checklstring(L, 1);
  const n = lauxlib.luaL_checkinteger(L, 2);
  const sep = lua.lua_type(L, 3) <= lua.LUA_TNIL ? EMPTY : lauxlib.luaL_checklstring(L, 3);
  const size = n > 0 ? s.length * n + sep.length * (n - 1) : 0;
  if (size > options.maxBytes) lauxlib.luaL_error(L, toLua("resulting string too large"));
  vm.charge(L, Math.ceil(size / options.bytesPerInstruction) + 1);
  if (size === 0) {
    lua.lua_pushlstring(L, EMPTY, 0);
    return 1;
  }
  // The result is `s .. sep` repeated, cut to size: one copy of each, then doubling copies.
  const out = new Uint8Array(size);
  out.set(s);
  if (n > 1) out.set(sep, s.length);
  let filled = Math.min(size, s.length + sep.length);
  while (filled < size) {
    const length = Math.min(filled, size - filled);
    out.copyWithin(filled, 0, length);
    filled += length;
  }
  lua.lua_pushlstring(L, out, size);
  return 1;
}

/** A position relative to the end when negative, as Lua's `u_posrelat`. */
function relative(pos: number, length: number): number {
  if (pos >= 0) return pos;
  return -pos > length ? 0 : length + pos + 1;
}

function utf8Len(vm: LuaVm, L: LuaState, options: BulkStringOptions): number {
  const s = lauxlib.luaL_checklstring(L, 1);
  const length = s.length;
  let posi = relative(lauxlib.luaL_optinteger(L, 2, 1), length);
  let posj = relative(lauxlib.luaL_optinteger(L, 3, -1), length);
  lauxlib.luaL_argcheck(
    L,
    posi >= 1 && posi - 1 <= length,
    2,
    toLua("initial position out of string"),
  );
  posi--;
  lauxlib.luaL_argcheck(L, posj - 1 < length, 3, toLua("final position out of string"));
  posj--;
  lua.lua_settop(L, 1); // the string stays anchored across a yield
  const chunkBytes = options.utf8ChunkBytes ?? UTF8_CHUNK_BYTES;
  let n = 0;
  return runInSlices(vm, L, (L) => {
    const started = posi;
    const stop = Math.min(posj, posi + chunkBytes - 1);
    while (posi <= stop) {
      if ((s[posi] as number) < 0x80) posi++;
      else {
        const next = decodeEnd(s, posi);
        if (next < 0) {
          lua.lua_pushnil(L);
          lua.lua_pushinteger(L, posi + 1);
          return 2;
        }
        posi = next;
      }
      n++;
    }
    vm.charge(L, Math.ceil((posi - started) / options.bytesPerInstruction) + 1);
    if (posi <= posj) return undefined;
    lua.lua_pushinteger(L, n);
    return 1;
  });
}

/** Where the UTF-8 sequence at `pos` ends, or -1 when it is invalid (fengari's `utf8_decode`). */
function decodeEnd(s: Uint8Array, pos: number): number {
  let c = s[pos] as number;
  let res = 0;
  let count = 0;
  while (c & 0x40) {
    const cc = s[pos + ++count] ?? 0;
    if ((cc & 0xc0) !== 0x80) return -1;
    res = (res << 6) | (cc & 0x3f);
    c <<= 1;
  }
  res |= (c & 0x7f) << (count * 5);
  if (count > 3 || res > MAXUNICODE || res <= (LIMITS[count] as number)) return -1;
  return pos + count + 1;
}
