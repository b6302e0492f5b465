/**
 * Raw reads of fengari tables (change detection's hot path). Through the public C-like API a
 * single field read takes a dozen calls (push the table, push the key, rawget, metatable,
 * settop, ...). fengari 0.1.5 keeps a table as a JavaScript `Map` from a key hash to an entry,
 * and its metatable as a field; reading them directly gives the same answer for string and
 * integer keys and `__index` tables at a fraction of the cost. Anything else (an `__index`
 * function, an object the VM has not seen yet) answers `undefined`, and the caller takes the API
 * path. Checked once, on first use ({@link rawReadsOn}); off, every read answers "cannot tell".
 *
 * @module
 */
import { lauxlib, lua, type LuaString, toLua } from "../fengari.ts";

/** fengari's value cell (`TValue`). */
export interface RawValue {
  readonly type: number;
  readonly value: unknown;
}

/** One entry of a fengari table; entries form a list in insertion order. */
interface RawEntry {
  readonly key: RawValue;
  readonly value: RawValue;
  readonly n: RawEntry | undefined;
}

/** fengari's table object, as `lua_topointer` returns it. */
export interface RawTable {
  readonly strong: Map<unknown, RawEntry>;
  readonly metatable: RawTable | null;
  readonly f: RawEntry | undefined;
}

/** Basic type tags (without variant bits), as `lua_type` returns them. */
const TNIL = 0;
const TTABLE = 5;
const TFUNCTION = 6;
/** Integer numbers: `LUA_TNUMBER` with variant bit 1. */
const TNUMINT = 3 | (1 << 4);
const TSTRING = 4;
const MAX_INDEX_CHAIN = 64;

const stringHashes = new WeakMap<LuaString, string>();

/** fengari's hash of a string key (`luaS_hash`): `|` then each byte in hexadecimal. */
function stringHash(key: LuaString): string {
  let hash = stringHashes.get(key);
  if (hash === undefined) {
    hash = "|";
    for (let i = 0; i < key.length; i++) hash += (key[i] as number).toString(16);
    stringHashes.set(key, hash);
  }
  return hash;
}

const INDEX_HASH = stringHash(toLua("__index"));

/**
 * Looks up `table[key]` through `__index` tables without running Lua. Returns the value cell,
 * `null` for nil, or `undefined` when the fast path cannot decide (it is off, an `__index`
 * function would run, or the chain is too long).
 *
 * @example
 * ```ts
 * import { rawField, type RawTable } from "./raw_reads.ts";
 * import { LuaVm } from "../vm.ts";
 * import { toLua } from "../fengari.ts";
 * const vm = new LuaVm();
 * const t = vm.evaluate("return {name = 'Ada'}");
 * if (t.ok) rawField((t.value[0] as { raw: RawTable }).raw, toLua("name")); // the cell of "Ada"
 * ```
 */
export function rawField(table: RawTable, key: LuaString | number): RawValue | null | undefined {
  if (enabled !== true && !rawReadsOn()) return undefined;
  const hash = typeof key === "number" ? key : stringHash(key);
  let current = table;
  for (let depth = 0; depth < MAX_INDEX_CHAIN; depth++) {
    const found = current.strong.get(hash)?.value;
    if (found !== undefined && found.type !== TNIL) return found;
    const meta = current.metatable;
    if (meta === null) return null;
    const handler = meta.strong.get(INDEX_HASH)?.value;
    if (handler === undefined) return null;
    const kind = handler.type & 0x0f;
    if (kind === TTABLE) {
      current = handler.value as RawTable;
      continue;
    }
    return kind === TFUNCTION ? undefined : null;
  }
  return undefined;
}

/**
 * Calls `visit` with each key and value cell of a table, in fengari's order; stops early when
 * `visit` returns false. Returns false when the fast path is off.
 *
 * @example
 * ```ts
 * import { rawEntries, type RawTable } from "./raw_reads.ts";
 * import { LuaVm } from "../vm.ts";
 * const vm = new LuaVm();
 * const t = vm.evaluate("return {1, 2, 3}");
 * let count = 0;
 * if (t.ok) rawEntries((t.value[0] as { raw: RawTable }).raw, () => ++count > 0); // count is 3
 * ```
 */
export function rawEntries(
  table: RawTable,
  visit: (key: RawValue, value: RawValue) => boolean,
): boolean {
  if (enabled !== true && !rawReadsOn()) return false;
  for (let entry = table.f; entry !== undefined; entry = entry.n) {
    if (!visit(entry.key, entry.value)) break;
  }
  return true;
}

/** True for a key cell holding an integer. */
export function isIntegerKey(key: RawValue): boolean {
  return key.type === TNUMINT;
}

/** The bytes of a string cell, or `undefined` for other types. */
export function rawString(cell: RawValue): LuaString | undefined {
  if ((cell.type & 0x0f) !== TSTRING) return undefined;
  return (cell.value as { getstr(): LuaString }).getstr();
}

/** Checks the table layout against the API in a scratch state. */
function tableLayoutMatches(): boolean {
  try {
    const L = lauxlib.luaL_newstate();
    lua.lua_createtable(L, 0, 0); // the object
    lua.lua_pushinteger(L, 42);
    lua.lua_setfield(L, -2, toLua("own"));
    lua.lua_pushstring(L, toLua("first"));
    lua.lua_rawseti(L, -2, 1);
    lua.lua_createtable(L, 0, 0); // its metatable
    lua.lua_createtable(L, 0, 0); // the __index table
    lua.lua_pushstring(L, toLua("Kind"));
    lua.lua_setfield(L, -2, toLua("type"));
    lua.lua_setfield(L, -2, toLua("__index"));
    lua.lua_setmetatable(L, -2);
    const table = lua.lua_topointer(L, -1) as RawTable;
    const own = rawField(table, toLua("own"));
    const first = rawField(table, 1);
    const inherited = rawField(table, toLua("type"));
    const missing = rawField(table, toLua("missing"));
    const text = (cell: RawValue | null | undefined) =>
      cell ? new TextDecoder().decode(rawString(cell)) : undefined;
    let keys = 0;
    rawEntries(table, (key) => {
      keys += isIntegerKey(key) || rawString(key) !== undefined ? 1 : 0;
      return true;
    });
    return own?.type === TNUMINT && own.value === 42 && text(first) === "first" &&
      text(inherited) === "Kind" && missing === null && keys === 2;
  } catch {
    return false;
  }
}

// Checked on first use rather than at load (a scratch state a cold start need not make). The
// raw reads run during their own check, so they are on while it runs.
let enabled: boolean | undefined;

/**
 * Whether fengari's table layout matched (the raw reads are on); checked on the first call.
 *
 * @example
 * ```ts
 * import { rawReadsOn } from "./raw_reads.ts";
 * rawReadsOn(); // true with fengari 0.1.5
 * ```
 */
export function rawReadsOn(): boolean {
  if (enabled === undefined) {
    enabled = true;
    enabled = tableLayoutMatches();
  }
  return enabled;
}
