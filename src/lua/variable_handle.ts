/**
 * The variable object handed to wrapper factories (SPEC 9): `getId`, `getValue`, `getProperty`,
 * `setProperty`, `getWrapper` and `getParent`, backed by the live variable.
 *
 * @module
 */
import { fromLua, lauxlib, lua, type LuaCFunction, toLua } from "./fengari.ts";
import { guard } from "./guard.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";
import type { Variable } from "../variables/variable.ts";

/** What handles need from the session: its live variables by id. */
export interface HandleHost {
  variable(id: number): Variable<LuaValue> | undefined;
}

/** Makes the Lua handle of a variable, once; the variable keeps it while it lives. */
export type HandleOf = (variable: Variable<LuaValue>) => LuaObject;

const ID_KEY = toLua("_id");

/**
 * Makes a function that returns the Lua handle of a variable, kept on the variable.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { createHandles } from "./variable_handle.ts";
 * import { Variable } from "../variables/variable.ts";
 * const vm = new LuaVm();
 * const app = new Variable<import("./vm.ts").LuaValue>({ id: 1, parent: undefined, origin: "lua" });
 * const handleOf = createHandles(vm, { variable: (id) => (id === 1 ? app : undefined) });
 * handleOf(app).kind; // "table"
 * ```
 */
export function createHandles(vm: LuaVm, host: HandleHost): HandleOf {
  const L = vm.L;
  // Each handle's functions hold the handle as upvalue 1: `variable:getValue()` passes it as
  // argument 1 (dropped here) and ui-engine's `variable.getValue()` passes nothing.
  const target = (L: Parameters<LuaCFunction>[0]): Variable<LuaValue> => {
    const self = lua.lua_upvalueindex(1);
    if (lua.lua_gettop(L) >= 1 && lua.lua_rawequal(L, 1, self)) lua.lua_remove(L, 1);
    lua.lua_getfield(L, self, ID_KEY);
    const id = lua.lua_tonumber(L, -1); // ids beyond 32 bits are stored as floats
    lua.lua_pop(L, 1);
    const variable = host.variable(id);
    if (!variable) throw new Error(`Variable ${id} no longer exists`);
    return variable;
  };
  const push = (value: LuaValue, L: Parameters<LuaCFunction>[0]): number => {
    vm.push(value, L);
    return 1;
  };
  const methods: [string, LuaCFunction][] = Object.entries(
    {
      getId: (L) => push(target(L).id, L),
      getValue: (L) => push(target(L).value, L),
      getProperty: (L) => {
        const variable = target(L);
        const value = variable.properties.get(fromLua(lauxlib.luaL_checklstring(L, 1)));
        return push(value ?? null, L);
      },
      setProperty: (L) => {
        const variable = target(L);
        const name = fromLua(lauxlib.luaL_checklstring(L, 1));
        const value = lua.lua_type(L, 2) <= lua.LUA_TNIL
          ? ""
          : fromLua(lauxlib.luaL_tolstring(L, 2));
        variable.setServerProperty(name, value);
        return 0;
      },
      getWrapper: (L) => push(target(L).wrapper, L),
      getParent: (L) => {
        const parent = target(L).parent;
        return push(parent ? handleOf(parent) : null, L);
      },
    } satisfies Record<string, LuaCFunction>,
  ).map(([name, fn]) => [name, guard(fn)]);

  const handleOf = (variable: Variable<LuaValue>): LuaObject => {
    const known = variable.handle;
    if (known !== null && typeof known === "object") return known;
    lua.lua_newtable(L);
    vm.push(variable.id, L); // client ids may exceed fengari's 32-bit integers
    lua.lua_setfield(L, -2, ID_KEY);
    for (const [name, fn] of methods) {
      lua.lua_pushvalue(L, -1);
      lua.lua_pushcclosure(L, fn, 1);
      lua.lua_setfield(L, -2, toLua(name));
    }
    const handle = vm.objectAt(-1);
    lua.lua_pop(L, 1);
    variable.handle = handle;
    return handle;
  };
  return handleOf;
}
