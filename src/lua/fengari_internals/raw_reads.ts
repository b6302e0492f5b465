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
import { lauxlib, lua, lualib, type LuaString, toLua } from "../fengari.ts";

/** fengari's value cell (`TValue`). */
export interface RawValue {
  readonly type: number;
  readonly value: unknown;
}

/**
 * One entry of a fengari table; entries form a list in insertion order. An assignment to a key
 * present updates its value cell in place; removing the key (assigning nil) unlinks the entry and
 * sets its `value` to `undefined` for good (a later assignment makes a new entry).
 */
export interface RawEntry {
  readonly key: RawValue;
  readonly value: RawValue | undefined;
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
const TYPE_HASH = stringHash(toLua("type"));

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
  return fieldByHash(table, typeof key === "number" ? key : stringHash(key));
}

/**
 * {@link rawField} of the `type` field (SPEC 5), asked of every object on every batch.
 *
 * @example
 * ```ts
 * import { rawTypeField, type RawTable } from "./raw_reads.ts";
 * import { LuaVm } from "../vm.ts";
 * const vm = new LuaVm();
 * const t = vm.evaluate("return setmetatable({}, {__index = {type = 'Row'}})");
 * if (t.ok) rawTypeField((t.value[0] as { raw: RawTable }).raw); // the cell of "Row"
 * ```
 */
export function rawTypeField(table: RawTable): RawValue | null | undefined {
  if (enabled !== true && !rawReadsOn()) return undefined;
  const own = table.strong.get(TYPE_HASH)?.value;
  if (own !== undefined && own.type !== TNIL) return own;
  const meta = table.metatable;
  if (meta === null) return null;
  // Objects of one prototype share its metatable: while that metatable's `__index` is still the
  // same table and its `type` entry is still there, the answer is that entry's cell.
  if (meta === typeMemo.meta) {
    const index = (typeMemo.indexEntry as RawEntry).value;
    if (index !== undefined && index.value === typeMemo.target && (index.type & 0x0f) === TTABLE) {
      const cell = (typeMemo.typeEntry as RawEntry).value;
      if (cell !== undefined && cell.type !== TNIL) return cell;
    }
  }
  const indexEntry = meta.strong.get(INDEX_HASH);
  const index = indexEntry?.value;
  if (index !== undefined && (index.type & 0x0f) === TTABLE) {
    const target = index.value as RawTable;
    const typeEntry = target.strong.get(TYPE_HASH);
    if (typeEntry?.value !== undefined && typeEntry.value.type !== TNIL) {
      typeMemo.meta = meta;
      typeMemo.indexEntry = indexEntry;
      typeMemo.target = target;
      typeMemo.typeEntry = typeEntry;
      return typeEntry.value;
    }
  }
  return fieldByHash(table, TYPE_HASH);
}

/** The last metatable whose `__index` table gave a `type` ({@link rawTypeField}). */
const typeMemo: {
  meta: RawTable | null;
  indexEntry: RawEntry | undefined;
  target: RawTable | null;
  typeEntry: RawEntry | undefined;
} = { meta: null, indexEntry: undefined, target: null, typeEntry: undefined };

/**
 * What one path step keeps between batches ({@link rawFieldMemo}): the table it read last and
 * that table's own entry for the key, and the raw value last decoded from it with its decoding
 * (left to the caller).
 */
export interface StepMemo {
  table: RawTable | null;
  entry: RawEntry | undefined;
  /** The raw value (a string or object cell's `value`) last decoded, and what it decoded to. */
  decodedFrom: unknown;
  decoded: unknown;
}

/**
 * A new, empty {@link StepMemo}.
 *
 * @example
 * ```ts
 * import { newStepMemo } from "./raw_reads.ts";
 * newStepMemo().table; // null
 * ```
 */
export function newStepMemo(): StepMemo {
  return { table: null, entry: undefined, decodedFrom: undefined, decoded: undefined };
}

/**
 * {@link rawField} through a memo: while `table` is the table read last and the key's own entry
 * is still in it, the entry's cell is the answer (an own field shadows any `__index`), with no
 * hashing and no lookup. Otherwise it looks up and remembers the own entry, if there is one.
 *
 * @example
 * ```ts
 * import { newStepMemo, rawFieldMemo, type RawTable } from "./raw_reads.ts";
 * import { LuaVm } from "../vm.ts";
 * import { toLua } from "../fengari.ts";
 * const vm = new LuaVm();
 * const t = vm.evaluate("return {name = 'Ada'}");
 * const memo = newStepMemo();
 * if (t.ok) rawFieldMemo((t.value[0] as { raw: RawTable }).raw, toLua("name"), memo); // "Ada"'s cell
 * ```
 */
export function rawFieldMemo(
  table: RawTable,
  key: LuaString | number,
  memo: StepMemo,
): RawValue | null | undefined {
  if (memo.table === table) {
    const cell = (memo.entry as RawEntry).value;
    if (cell !== undefined && cell.type !== TNIL) return cell;
  }
  if (enabled !== true && !rawReadsOn()) return undefined;
  const hash = typeof key === "number" ? key : stringHash(key);
  const own = table.strong.get(hash);
  const cell = own?.value;
  if (cell !== undefined && cell.type !== TNIL) {
    memo.table = table;
    memo.entry = own;
    return cell;
  }
  memo.table = null;
  memo.entry = undefined;
  return fieldByHash(table, hash);
}

/**
 * The cell a memo answers for `table` without any lookup (the key is not needed: the memo's
 * entry is the key's), or `undefined` when it cannot (another table, or the key was removed).
 *
 * @example
 * ```ts
 * import { memoCell, newStepMemo, type RawTable } from "./raw_reads.ts";
 * import { LuaVm } from "../vm.ts";
 * const vm = new LuaVm();
 * const t = vm.evaluate("return {}");
 * if (t.ok) memoCell(newStepMemo(), (t.value[0] as { raw: RawTable }).raw); // undefined
 * ```
 */
