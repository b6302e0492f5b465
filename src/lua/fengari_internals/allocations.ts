/**
 * fengari's allocations, for the memory budget (fengari has no allocator hook). Its modules call
 * each other through their `module.exports` objects for the operations that grow a session's
 * memory, so wrapping those exports sees every growth: `ltable.luaH_new` (every table),
 * `ltable.luaH_setfrom` / `luaH_setint` (a new key: the table's `Map` grows), and
 * `lobject.setsvalue2s` (the result of `..`) / `lobject.pushsvalue2s` (every string a library
 * function or the API pushes). Also the walk of a state's reachable objects
 * ({@link reachableObjects}). Checked once at load ({@link allocationHooksOn}); off, the memory
 * budget is not enforced.
 *
 * @module
 */
import fengari from "./fengari_esm.js";
import { lua, type LuaState } from "../fengari.ts";

const { ltable, lobject } = fengari;

/** What the memory budget is told of. */
export interface AllocationHooks {
  /** A new table (an object the hooks may tag). */
  table(L: LuaState, table: object): void;
  /** A new key in a table; `L` is absent when fengari does not pass it. */
  entry(table: object, L: LuaState | undefined): void;
  /** A string of `bytes` bytes made or pushed. */
  string(L: LuaState, bytes: number): void;
}

type Exports = Record<string, unknown>;
const TABLE_EXPORTS = ["luaH_new", "luaH_setfrom", "luaH_setint"] as const;
const STRING_EXPORTS = ["setsvalue2s", "pushsvalue2s"] as const;

const hooksOn = TABLE_EXPORTS.every((name) => typeof (ltable as Exports)[name] === "function") &&
  STRING_EXPORTS.every((name) => typeof (lobject as Exports)[name] === "function");

let installed = false;

/**
 * Wraps fengari's allocating exports once per process to call `hooks`. Returns false (and
 * changes nothing) when the exports are not the expected ones.
 *
 * @example
 * ```ts ignore
 * import { hookAllocations } from "./allocations.ts";
 * hookAllocations({ table() {}, entry() {}, string() {} });
 * ```
 */
export function hookAllocations(hooks: AllocationHooks): boolean {
  if (!hooksOn) return false;
  if (installed) return true;
  installed = true;
  type Table = { strong: Map<unknown, unknown> };
  const tables = ltable as Record<string, (...args: never[]) => unknown>;
  const objects = lobject as Record<string, (...args: never[]) => unknown>;
  const luaHNew = tables.luaH_new as (L: LuaState) => object;
  tables.luaH_new = ((L: LuaState) => {
    const table = luaHNew(L);
    hooks.table(L, table);
    return table;
  }) as never;
  const setFrom = tables.luaH_setfrom as (L: LuaState, t: Table, k: unknown, v: unknown) => void;
  tables.luaH_setfrom = ((L: LuaState, t: Table, k: unknown, v: unknown) => {
    const before = t.strong.size;
    setFrom(L, t, k, v);
    if (t.strong.size > before) hooks.entry(t, L);
  }) as never;
  const setInt = tables.luaH_setint as (t: Table, k: number, v: unknown) => void;
  tables.luaH_setint = ((t: Table, k: number, v: unknown) => {
    const before = t.strong.size;
    setInt(t, k, v);
    if (t.strong.size > before) hooks.entry(t, undefined);
  }) as never;
  type Text = { realstring: Uint8Array };
  for (const name of STRING_EXPORTS) {
    const original = objects[name] as (L: LuaState, a: unknown, ts?: Text) => void;
    objects[name] = ((L: LuaState, a: unknown, ts?: Text) => {
      original(L, a, ts);
      hooks.string(L, ((ts ?? a) as Text).realstring.length);
    }) as never;
  }
  return true;
}

/**
 * The object shared by a state and all its threads (fengari's `global_State`), to tag.
 *
 * @example
 * ```ts
 * import { stateGlobal } from "./allocations.ts";
 * import { lauxlib, lua } from "../fengari.ts";
 * const L = lauxlib.luaL_newstate();
 * stateGlobal(L) === stateGlobal(lua.lua_newthread(L)); // true
 * ```
 */
export function stateGlobal(L: LuaState): object {
  return (L as unknown as { l_G: object }).l_G;
}

