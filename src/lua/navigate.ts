/**
 * Reading and writing through parsed paths into live Lua values (SPEC 5 and 6).
 *
 * Reads avoid protected calls where no Lua code can run: fields are looked up raw, following
 * `__index` tables by hand, and only an `__index` function or a method call goes through `pcall`.
 * That keeps change detection cheap, since it re-reads every watched path after each batch.
 *
 * @module
 */
import { lua, type LuaState, type LuaString, toLua } from "./fengari.ts";
import type { Result } from "../failure.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";
import {
  memoCell,
  newStepMemo,
  rawField,
  rawFieldMemo,
  type RawTable,
  type StepMemo,
} from "./fengari_internals/raw_reads.ts";
import type { Segment } from "../variables/path.ts";

/** The result of a read or a write: a value, or why it failed (a Lua error or `path-failure`). */
type Outcome = Result<LuaValue>;

const MAX_INDEX_CHAIN = 64;
const INDEX_KEY = toLua("__index");

/**
 * Looks up `object[key]` with Lua's semantics (metatables included), running Lua only for an
 * `__index` function. Non-table values have no fields and give nil.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { getField } from "./navigate.ts";
 * import { toLua } from "./fengari.ts";
 * const vm = new LuaVm();
 * const result = vm.evaluate("return {name = 'Ada'}");
 * if (result.ok) getField(vm, result.value[0] ?? null, toLua("name")); // { ok: true, value: "Ada" }
 * ```
 */
export function getField(vm: LuaVm, object: LuaValue, key: LuaString | number): Outcome {
  if (object === null || typeof object !== "object" || object.kind !== "table") {
    return { ok: true, value: null };
  }
  // Plain data and `__index` tables are read directly; the API path below handles the rest.
  const cell = rawField(object.raw as RawTable, key);
  if (cell === null) return { ok: true, value: null };
  if (cell !== undefined) {
    const value = vm.fromRaw(cell);
    if (value !== undefined) return { ok: true, value };
  }
  const L = vm.L;
  const top = lua.lua_gettop(L);
  object.push(L);
  for (let depth = 0; depth < MAX_INDEX_CHAIN; depth++) {
    pushKey(vm, L, key);
    if (lua.lua_rawget(L, -2) !== lua.LUA_TNIL) return finish(vm, top);
    lua.lua_pop(L, 1);
    if (!lua.lua_getmetatable(L, -1)) return finish(vm, top, true);
    vm.pushKey(INDEX_KEY, L);
    const handler = lua.lua_rawget(L, -2);
    if (handler === lua.LUA_TTABLE) {
      lua.lua_remove(L, -2); // metatable
      lua.lua_remove(L, -2); // previous table
      continue;
    }
    if (handler !== lua.LUA_TFUNCTION) return finish(vm, top, true);
    // Stack: t, mt, __index; call __index(t, key).
    lua.lua_remove(L, -2);
    lua.lua_insert(L, -2);
    pushKey(vm, L, key);
    const failure = vm.pcall(2, 1);
    if (failure) {
      lua.lua_settop(L, top);
      return { ok: false, failure };
    }
    return finish(vm, top);
  }
  lua.lua_settop(L, top);
  return {
    ok: false,
    failure: { code: "lua-error", description: "'__index' chain too long; possible loop" },
  };
}

function pushKey(vm: LuaVm, L: LuaState, key: LuaString | number): void {
  if (typeof key === "number") lua.lua_pushinteger(L, key);
  else vm.pushKey(key, L);
}

function finish(vm: LuaVm, top: number, nil = false): Outcome {
  const value = nil ? null : vm.read(-1);
  lua.lua_settop(vm.L, top);
  return { ok: true, value };
}

/**
 * Calls `object:name(...args)` and returns its first result.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { callMethod } from "./navigate.ts";
 * import { toLua } from "./fengari.ts";
 * const vm = new LuaVm();
 * const result = vm.evaluate("return {n = 2, double = function(self) return self.n * 2 end}");
 * if (result.ok) callMethod(vm, result.value[0] ?? null, toLua("double"), "double", []);
 * ```
 */
export function callMethod(
  vm: LuaVm,
  object: LuaValue,
  key: LuaString,
  name: string,
  args: readonly LuaValue[],
): Outcome {
  const method = getField(vm, object, key);
  if (!method.ok) return method;
  if (method.value === null || typeof method.value !== "object") {
    return {
      ok: false,
      failure: { code: "path-failure", description: `No method '${name}' on this value` },
    };
  }
  const result = vm.call(method.value, [object, ...args], 1);
  return result.ok ? { ok: true, value: result.value[0] ?? null } : result;
}

