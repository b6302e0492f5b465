/**
 * JSON ⇄ Lua for `ui.json_encode` and host functions: arrays are tables with keys 1..n, other
 * tables are objects with string keys. `pushJson` also builds the Lua side of client values
 * (see `wire_value.ts`, the wire codec). `ui.json_decode` parses in time slices
 * (`json_decode.ts`).
 *
 * @module
 */
import { fromLua, lauxlib, lua, type LuaState, type LuaString, toLua } from "./fengari.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";

const MAX_DEPTH = 64;

/** Options of {@link pushJson}. */
export interface PushJsonOptions {
  /** The thread to push onto; the VM's main thread by default. */
  L?: LuaState;
  /** Whether `{"obj": N}` may name an object shown to the client. */
  objectRefs: boolean;
  /** Nesting below this depth becomes nil; unlimited by default. */
  maxDepth?: number;
}

/**
 * Pushes parsed JSON as one Lua value: arrays become sequences, objects tables.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { pushJson } from "./json.ts";
 * const vm = new LuaVm();
 * pushJson(vm, { a: [1, 2] }, { objectRefs: false });
 * ```
 */
export function pushJson(vm: LuaVm, json: unknown, options: PushJsonOptions): void {
  const L = options.L ?? vm.L;
  const maxDepth = options.maxDepth ?? Infinity;
  const push = (value: unknown, depth: number): void => {
    // Each nesting level holds its table, plus the key `lua_setfield` pushes for a moment;
    // fengari does not grow the stack by itself.
    lauxlib.luaL_checkstack(L, 2, null);
    if (value === null || value === undefined || depth > maxDepth) return lua.lua_pushnil(L);
    if (typeof value !== "object") return vm.push(value as LuaValue, L);
    if (Array.isArray(value)) {
      lua.lua_createtable(L, value.length, 0);
      value.forEach((element, i) => {
        push(element, depth + 1);
        lua.lua_rawseti(L, -2, i + 1);
      });
      return;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    if (options.objectRefs && entries.length === 1 && entries[0]?.[0] === "obj") {
      const ref = entries[0][1];
      const live = typeof ref === "number" ? vm.objectById(ref) : undefined;
      if (live) return live.push(L);
    }
    lua.lua_createtable(L, 0, entries.length);
    for (const [key, element] of entries) {
      push(element, depth + 1);
      lua.lua_setfield(L, -2, toLua(key));
    }
  };
  push(json, 0);
}

/**
 * Encodes the Lua value at a stack index as JSON text (`ui.json_encode`): sequences become
 * arrays, other tables objects with string keys; functions and cycles are errors.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { luaToJsonText } from "./json.ts";
 * const vm = new LuaVm();
 * vm.evaluate("x = {a = 1}");
 * ```
 */
export function luaToJsonText(vm: LuaVm, index: number, L: LuaState = vm.L): string {
  return JSON.stringify(luaToJson(vm, index, L));
}

/**
 * The Lua value at a stack index as a JSON-able JavaScript value, read as
 * {@link luaToJsonText} reads it; from the thread `L` (the VM's main thread by default).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { luaToJson } from "./json.ts";
 * const vm = new LuaVm();
 * vm.evaluate("return {1, 2, {a = true}}");
 * ```
 */
export function luaToJson(vm: LuaVm, index: number, L: LuaState = vm.L): unknown {
  const seen = new Set<LuaObject>();
  const encode = (idx: number, depth: number): unknown => {
    const type = lua.lua_type(L, idx);
    if (type === lua.LUA_TNIL || type === lua.LUA_TNONE) return null;
    if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, idx);
    if (type === lua.LUA_TNUMBER) {
      const n = lua.lua_tonumber(L, idx);
      return Number.isFinite(n) ? n : null;
    }
    if (type === lua.LUA_TSTRING) return fromLua(lua.lua_tolstring(L, idx) as LuaString);
    if (type !== lua.LUA_TTABLE) throw new Error(`Cannot encode a ${kindName(type)} as JSON`);
    if (depth > MAX_DEPTH) throw new Error("Value is nested too deeply to encode as JSON");
    // Each nesting level holds a key and a value on the stack while it is walked.
    lauxlib.luaL_checkstack(L, 3, null);
    const object = vm.objectAt(idx, L);
    if (seen.has(object)) throw new Error("Cannot encode a table that contains itself");
    seen.add(object);
    const absolute = lua.lua_absindex(L, idx);
    const pairs: [number | string, unknown][] = [];
    lua.lua_pushnil(L);
    while (lua.lua_next(L, absolute) !== 0) {
      const keyType = lua.lua_type(L, -2);
      let key: number | string;
      if (keyType === lua.LUA_TNUMBER && lua.lua_isinteger(L, -2)) {
        key = lua.lua_tointeger(L, -2);
      } else if (keyType === lua.LUA_TSTRING) {
        key = fromLua(lua.lua_tolstring(L, -2) as LuaString);
      } else {
        throw new Error(`Cannot encode a table key of type ${kindName(keyType)} as JSON`);
      }
      pairs.push([key, encode(-1, depth + 1)]);
      lua.lua_pop(L, 1);
    }
    seen.delete(object);
    const length = pairs.length;
    const isArray = pairs.every(([key]) => typeof key === "number" && key >= 1 && key <= length);
    if (isArray) {
      const array: unknown[] = new Array(length);
      for (const [key, value] of pairs) array[(key as number) - 1] = value;
      return array;
    }
    return Object.fromEntries(pairs.map(([key, value]) => [String(key), value]));
  };
  return encode(index, 0);
}

function kindName(type: number): string {
  if (type === lua.LUA_TFUNCTION) return "function";
  if (type === lua.LUA_TUSERDATA || type === lua.LUA_TLIGHTUSERDATA) return "userdata";
  if (type === lua.LUA_TTHREAD) return "coroutine";
  return "value";
}