/**
 * True when Lua runs protected on this thread (an error thrown now is caught by a `pcall`).
 *
 * @example
 * ```ts
 * import { runsProtected } from "./allocations.ts";
 * import { lauxlib } from "../fengari.ts";
 * runsProtected(lauxlib.luaL_newstate()); // false
 * ```
 */
export function runsProtected(L: LuaState | undefined): boolean {
  return Boolean((L as unknown as { errorJmp: unknown } | undefined)?.errorJmp);
}

/** Estimated bytes of each kind of object, for {@link reachableObjects}. */
export interface ObjectSizes {
  table: number;
  entry: number;
  string: number;
  closure: number;
  upvalue: number;
  slot: number;
  instruction: number;
}

interface RawCell {
  type: number;
  value: unknown;
}
interface RawTable {
  strong: Map<unknown, { key: RawCell; value: RawCell }>;
  metatable: RawTable | null;
}
interface RawThread {
  stack: (RawCell | undefined)[];
  top: number;
  l_G: { l_registry: RawCell; mt: (RawTable | null)[]; mainthread: RawThread };
}

/**
 * Estimates the bytes reachable from a state's registry, main thread and type metatables:
 * tables, strings, closures and their prototypes, userdata and coroutines, each counted once.
 *
 * @example
 * ```ts
 * import { reachableObjects } from "./allocations.ts";
 * import { lauxlib } from "../fengari.ts";
 * const sizes = { table: 160, entry: 120, string: 80, closure: 64, upvalue: 40, slot: 24, instruction: 48 };
 * reachableObjects(lauxlib.luaL_newstate(), sizes); // a few hundred bytes
 * ```
 */
export function reachableObjects(L: LuaState, sizes: ObjectSizes): number {
  const g = (L as unknown as RawThread).l_G;
  const seen = new Set<unknown>();
  const pending: unknown[] = [g.l_registry.value, g.mainthread, ...g.mt];
  let bytes = 0;
  const visitCell = (cell: RawCell | undefined) => {
    if (!cell) return;
    const kind = cell.type & 0x0f;
    if (kind === lua.LUA_TSTRING) {
      const ts = cell.value as { realstring: Uint8Array };
      if (!seen.has(ts)) {
        seen.add(ts);
        bytes += sizes.string + ts.realstring.length;
      }
    } else if (kind >= lua.LUA_TTABLE && kind <= lua.LUA_TTHREAD) pending.push(cell.value);
  };
  while (pending.length > 0) {
    const object = pending.pop() as Record<string, unknown> | null | undefined;
    if (!object || typeof object !== "object" || seen.has(object)) continue;
    seen.add(object);
    if (object.strong instanceof Map) {
      const table = object as unknown as RawTable;
      bytes += sizes.table + table.strong.size * sizes.entry;
      for (const entry of table.strong.values()) {
        visitCell(entry.key);
        visitCell(entry.value);
      }
      pending.push(table.metatable);
    } else if (Array.isArray(object.upvals)) { // Lua closure
      bytes += sizes.closure + object.upvals.length * sizes.upvalue;
      for (const upvalue of object.upvals as RawCell[]) visitCell(upvalue);
      pending.push(object.p);
    } else if (Array.isArray(object.upvalue)) { // JavaScript closure
      bytes += sizes.closure + object.upvalue.length * sizes.slot;
      for (const upvalue of object.upvalue as RawCell[]) visitCell(upvalue);
    } else if (Array.isArray(object.code)) { // prototype
      bytes += (object.code as unknown[]).length * sizes.instruction;
      for (const constant of object.k as RawCell[]) visitCell(constant);
      for (const nested of object.p as unknown[]) pending.push(nested);
    } else if (Array.isArray(object.stack)) { // thread
      const thread = object as unknown as RawThread;
      bytes += thread.stack.length * sizes.slot;
      for (let i = 0; i < thread.top; i++) visitCell(thread.stack[i]);
    } else if ("uservalue" in object) { // userdata
      bytes += sizes.closure;
      visitCell(object.uservalue as RawCell);
      pending.push(object.metatable);
    }
  }
  return bytes;
}

/**
 * Whether fengari's allocating exports are the expected ones (the memory budget can work).
 *
 * @example
 * ```ts
 * import { allocationHooksOn } from "./allocations.ts";
 * allocationHooksOn(); // true with fengari 0.1.5
 * ```
 */
export function allocationHooksOn(): boolean {
  return hooksOn;
}
