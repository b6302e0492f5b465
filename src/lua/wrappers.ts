/**
 * The wrapper registry (SPEC 9): finds the factory for a variable's `wrapper` property in the
 * order `ui.registerWrapper`, built-ins, then a Lua global of that name with a `new` method.
 *
 * @module
 */
import { toLua } from "./fengari.ts";
import { getField } from "./navigate.ts";
import type { LuaValue, LuaVm } from "./vm.ts";

const NEW_KEY = toLua("new");

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
 * if (factory.ok) registry.register("Upper", factory.value[0] ?? null);
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
