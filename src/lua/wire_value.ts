/**
 * The wire codec (SPEC 7): how a Lua value travels on the wire (value JSON) and the `type` the
 * server reports, and how a value the client writes becomes a Lua value.
 *
 * Objects never travel, only `{"obj": N}` with the VM's per-object id; sequences without a `type`
 * travel as arrays of their elements' value JSON. Coming back, arrays become sequences, objects
 * tables, and `{"obj": N}` the live object the client was shown.
 *
 * @module
 */
import { FailureError } from "../failure.ts";
import { lua, type LuaString, toLua } from "./fengari.ts";
import { pushJson } from "./json.ts";
import { getField } from "./navigate.ts";
import {
  entriesSnapshot,
  isIntegerKey,
  rawEntries,
  rawString,
  type RawTable,
  rawTypeField,
  sameEntries,
} from "./fengari_internals/raw_reads.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";

const TYPE_KEY = toLua("type");
const MAX_DEPTH = 32;
/** Client values nested deeper than this become nil. */
const MAX_CLIENT_DEPTH = 64;

/**
 * The `type` of a value: the string `type` field of a table (own or inherited), else `""`.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { typeOf } from "./wire_value.ts";
 * const vm = new LuaVm();
 * const r = vm.evaluate("return {type = 'Contact'}");
 * if (r.ok) typeOf(vm, r.value[0] ?? null); // "Contact"
 * ```
 */
export function typeOf(vm: LuaVm, value: LuaValue): string {
  if (value === null || typeof value !== "object" || value.kind !== "table") return "";
  // Asked of every object on every batch: read directly, and the type name decoded once while
  // objects keep showing the same one (most of them share a prototype's).
  const cell = rawTypeField(value.raw as RawTable);
  if (cell === null) return "";
  if (cell !== undefined) {
    if (cell.value === lastTypeFrom) return lastType;
    if ((cell.type & 0x0f) !== lua.LUA_TSTRING) return "";
    const text = vm.fromRaw(cell) as string;
    lastTypeFrom = cell.value;
    lastType = text;
    return text;
  }
  const field = getField(vm, value, TYPE_KEY);
  return field.ok && typeof field.value === "string" ? field.value : "";
}

/** The string cell value of the `type` last decoded by {@link typeOf}, and its text. */
let lastTypeFrom: unknown = undefined;
let lastType = "";

/**
 * Encodes a value as value JSON text. With `limit`, text that would pass `limit` bytes is not
 * built: the walk stops there and a {@link FailureError} with code `too-large` is thrown, so a
 * table shown many times cannot make the server build megabytes of text.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { valueJson } from "./wire_value.ts";
 * const vm = new LuaVm();
 * const r = vm.evaluate("return {1, 'two', {}}");
 * if (r.ok) valueJson(vm, r.value[0] ?? null); // '[1,"two",[]]'
 * ```
 */
export function valueJson(vm: LuaVm, value: LuaValue, type?: string, limit?: number): string {
  const budget: Budget = { left: limit ?? Infinity };
  try {
    // A caller that already knows the value's type spares looking it up a second time.
    if (value !== null && typeof value === "object" && value.kind === "table") {
      if ((type ?? typeOf(vm, value)) !== "") return spend(budget, objectRef(vm, value));
      return untypedJson(vm, value, budget);
    }
    return encode(vm, value, 0, undefined, budget);
  } catch (error) {
    if (error !== TOO_LARGE) throw error;
    throw new FailureError(
      "too-large",
      `The value's JSON passes the limit of ${limit} bytes; it was not sent`,
    );
  }
}

/**
 * The value JSON of a table without a `type`, at the top of a value. A list shown by a variable
 * is encoded again after every batch: its raw entries are kept with its JSON, and while they are
 * the very same (and its table elements still typed, so each is a reference), so is the JSON.
 */
function untypedJson(vm: LuaVm, table: LuaObject, budget: Budget): string {
  const raw = table.raw as RawTable;
  const memo = listMemos.get(table);
  if (memo !== undefined && memo.json.length <= budget.left && sameEntries(raw, memo.entries)) {
    return spend(budget, memo.json);
  }
  const elements = untypedSequence(vm, table, mostElements(budget));
  if (elements === undefined) return spend(budget, objectRef(vm, table));
  const json = encodeElements(vm, table, elements, 0, new Set<LuaObject>(), budget);
  // Worth keeping for lists only: a small table costs less to encode than to compare.
  const entries = elements.length >= MEMO_MIN_ELEMENTS ? entriesSnapshot(raw) : undefined;
  if (entries !== undefined) listMemos.set(table, { entries, json });
  else if (memo !== undefined) listMemos.delete(table);
  return json;
}

/** A list's raw entries and the value JSON they gave. */
interface ListMemo {
  entries: unknown[];
  json: string;
}

const listMemos = new WeakMap<LuaObject, ListMemo>();
const MEMO_MIN_ELEMENTS = 8;

/** What is left of the text a value may become. */
interface Budget {
  left: number;
}

const TOO_LARGE = Symbol("too large");

/**
 * The most elements an array may have and still fit: n elements take at least 2n + 1 bytes.
 * The walk of a table stops past it, so a huge table over a small limit costs little to refuse
 * (a table with that many integer keys is refused before any other key of it is seen).
 */
function mostElements(budget: Budget): number {
  return budget.left === Infinity ? Infinity : Math.max(0, Math.floor((budget.left - 1) / 2));
}

function spend(budget: Budget, text: string): string {
  budget.left -= text.length;
  if (budget.left < 0) throw TOO_LARGE;
  return text;
}