/**
 * Follows segments for reading: a nil part way gives nil, not an error (SPEC 6). `nilField`, if
 * given, hears of each field that read nil on an object.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { readSegments } from "./navigate.ts";
 * import { parsePath } from "../variables/path.ts";
 * const vm = new LuaVm();
 * const app = vm.evaluate("return {list = {10, 20}}");
 * if (app.ok) readSegments(vm, app.value[0] ?? null, parsePath("list.1").segments); // 20
 * ```
 */
export function readSegments(
  vm: LuaVm,
  base: LuaValue,
  segments: readonly Segment[],
  nilField?: NilFieldHook,
): Outcome {
  let value = base;
  for (let index = 0; index < segments.length; index++) {
    if (value === null) break;
    const segment = segments[index] as Segment;
    // Change detection's hot path: a field or index of a table read directly, no result object.
    // The step's memo keeps the table's entry for the key, so that the same table read again
    // costs no lookup, and the string or object last decoded from it, so that no decoding
    // either when the value is the same.
    if (segment.kind !== "call" && typeof value === "object" && value.kind === "table") {
      const memo = (segment.memo ??= newStepMemo()) as StepMemo;
      const cell = rawFieldMemo(
        value.raw as RawTable,
        segment.kind === "field" ? segment.key : segment.position,
        memo,
      );
      if (cell === null) {
        if (nilField && segment.kind === "field") nilField(value, segment, index);
        value = null;
        continue;
      }
      if (cell !== undefined) {
        const raw = cell.value;
        if (raw === memo.decodedFrom && typeof raw === "object") {
          value = memo.decoded as LuaValue;
          continue;
        }
        const read = vm.fromRaw(cell);
        if (read !== undefined) {
          if (typeof raw === "object") {
            memo.decodedFrom = raw;
            memo.decoded = read;
          }
          value = read;
          continue;
        }
      }
    }
    const step = readStep(vm, value, segment);
    if (!step.ok) return step;
    if (step.value === null && nilField && segment.kind === "field" && typeof value === "object") {
      nilField(value, segment, index);
    }
    value = step.value;
  }
  return { ok: true, value };
}

/**
 * {@link readSegments} for change detection's common case, with nothing allocated: the value
 * when every step is a field or index of a table read directly, else `undefined` (a method call,
 * an `__index` function, an object not seen yet, or a nil field when `nilFieldWatched`: the
 * caller then reads with {@link readSegments}). `firstMemo` serves as the first step's memo (one
 * object less to reach than the segment's own).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { peekSegments } from "./navigate.ts";
 * import { parsePath } from "../variables/path.ts";
 * const vm = new LuaVm();
 * const app = vm.evaluate("return {list = {10, 20}}");
 * if (app.ok) peekSegments(vm, app.value[0] ?? null, parsePath("list.1").segments, undefined, false); // 20
 * ```
 */
export function peekSegments(
  vm: LuaVm,
  base: LuaValue,
  segments: readonly Segment[],
  firstMemo: StepMemo | undefined,
  nilFieldWatched: boolean,
): LuaValue | undefined {
  let value = base;
  for (let index = 0; index < segments.length; index++) {
    if (value === null) return null;
    const segment = segments[index] as Segment;
    if (segment.kind === "call" || typeof value !== "object" || value.kind !== "table") {
      return undefined;
    }
    const memo = index === 0 && firstMemo !== undefined
      ? firstMemo
      : (segment.memo ??= newStepMemo()) as StepMemo;
    const cell = rawFieldMemo(
      value.raw as RawTable,
      segment.kind === "field" ? segment.key : segment.position,
      memo,
    );
    if (cell === undefined) return undefined;
    if (cell === null) {
      if (nilFieldWatched && segment.kind === "field") return undefined;
      value = null;
      continue;
    }
    const raw = cell.value;
    if (raw === memo.decodedFrom && typeof raw === "object") {
      value = memo.decoded as LuaValue;
      continue;
    }
    const read = vm.fromRaw(cell);
    if (read === undefined) return undefined;
    if (typeof raw === "object") {
      memo.decodedFrom = raw;
      memo.decoded = read;
    }
    value = read;
  }
  return value;
}

