/**
 * Everything this server knows of fengari's private layout, in one place, checked once at
 * start-up against the public API. Each use has a fallback when its check fails (a different
 * fengari): the fast path is simply off and the public API does the work.
 *
 * - **Raw reads** (change detection's hot path). Through the public C-like API a single field
 *   read takes a dozen calls (push the table, push the key, rawget, metatable, settop, ...).
 *   fengari 0.1.5 keeps a table as a JavaScript `Map` from a key hash to an entry, and its
 *   metatable as a field; reading them directly gives the same answer for string and integer
 *   keys and `__index` tables at a fraction of the cost. Anything else (an `__index` function,
 *   an object the VM has not seen yet) answers `undefined`, and the caller takes the API path.
 * - **Shared compiled chunks.** Every session runs the same code (the sandbox prelude, the app
 *   model, the site's `main.lua`); compiling it again per session was most of a new session's
 *   cost and memory. A compiled prototype is read-only, so a chunk is compiled once per process
 *   and each later load makes a new closure over the shared prototype with its own `_ENV`, as
 *   `lua_load` does after parsing. The public API cannot make a closure from a prototype, so
 *   this uses a closure's `p` and `upvals` and a cell's `setclLvalue`. Shared prototypes never
 *   cache closures (Lua 5.3's `cache` field; Lua 5.4 has none), since a cached closure could
 *   hand one session a function made in another.
 * - **The string operand cap.** fengari joins strings (`..`) as one VM instruction, out of the
 *   count hook's sight, and measures each operand through its cell's `vslen`; wrapping that
 *   method (shared by every state) refuses operands past a size.
 *
 * @module
 */
import { lauxlib, lua, type LuaState, type LuaString, toLua } from "./fengari.ts";

/** A state, as far as used here: its stack of cells. */
interface State {
  readonly stack: (Cell | undefined)[];
  readonly top: number;
}

/** The cell on top of a state's stack. */
function topCell(L: LuaState): Cell | undefined {
  const state = L as unknown as State;
  return state.stack[state.top - 1];
}

// ---- Raw reads ----------------------------------------------------------------------------

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
 * import { rawField, type RawTable } from "./fengari_internals.ts";
 * import { LuaVm } from "./vm.ts";
 * import { toLua } from "./fengari.ts";
 * const vm = new LuaVm();
 * const t = vm.evaluate("return {name = 'Ada'}");
 * if (t.ok) rawField((t.value[0] as { raw: RawTable }).raw, toLua("name")); // the cell of "Ada"
 * ```
 */
export function rawField(table: RawTable, key: LuaString | number): RawValue | null | undefined {
  if (!enabled) return undefined;
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
 * import { rawEntries, type RawTable } from "./fengari_internals.ts";
 * import { LuaVm } from "./vm.ts";
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
  if (!enabled) return false;
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

// ---- Shared compiled chunks ----------------------------------------------------------------

/** fengari's function prototype, as far as used here. */
interface Proto {
  readonly p: Proto[];
  readonly upvalues: unknown[];
}

/** fengari's Lua closure. */
interface Closure {
  p: Proto | null;
  readonly upvals: unknown[];
}

/** fengari's stack cell (`TValue`), as the chunk cache uses it. */
interface Cell {
  readonly type: number;
  readonly value: unknown;
  setclLvalue(closure: Closure): void;
}

interface Compiled {
  proto: Proto;
  newClosure: (L: LuaState, upvalues: number) => Closure;
  newCell: () => unknown;
}

/** fengari's tag of a Lua closure (`LUA_TFUNCTION` with variant 0). */
const LUA_TLCL = 6;
/** Most chunks kept; the oldest is dropped first. */
const MAX_CHUNKS = 256;
/** Larger chunks are not kept (inline code sent by a client in development, say). */
const MAX_SOURCE = 1024 * 1024;

const chunks = new Map<string, Compiled>();

function cacheKey(code: string, chunkName: string): string | undefined {
  return code.length > MAX_SOURCE ? undefined : `${chunkName}\u0000${code}`;
}

/**
 * Pushes a new closure for a chunk compiled earlier in this process, with `_ENV` set to the
 * state's globals. Returns false, pushing nothing, when the chunk is not known.
 *
 * @example
 * ```ts
 * import { pushCompiled } from "./fengari_internals.ts";
 * import { lauxlib } from "./fengari.ts";
 * const L = lauxlib.luaL_newstate();
 * pushCompiled(L, "return 1", "=never-compiled"); // false: compile it, then rememberCompiled
 * ```
 */
export function pushCompiled(L: LuaState, code: string, chunkName: string): boolean {
  if (!closuresEnabled) return false;
  const key = cacheKey(code, chunkName);
  const entry = key === undefined ? undefined : chunks.get(key);
  if (entry === undefined) return false;
  const upvalues = entry.proto.upvalues.length;
  const closure = entry.newClosure(L, upvalues);
  closure.p = entry.proto;
  for (let i = 0; i < upvalues; i++) closure.upvals[i] = entry.newCell();
  lua.lua_pushnil(L);
  (topCell(L) as Cell).setclLvalue(closure);
  if (upvalues >= 1) {
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    lua.lua_setupvalue(L, -2, 1);
  }
  return true;
}

/**
 * Keeps the function just compiled from `code` (on top of the stack) for later sessions. Does
 * nothing if the layout is not the expected one.
 *
 * @example
 * ```ts
 * import { rememberCompiled } from "./fengari_internals.ts";
 * import { lauxlib, toLua } from "./fengari.ts";
 * const L = lauxlib.luaL_newstate();
 * const code = "return 1";
 * const bytes = toLua(code);
 * if (lauxlib.luaL_loadbufferx(L, bytes, bytes.length, toLua("=one"), toLua("t")) === 0) {
 *   rememberCompiled(L, code, "=one");
 * }
 * ```
 */
export function rememberCompiled(L: LuaState, code: string, chunkName: string): void {
  if (!closuresEnabled) return;
  const key = cacheKey(code, chunkName);
  if (key === undefined || chunks.has(key)) return;
  const cell = topCell(L);
  if (!cell || cell.type !== LUA_TLCL || typeof cell.setclLvalue !== "function") return;
  const closure = cell.value as Closure;
  const proto = closure.p;
  if (!proto || !Array.isArray(proto.p) || !Array.isArray(proto.upvalues)) return;
  const upvalue = closure.upvals[0];
  if (proto.upvalues.length > 0 && (upvalue === null || typeof upvalue !== "object")) return;
  const ClosureClass = closure.constructor as new (L: LuaState, n: number) => Closure;
  const CellClass = (upvalue as object | undefined)?.constructor as new (
    type: number,
    value: unknown,
  ) => unknown;
  neverCacheClosures(proto);
  if (chunks.size >= MAX_CHUNKS) chunks.delete(chunks.keys().next().value as string);
  chunks.set(key, {
    proto,
    newClosure: (L, n) => new ClosureClass(L, n),
    newCell: () => new CellClass(lua.LUA_TNIL, null),
  });
}

function neverCacheClosures(proto: Proto): void {
  Object.defineProperty(proto, "cache", { get: () => null, set: () => {}, configurable: true });
  for (const child of proto.p) neverCacheClosures(child);
}

// ---- The string operand cap ---------------------------------------------------------------

const CAPPED = Symbol("capped");

/**
 * Makes fengari refuse string operands longer than `maxBytes` (in `..`, `#` and number
 * conversions) by throwing `RangeError("string too large")` after `onRefuse`. Installed once per
 * process; returns false when the cell layout is not the expected one.
 *
 * @example
 * ```ts
 * import { capStringOperands } from "./fengari_internals.ts";
 * capStringOperands(16 * 1024 * 1024, () => {});
 * ```
 */