export function memoCell(memo: StepMemo, table: RawTable): RawValue | undefined {
  if (memo.table !== table) return undefined;
  const cell = (memo.entry as RawEntry).value;
  return cell !== undefined && cell.type !== TNIL ? cell : undefined;
}

function fieldByHash(table: RawTable, hash: unknown): RawValue | null | undefined {
  let current = table;
  for (let depth = 0; depth < MAX_INDEX_CHAIN; depth++) {
    const found: RawValue | undefined = current.strong.get(hash)?.value;
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
    if (!visit(entry.key, entry.value as RawValue)) break;
  }
  return true;
}

/**
 * A table's entries as a flat array (key, value type and value of each, in fengari's order),
 * for {@link sameEntries}; `undefined` when it is off or a value is a table without a string
 * `type` (whose own contents would matter too).
 *
 * @example
 * ```ts
 * import { entriesSnapshot, type RawTable, sameEntries } from "./raw_reads.ts";
 * import { LuaVm } from "../vm.ts";
 * const vm = new LuaVm();
 * const t = vm.evaluate("return {1, 'two'}");
 * if (t.ok) {
 *   const raw = (t.value[0] as { raw: RawTable }).raw;
 *   sameEntries(raw, entriesSnapshot(raw) ?? []); // true
 * }
 * ```
 */
export function entriesSnapshot(table: RawTable): unknown[] | undefined {
  if (enabled !== true && !rawReadsOn()) return undefined;
  const cells: unknown[] = [];
  for (let entry = table.f; entry !== undefined; entry = entry.n) {
    const cell = entry.value as RawValue;
    if ((cell.type & 0x0f) === TTABLE && !typed(cell.value as RawTable)) return undefined;
    cells.push(entry.key.value, cell.type, cell.value);
  }
  return cells;
}

/**
 * True when a table holds the same entries, in the same order, as when `snapshot` was taken
 * ({@link entriesSnapshot}) and its table values still have a string `type`: its value JSON is
 * then the same, with no value decoded or encoded. Keys and values compare by identity (a Lua
 * string is one immutable object).
 */
export function sameEntries(table: RawTable, snapshot: readonly unknown[]): boolean {
  if (enabled !== true && !rawReadsOn()) return false;
  let i = 0;
  const length = snapshot.length;
  for (let entry = table.f; entry !== undefined; entry = entry.n, i += 3) {
    const cell = entry.value as RawValue;
    if (
      i >= length || entry.key.value !== snapshot[i] || cell.type !== snapshot[i + 1] ||
      cell.value !== snapshot[i + 2]
    ) return false;
    if ((cell.type & 0x0f) === TTABLE && !typed(cell.value as RawTable)) return false;
  }
  return i === length;
}

function typed(table: RawTable): boolean {
  const cell = rawTypeField(table);
  // An empty `type` is no type (`typeOf` answers "").
  return cell !== null && cell !== undefined && (rawString(cell)?.length ?? 0) > 0;
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
    const plain = own?.type === TNUMINT && own.value === 42 && text(first) === "first" &&
      text(inherited) === "Kind" && text(rawTypeField(table)) === "Kind" && missing === null &&
      keys === 2;
    // The memo's rules: a key's entry is updated in place, and a removed key's entry is dead.
    const memo = newStepMemo();
    rawFieldMemo(table, toLua("own"), memo);
    const entry = memo.entry;
    lua.lua_pushinteger(L, 43);
    lua.lua_setfield(L, -2, toLua("own"));
    const updated = memo.entry === entry && rawFieldMemo(table, toLua("own"), memo)?.value === 43;
    lua.lua_pushnil(L);
    lua.lua_setfield(L, -2, toLua("own"));
    const removed = entry?.value === undefined && rawFieldMemo(table, toLua("own"), memo) === null;
    lua.lua_pushinteger(L, 44);
    lua.lua_setfield(L, -2, toLua("own"));
    const again = rawFieldMemo(table, toLua("own"), memo)?.value === 44 && memo.entry !== entry;
    return plain && updated && removed && again && typeMemoFollows();
  } catch {
    return false;
  }
}

// Checked on first use rather than at load (a scratch state a cold start need not make). The
// raw reads run during their own check, so they are on while it runs.
let enabled: boolean | undefined;

/** The `type` memo sees a prototype's `type` change, and a metatable's `__index` change. */
function typeMemoFollows(): boolean {
  const L = lauxlib.luaL_newstate();
  lua.lua_pushcfunction(L, lualib.luaopen_base);
  lua.lua_call(L, 0, 0);
  const run = (code: string) => {
    const chunk = toLua(code);
    lauxlib.luaL_loadbufferx(L, chunk, chunk.length, toLua("=check"), null);
    lua.lua_call(L, 0, 1);
  };
  run("P = {type = 'A'}; O = setmetatable({}, {__index = P}); return O");
  const object = lua.lua_topointer(L, -1) as RawTable;
  const text = () => {
    const cell = rawTypeField(object);
    return cell ? new TextDecoder().decode(rawString(cell)) : cell;
  };
  const first = text();
  run("P.type = 'B'");
  const changed = text();
  run("getmetatable(O).__index = {type = 'C'}");
  const replaced = text();
  run("getmetatable(O).__index = nil");
  const gone = text();
  typeMemo.meta = typeMemo.target = null;
  typeMemo.indexEntry = typeMemo.typeEntry = undefined;
  return gone === null && first === "A" && changed === "B" && replaced === "C";
}

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
