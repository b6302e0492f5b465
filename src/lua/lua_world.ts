/**
 * The Lua VM as the variable layer's value world (`src/variables/value_world.ts`): paths are
 * read and written with `navigate.ts`, values encoded with the wire codec, and wrappers made from
 * the session's registry with each variable's handle (SPEC 9).
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Result } from "../failure.ts";
import type { ValueWorld } from "../variables/value_world.ts";
import type { Variable } from "../variables/variable.ts";
import { lua, toLua } from "./fengari.ts";
import {
  callMethod,
  getField,
  type NilFieldHook,
  peekMemo,
  peekSegments,
  readSegments,
  writeSegments,
} from "./navigate.ts";
import { newStepMemo, type StepMemo } from "./fengari_internals/raw_reads.ts";
import { ITEMS_KEY, VIEW_LIST } from "./prototypes.ts";
import { undeclaredField } from "./undeclared.ts";
import { createHandles } from "./variable_handle.ts";
import type { LuaValue, LuaVm } from "./vm.ts";
import { jsonToLua, typeOf, valueJson } from "./wire_value.ts";
import type { WrapperRegistry } from "./wrappers.ts";

const NEW_KEY = toLua("new");
const DESTROY_KEY = toLua("destroy");
const SYNC_KEY = toLua("sync");
const VALUE_KEY = toLua("value");

/** Options of {@link createLuaWorld}. */
export interface LuaWorldOptions {
  vm: LuaVm;
  /** Wrapper factories by name. */
  wrappers: WrapperRegistry;
  /** A presenter type, prototype or wrapper factory by name (for `create=`). */
  findType(name: string): LuaValue;
  /** The session's live variables, for the handles given to wrapper factories. */
  variable(id: number): Variable<LuaValue> | undefined;
  log: Logger;
  /**
   * Told of a likely typo: a field of `path` read nil on an object of type `type` (`""` when
   * its prototype has no `type`) whose prototype chain has no such field either.
   */
  likelyTypo?(type: string, path: string, field: string): void;
}

/**
 * Makes the value world of one session's VM.
 *
 * @example
 * ```ts
 * import { createLuaWorld } from "./lua_world.ts";
 * import { LuaVm } from "./vm.ts";
 * import { WrapperRegistry } from "./wrappers.ts";
 * import { silentLogger } from "../log.ts";
 * const vm = new LuaVm();
 * const world = createLuaWorld({
 *   vm,
 *   wrappers: new WrapperRegistry(vm),
 *   findType: () => null,
 *   variable: () => undefined,
 *   log: silentLogger,
 * });
 * world.encode("hi"); // '"hi"'
 * ```
 */
export function createLuaWorld(options: LuaWorldOptions): ValueWorld<LuaValue> {
  const { vm, wrappers, log } = options;
  const handleOf = createHandles(vm, { variable: options.variable });
  const { likelyTypo } = options;
  // One hook for every read (no closure per read): it is told of the path being read.
  let reading = "";
  const nilField: NilFieldHook | undefined = likelyTypo
    ? (object, segment) => {
      if (undeclaredField(vm, object, segment.key)) {
        likelyTypo(typeOf(vm, object), reading, segment.name);
      }
    }
    : undefined;
  const read: ValueWorld<LuaValue>["read"] = (base, path) => {
    reading = path.text;
    return readSegments(vm, base, path.segments, nilField);
  };
  const watchNil = nilField !== undefined;
  return {
    beginEntry: () => vm.beginEntry(),
    read,
    peek(base, path, variable) {
      // A one-step path (most of them) keeps its memo on the variable: read again from the
      // same table, it is answered without reaching the path at all.
      let memo = variable.readMemo as StepMemo | undefined;
      if (memo !== undefined) {
        const value = peekMemo(vm, base, memo);
        if (value !== undefined) return value;
      } else if (path.segments.length === 1) variable.readMemo = memo = newStepMemo();
      return peekSegments(vm, base, path.segments, memo, watchNil);
    },
    write: (base, path, value, callOnly) => writeSegments(vm, base, path.segments, value, callOnly),
    typeOf: (value) => typeOf(vm, value),
    encode: (value, type, limit) => valueJson(vm, value, type, limit),
    decode: (json) => jsonToLua(vm, json),
    instantiate(name): Result<LuaValue> {
      const type = options.findType(name);
      if (type === null) {
        return {
          ok: false,
          failure: { code: "lua-error", description: `Unknown presenter type '${name}'` },
        };
      }
      return callMethod(vm, type, NEW_KEY, "new", []);
    },
    wrap(variable, name): Result<LuaValue> {
      const factory = wrappers.find(name);
      if (factory === undefined) {
        return {
          ok: false,
          failure: { code: "lua-error", description: `Unknown wrapper '${name}'` },
        };
      }
      // ui-engine's rule for wrappers written for it: `new` once, then on each change of the
      // value the wrapper's `value` field is set and its `sync()` runs; the wrapper stays.
      // The built-in lua.ViewList keeps its own rule (its factory runs again).
      const current = variable.wrapper;
      if (
        current !== null && typeof current === "object" && current.kind === "table" &&
        typeOf(vm, current) !== VIEW_LIST
      ) {
        const sync = getField(vm, current, SYNC_KEY);
        if (sync.ok && sync.value !== null && typeof sync.value === "object") {
          const L = vm.L;
          current.push(L);
          lua.lua_pushstring(L, VALUE_KEY);
          vm.push(variable.value, L);
          lua.lua_rawset(L, -3); // raw: no metamethod runs outside a protected call
          lua.lua_pop(L, 1);
          const result = vm.call(sync.value, [current], 0);
          return result.ok ? { ok: true, value: current } : result;
        }
      }
      const handle = handleOf(variable);
      if (factory !== null && typeof factory === "object" && factory.kind === "function") {
        const result = vm.call(factory, [handle], 1);
        return result.ok ? { ok: true, value: result.value[0] ?? null } : result;
      }
      return callMethod(vm, factory, NEW_KEY, "new", [handle]);
    },
    dispose(variable, wrapper) {
      variable.handle = null;
      const method = getField(vm, wrapper, DESTROY_KEY);
      if (!method.ok || method.value === null) return;
      const result = vm.call(method.value, [wrapper], 0);
      if (!result.ok) log.warn(`Wrapper destroy failed: ${result.failure.description}`);
    },
    // A list wrapper shows its items (an array) so a ui-viewlist can bind through it.
    wireValue(wrapper) {
      if (typeOf(vm, wrapper) !== VIEW_LIST) return wrapper;
      const items = getField(vm, wrapper, ITEMS_KEY);
      return items.ok ? items.value : null;
    },
    wrapperType: (wrapper, name) => typeOf(vm, wrapper) || name,
  };
}
