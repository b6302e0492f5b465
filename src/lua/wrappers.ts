/**
 * The wrapper registry (SPEC 9): finds the factory for a variable's `wrapper` property in the
 * order `ui.registerWrapper`, built-ins, then a Lua global of that name with a `new` method.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Variable } from "../variables/tree.ts";
import { typeOf } from "../variables/value_json.ts";
import { toLua } from "./fengari.ts";
import { callMethod, getField, type NavigationFailure } from "./navigate.ts";
import { ITEMS_KEY, VIEW_LIST } from "./prototypes.ts";
import type { Handles } from "./variable_handle.ts";
import type { LuaValue, LuaVm } from "./vm.ts";

const NEW_KEY = toLua("new");
const DESTROY_KEY = toLua("destroy");

/** Makes and disposes of wrappers; implemented by the session, which owns the Lua side. */
export interface WrapperHost {
  /** The wrapper for a variable whose value changed (may return the existing one). */
  wrap(variable: Variable, name: string): { ok: true; value: LuaValue } | {
    ok: false;
    failure: NavigationFailure;
  };
  /** Runs a replaced or destroyed wrapper's `destroy` method, if any. */
  dispose(variable: Variable, wrapper: LuaValue): void;
  /** The value a wrapper shows on the wire (the wrapper itself unless it is a list). */
  wireValue(wrapper: LuaValue): LuaValue;
  /** The `type` a wrapper reports. */
  wrapperType(wrapper: LuaValue, name: string): string;
}

/**
 * Wrapper factories of one session.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { WrapperRegistry } from "./wrappers.ts";
 * const vm = new LuaVm();
 * const registry = new WrapperRegistry(vm);
 * const factory = vm.evaluate("return {new = function(self, v) return {} end}");
 * if (factory.ok) registry.register("Upper", factory.values[0] ?? null);
 * registry.find("Upper"); // the factory table
 * ```
 */
export class WrapperRegistry {
  readonly #vm: LuaVm;
  readonly #registered = new Map<string, LuaValue>();
  readonly #builtins = new Map<string, LuaValue>();

  /** Creates an empty registry for one VM. */
  constructor(vm: LuaVm) {
    this.#vm = vm;
  }

  /** Registers a factory by name (`ui.registerWrapper`); it takes precedence over the rest. */
  register(name: string, factory: LuaValue): void {
    this.#registered.set(name, factory);
  }

  /** Registers a built-in factory (`lua.ViewList`). */
  registerBuiltin(name: string, factory: LuaValue): void {
    this.#builtins.set(name, factory);
  }

  /** The names registered with {@link register}. */
  names(): string[] {
    return [...this.#registered.keys()];
  }

  /**
   * The factory for a name, or `undefined`. A Lua global counts only if it has a `new` method;
   * dotted names are looked up through nested tables (`a.B` is `_G.a.B`).
   */
  find(name: string): LuaValue | undefined {
    const factory = this.#registered.get(name) ?? this.#builtins.get(name);
    if (factory !== undefined) return factory;
    const global = this.#global(name);
    if (global === null || typeof global !== "object") return undefined;
    const method = getField(this.#vm, global, NEW_KEY);
    return method.ok && method.value !== null ? global : undefined;
  }

  #global(name: string): LuaValue {
    let value: LuaValue = this.#vm.globals();
    for (const part of name.split(".")) {
      const step = getField(this.#vm, value, toLua(part));
      if (!step.ok) return null;
      value = step.value;
    }
    return value;
  }
}

/**
 * The session's wrapper mechanism: calls factories found in the registry with a variable's
 * handle, disposes of replaced wrappers, and says what a wrapper shows on the wire.
 *
 * @example
 * ```ts
 * // const host = createWrapperHost(vm, registry, handles, log);
 * // host.wrap(variable, "lua.ViewList");
 * ```
 */
export function createWrapperHost(
  vm: LuaVm,
  registry: WrapperRegistry,
  handles: Handles,
  log: Logger,
): WrapperHost {
  return {
    wrap(variable, name) {
      const factory = registry.find(name);
      if (factory === undefined) {
        return {
          ok: false,
          failure: { code: "lua-error", description: `Unknown wrapper '${name}'` },
        };
      }
      const handle = handles.handleOf(variable);
      if (factory !== null && typeof factory === "object" && factory.kind === "function") {
        const result = vm.call(factory, [handle], 1);
        return result.ok ? { ok: true, value: result.values[0] ?? null } : result;
      }
      return callMethod(vm, factory, NEW_KEY, "new", [handle]);
    },
    dispose(variable, wrapper) {
      handles.forget(variable.id);
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
    wrapperType(wrapper, name) {
      return typeOf(vm, wrapper) || name;
    },
  };
}
