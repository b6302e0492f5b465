/**
 * Shared key strings. fengari makes a new string object (a `TString` over its own `Uint8Array`
 * and `ArrayBuffer`, about 250 bytes) for every name it stores, so each session held its own
 * copy of every library and API name: about 180 strings, a third of an idle session's heap. A
 * fengari string never changes after it is made (its bytes, and a hash computed from them), and
 * holds nothing of the state that made it, so the names of the tables every session builds the
 * same way are replaced, in place, by one copy per process. Only names are shared: a table's
 * cells stay its own. Checked once, on first use ({@link sharedStringsOn}); off, nothing is shared.
 *
 * @module
 */
import { lauxlib, lua, type LuaString, toLua } from "../fengari.ts";
import { rawEntries, rawReadsOn, rawString, type RawTable } from "./raw_reads.ts";

/** A table entry's key cell, whose string may be replaced by an equal one. */
interface KeyCell {
  readonly type: number;
  value: unknown;
}

/** Names longer than this are not shared: library and API names are short. */
const MAX_SHARED_BYTES = 64;
/** At most this many distinct names are kept for the process. */
const MAX_SHARED = 4096;

/** The process's copy of each shared name, by its text as bytes in hexadecimal. */
const shared = new Map<string, unknown>();

function hex(bytes: LuaString): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += (bytes[i] as number).toString(16).padStart(2, "0");
  return text;
}

/**
 * Replaces the string keys of a table by the process's copy of each name (making the first one
 * seen the copy); returns how many were replaced.
 *
 * @example
 * ```ts
 * import { shareKeys } from "./shared_strings.ts";
 * import type { RawTable } from "./raw_reads.ts";
 * import { LuaVm } from "../vm.ts";
 * const one = new LuaVm().evaluate("return {alpha = 1}");
 * const two = new LuaVm().evaluate("return {alpha = 2}");
 * if (one.ok && two.ok) {
 *   shareKeys((one.value[0] as { raw: RawTable }).raw);
 *   shareKeys((two.value[0] as { raw: RawTable }).raw); // 1: two's "alpha" is one's
 * }
 * ```
 */
export function shareKeys(table: RawTable): number {
  if (!sharedStringsOn()) return 0;
  let replaced = 0;
  rawEntries(table, (key) => {
    const bytes = rawString(key);
    if (bytes === undefined || bytes.length > MAX_SHARED_BYTES) return true;
    const cell = key as unknown as KeyCell;
    const name = hex(bytes);
    const known = shared.get(name);
    if (known === undefined) {
      if (shared.size < MAX_SHARED) shared.set(name, cell.value);
    } else if (known !== cell.value) {
      cell.value = known;
      replaced++;
    }
    return true;
  });
  return replaced;
}

/**
 * {@link shareKeys} on a table and on each table it holds (the global table and its libraries).
 *
 * @example
 * ```ts
 * import { shareNames } from "./shared_strings.ts";
 * import type { RawTable } from "./raw_reads.ts";
 * import { LuaVm } from "../vm.ts";
 * const vm = new LuaVm();
 * shareNames(vm.globals().raw as RawTable);
 * ```
 */
export function shareNames(table: RawTable): number {
  let replaced = shareKeys(table);
  rawEntries(table, (_, value) => {
    if ((value.type & 0x0f) === TTABLE) replaced += shareKeys(value.value as RawTable);
    return true;
  });
  return replaced;
}

const TTABLE = 5;

/** Two states share a key; each still reads, writes and iterates its own table as before. */
function layoutMatches(): boolean {
  if (!rawReadsOn()) return false;
  try {
    const states = [lauxlib.luaL_newstate(), lauxlib.luaL_newstate()];
    const tables = states.map((L, i) => {
      lua.lua_createtable(L, 0, 0);
      lua.lua_pushinteger(L, i + 1);
      lua.lua_setfield(L, -2, toLua("shared_check"));
      return lua.lua_topointer(L, -1) as RawTable;
    });
    let first: unknown;
    rawEntries(tables[0] as RawTable, (key) => !(first = (key as unknown as KeyCell).value));
    rawEntries(tables[1] as RawTable, (key) => !((key as unknown as KeyCell).value = first));
    const L = states[1] as Parameters<typeof lua.lua_gettop>[0];
    lua.lua_getfield(L, -1, toLua("shared_check"));
    const read = lua.lua_tonumber(L, -1);
    lua.lua_pop(L, 1);
    lua.lua_pushinteger(L, 5);
    lua.lua_setfield(L, -2, toLua("shared_check"));
    lua.lua_pushnil(L);
    const hasNext = lua.lua_next(L, -2) !== 0;
    const key = hasNext ? lua.lua_tolstring(L, -2) : null;
    const value = hasNext ? lua.lua_tonumber(L, -1) : 0;
    const other = states[0] as typeof L;
    lua.lua_getfield(other, -1, toLua("shared_check"));
    const untouched = lua.lua_tonumber(other, -1);
    return read === 2 && key !== null && new TextDecoder().decode(key) === "shared_check" &&
      value === 5 && untouched === 1;
  } catch {
    return false;
  }
}

// Checked on first use rather than at load (two scratch states a cold start need not make).
let enabled: boolean | undefined;

/**
 * Whether names are shared between sessions (fengari's layout matched at load).
 *
 * @example
 * ```ts
 * import { sharedStringsOn } from "./shared_strings.ts";
 * sharedStringsOn(); // true with fengari 0.1.5
 * ```
 */
export function sharedStringsOn(): boolean {
  return enabled ??= layoutMatches();
}