/**
 * A one-step read answered by its memo alone, when the base is the table the memo read last
 * and the key is still in it; else `undefined` (then {@link peekSegments}).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { peekMemo, peekSegments } from "./navigate.ts";
 * import { newStepMemo } from "./fengari_internals/raw_reads.ts";
 * import { parsePath } from "../variables/path.ts";
 * const vm = new LuaVm();
 * const app = vm.evaluate("return {name = 'Ada'}");
 * const memo = newStepMemo();
 * if (app.ok) {
 *   peekSegments(vm, app.value[0] ?? null, parsePath("name").segments, memo, false); // "Ada"
 *   peekMemo(vm, app.value[0] ?? null, memo); // "Ada", with no lookup
 * }
 * ```
 */
export function peekMemo(vm: LuaVm, base: LuaValue, memo: StepMemo): LuaValue | undefined {
  if (base === null || typeof base !== "object") return undefined;
  const cell = memoCell(memo, base.raw as RawTable);
  if (cell === undefined) return undefined;
  const raw = cell.value;
  if (typeof raw !== "object") return vm.fromRaw(cell);
  return raw === memo.decodedFrom ? memo.decoded as LuaValue : undefined;
}

/**
 * Told of a field segment that read nil on a Lua object (for the likely-typo warning):
 * the object, the segment and its position in the path.
 */
export type NilFieldHook = (
  object: LuaObject,
  segment: Extract<Segment, { kind: "field" }>,
  index: number,
) => void;

function readStep(vm: LuaVm, value: LuaValue, segment: Segment): Outcome {
  switch (segment.kind) {
    case "field":
      return getField(vm, value, segment.key);
    case "index":
      return getField(vm, value, segment.position);
    case "call":
      return callMethod(vm, value, segment.key, segment.name, []);
  }
}

/**
 * Writes a value through segments: assigns a field or index, or calls `m(value)` for `m()` and
 * `m(_)`. A nil part way is a `path-failure` (SPEC 6); assigning over a function (a method, own
 * or inherited) is refused with `bad-access`. `callOnly` calls `m()` with no argument
 * (an `action` variable).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { writeSegments } from "./navigate.ts";
 * import { parsePath } from "../variables/path.ts";
 * const vm = new LuaVm();
 * const app = vm.evaluate("return {name = 'a'}");
 * if (app.ok) writeSegments(vm, app.value[0] ?? null, parsePath("name").segments, "b", false);
 * ```
 */
export function writeSegments(
  vm: LuaVm,
  base: LuaValue,
  segments: readonly Segment[],
  value: LuaValue,
  callOnly: boolean,
): Outcome {
  const last = segments[segments.length - 1];
  if (!last) {
    return {
      ok: false,
      failure: { code: "path-failure", description: "An empty path cannot be written" },
    };
  }
  let target = base;
  for (const segment of segments.slice(0, -1)) {
    const step = readStep(vm, target, segment);
    if (!step.ok) return step;
    target = step.value;
    if (target === null) {
      return {
        ok: false,
        failure: { code: "path-failure", description: `Nil at '${describe(segment)}' in the path` },
      };
    }
  }
  if (target === null) {
    return { ok: false, failure: { code: "path-failure", description: "Nil at the path's start" } };
  }
  if (last.kind === "call") {
    return callMethod(vm, target, last.key, last.name, callOnly ? [] : [value]);
  }
  if (typeof target !== "object" || (target.kind !== "table" && target.kind !== "userdata")) {
    return {
      ok: false,
      failure: {
        code: "path-failure",
        description: `Cannot set '${describe(last)}' on a ${typeof target}`,
      },
    };
  }
  // A client write never replaces a method (or any function) with a value: `summary = "x"`
  // would shadow `summary()` for every reader of the object.
  const current = getField(vm, target, last.kind === "index" ? last.position : last.key);
  if (!current.ok) return current;
  const held = current.value;
  if (held !== null && typeof held === "object" && held.kind === "function") {
    return {
      ok: false,
      failure: {
        code: "bad-access",
        description: `'${describe(last)}' is a function; a client write cannot replace it`,
      },
    };
  }
  return assign(vm, target, last, value);
}

function assign(vm: LuaVm, target: LuaObject, segment: Segment, value: LuaValue): Outcome {
  const L = vm.L;
  const top = lua.lua_gettop(L);
  lua.lua_pushcfunction(L, (L) => {
    lua.lua_settable(L, 1);
    return 0;
  });
  target.push(L);
  pushKey(vm, L, segment.kind === "index" ? segment.position : segment.key);
  vm.push(value);
  const failure = vm.pcall(3, 0);
  lua.lua_settop(L, top);
  return failure ? { ok: false, failure } : { ok: true, value };
}

function describe(segment: Segment): string {
  return segment.kind === "index" ? String(segment.index) : segment.name;
}