export function capStringOperands(maxBytes: number, onRefuse: (message: string) => void): boolean {
  const L = lauxlib.luaL_newstate();
  lua.lua_pushstring(L, toLua(""));
  const cell = topCell(L);
  if (cell === undefined) return false;
  const proto = Object.getPrototypeOf(cell) as { vslen?: () => number; [CAPPED]?: boolean };
  const original = proto.vslen;
  if (proto[CAPPED]) return true;
  if (typeof original !== "function") return false;
  proto.vslen = function (this: unknown) {
    const length = original.call(this);
    if (length > maxBytes) {
      onRefuse("string too large");
      throw new RangeError("string too large");
    }
    return length;
  };
  proto[CAPPED] = true;
  return true;
}

// ---- The self-check -----------------------------------------------------------------------

/** Whether closures can be made over shared prototypes (checked on a scratch chunk). */
function closureLayoutMatches(): boolean {
  try {
    const L = lauxlib.luaL_newstate();
    const code = "return 40 + 2";
    const bytes = toLua(code);
    if (lauxlib.luaL_loadbufferx(L, bytes, bytes.length, toLua("=check"), toLua("t")) !== 0) {
      return false;
    }
    const cell = topCell(L);
    const closure = cell?.value as Closure | undefined;
    return cell?.type === LUA_TLCL && typeof cell.setclLvalue === "function" &&
      Array.isArray(closure?.p?.p) && Array.isArray(closure?.upvals);
  } catch {
    return false;
  }
}

// The raw reads run during their own check, so they start enabled.
let enabled = true;
enabled = tableLayoutMatches();
const rawEnabled = enabled;
const closuresEnabled = closureLayoutMatches();

/**
 * Which internals matched fengari's layout at start-up; each that did not is replaced by the
 * public API (slower, same answers).
 *
 * @example
 * ```ts
 * import { internalsStatus } from "./fengari_internals.ts";
 * internalsStatus(); // { rawReads: true, sharedChunks: true }
 * ```
 */
export function internalsStatus(): { rawReads: boolean; sharedChunks: boolean } {
  return { rawReads: rawEnabled, sharedChunks: closuresEnabled };
}