function encode(
  vm: LuaVm,
  value: LuaValue,
  depth: number,
  seen: Set<LuaObject> | undefined,
  budget: Budget,
): string {
  if (value === null) return spend(budget, "null");
  switch (typeof value) {
    case "boolean":
      return spend(budget, value ? "true" : "false");
    case "number":
      return spend(
        budget,
        Number.isFinite(value) ? (Object.is(value, -0) ? "0" : String(value)) : "null",
      );
    case "string":
      // Checked before the copy: the quoted text is at least as long as the string.
      if (value.length > budget.left) throw TOO_LARGE;
      return spend(budget, JSON.stringify(value));
  }
  if (value.kind !== "table" || depth >= MAX_DEPTH || seen?.has(value)) {
    return spend(budget, objectRef(vm, value));
  }
  const elements = typeOf(vm, value) === ""
    ? untypedSequence(vm, value, mostElements(budget))
    : undefined;
  if (elements === undefined) return spend(budget, objectRef(vm, value));
  return encodeElements(vm, value, elements, depth, seen ?? new Set<LuaObject>(), budget);
}

function encodeElements(
  vm: LuaVm,
  table: LuaObject,
  elements: LuaValue[],
  depth: number,
  seen: Set<LuaObject>,
  budget: Budget,
): string {
  // Brackets and commas first: an array of n elements takes at least 2n + 1 bytes.
  spend(budget, "[]");
  if (elements.length === 0) return "[]";
  if (2 * elements.length - 1 > budget.left) throw TOO_LARGE;
  budget.left -= elements.length - 1;
  seen.add(table);
  const parts = elements.map((element) => encode(vm, element, depth + 1, seen, budget));
  seen.delete(table);
  return `[${parts.join(",")}]`;
}

function objectRef(vm: LuaVm, value: LuaObject): string {
  vm.expose(value);
  return `{"obj":${value.id}}`;
}

/**
 * The elements of a table that travels as an array (no `type`, only keys 1..n besides
 * `_`-prefixed ones), or `undefined` when it travels as an object.
 */
export function sequenceElements(vm: LuaVm, table: LuaObject): LuaValue[] | undefined {
  if (typeOf(vm, table) !== "") return undefined;
  return untypedSequence(vm, table);
}

/**
 * {@link sequenceElements} for a table known to have no `type`; throws `TOO_LARGE` once it has
 * seen more than `most` integer keys.
 */
function untypedSequence(vm: LuaVm, table: LuaObject, most = Infinity): LuaValue[] | undefined {
  const fast = rawSequence(vm, table, most);
  if (fast !== SLOW) return fast;
  const L = vm.L;
  const top = lua.lua_gettop(L);
  table.push(L);
  const byIndex: LuaValue[] = [];
  let count = 0;
  let isSequence = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    const keyType = lua.lua_type(L, -2);
    if (keyType === lua.LUA_TNUMBER && lua.lua_isinteger(L, -2)) {
      const key = lua.lua_tointeger(L, -2);
      if (key < 1) {
        isSequence = false;
        break;
      }
      byIndex[key - 1] = vm.read(-1);
      if (++count > most) {
        lua.lua_settop(L, top);
        throw TOO_LARGE;
      }
    } else if (!(keyType === lua.LUA_TSTRING && isPrivate(lua.lua_tolstring(L, -2)))) {
      isSequence = false;
      break;
    }
    lua.lua_pop(L, 1);
  }
  lua.lua_settop(L, top);
  if (!isSequence || count !== byIndex.length) return undefined;
  return byIndex;
}

const SLOW = Symbol("slow");

/** The same walk on fengari's table directly; `SLOW` when it cannot tell (`raw_reads.ts`). */
function rawSequence(
  vm: LuaVm,
  table: LuaObject,
  most: number,
): LuaValue[] | undefined | typeof SLOW {
  const byIndex: LuaValue[] = [];
  let count = 0;
  let isSequence = true;
  let slow = false;
  const walked = rawEntries(table.raw as RawTable, (key, cell) => {
    if (isIntegerKey(key)) {
      const index = key.value as number;
      if (index < 1) return (isSequence = false);
      if (count >= most) throw TOO_LARGE;
      const element = vm.fromRaw(cell);
      if (element === undefined) return !(slow = true);
      byIndex[index - 1] = element;
      count++;
      return true;
    }
    if (isPrivate(rawString(key) ?? null)) return true;
    return (isSequence = false);
  });
  if (!walked || slow) return SLOW;
  if (!isSequence || count !== byIndex.length) return undefined;
  return byIndex;
}

function isPrivate(key: LuaString | null): boolean {
  return key !== null && key[0] === 0x5f; // "_"
}

/**
 * Converts a value the client wrote (parsed JSON) into a Lua value: arrays become sequences,
 * objects become tables, and `{"obj": N}` naming a live object this VM has shown the client
 * becomes that object.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { jsonToLua } from "./wire_value.ts";
 * const vm = new LuaVm();
 * jsonToLua(vm, [1, "a"]); // a LuaObject for the table {1, "a"}
 * ```
 */
export function jsonToLua(vm: LuaVm, json: unknown): LuaValue {
  if (json === null || json === undefined) return null;
  if (typeof json === "boolean" || typeof json === "string") return json;
  if (typeof json === "number") return json;
  const top = lua.lua_gettop(vm.L);
  pushJson(vm, json, { objectRefs: true, maxDepth: MAX_CLIENT_DEPTH });
  const value = vm.read(-1);
  lua.lua_settop(vm.L, top);
  return value;
}
