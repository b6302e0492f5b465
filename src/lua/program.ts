/**
 * Program loading for one session: running site files (`main.lua`, a file named by the `lua`
 * property, a hot reload), inline code, and `require` (SPEC 10.4). The one owner of the mapping
 * between module names (`a.b`) and site files (`a/b.lua`), of the `require` cache and of the
 * record of which files the session has run.
 *
 * @module
 */
import type { Failure } from "../failure.ts";
import { fromLua, lauxlib, lua, toLua } from "./fengari.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";

const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;

/** Options of {@link createProgram}. */
export interface ProgramOptions {
  vm: LuaVm;
  /** The global `session` table (its `reloading` field is set during a reload). */
  sessionTable: LuaObject;
  /** Source of `lua/<file>` in the site, or `undefined`. */
  readLua(file: string): string | undefined;
  /** Runs after each load (prototype mutation). */
  afterLoad(): void;
}

/** A session's program. */
export interface Program {
  /** Runs `lua/<file>` as a new entry; a file loaded as a module refreshes the `require` cache. */
  runFile(file: string): Failure | null;
  /** Runs Lua text as a new entry. */
  runCode(source: string, chunkName: string): Failure | null;
  /** Re-runs a changed file with `session.reloading` set. */
  reload(file: string): Failure | null;
  /** True when the session has run this site file (directly or through `require`). */
  hasLoaded(file: string): boolean;
}

/**
 * The module name of a site file (`a/b.lua` → `a.b`).
 *
 * @example
 * ```ts
 * import { moduleName } from "./program.ts";
 * moduleName("contacts/book.lua"); // "contacts.book"
 * ```
 */
export function moduleName(file: string): string {
  return file.slice(0, -4).replaceAll("/", ".");
}

/**
 * The site file of a module name (`a.b` → `a/b.lua`).
 *
 * @example
 * ```ts
 * import { moduleFile } from "./program.ts";
 * moduleFile("contacts.book"); // "contacts/book.lua"
 * ```
 */
export function moduleFile(name: string): string {
  return `${name.replaceAll(".", "/")}.lua`;
}

/**
 * Installs `require` into a session's VM and returns its program loader.
 *
 * @example
 * ```ts
 * import { createProgram } from "./program.ts";
 * import { LuaVm } from "./vm.ts";
 * const vm = new LuaVm();
 * const files = new Map([["main.lua", "x = 1"]]);
 * const program = createProgram({
 *   vm,
 *   sessionTable: vm.globals(),
 *   readLua: (file) => files.get(file),
 *   afterLoad: () => {},
 * });
 * program.runFile("main.lua"); // null: it ran
 * ```
 */
export function createProgram(options: ProgramOptions): Program {
  const { vm, sessionTable, readLua, afterLoad } = options;
  const modules = new Map<string, LuaValue>();
  const loadedFiles = new Set<string>();
  installRequire(vm, readLua, modules, loadedFiles);

  const runFile = (file: string): Failure | null => {
    const source = readLua(file);
    if (source === undefined) {
      return { code: "lua-error", description: `No such file: lua/${file}` };
    }
    loadedFiles.add(file);
    const name = moduleName(file);
    const isModule = modules.has(name);
    vm.beginEntry();
    const L = vm.L;
    const top = lua.lua_gettop(L);
    const failure = vm.loadText(source, `@lua/${file}`);
    if (failure) return failure;
    lua.lua_pushstring(L, toLua(name));
    const error = vm.pcall(1, 1);
    if (!error && isModule) {
      const value = vm.read(-1);
      modules.set(name, value === null ? true : value);
    }
    lua.lua_settop(L, top);
    afterLoad();
    return error;
  };

  const setReloading = (value: boolean): void => {
    const L = vm.L;
    sessionTable.push(L);
    lua.lua_pushboolean(L, value);
    lua.lua_setfield(L, -2, toLua("reloading"));
    lua.lua_pop(L, 1);
  };

  return {
    runFile,
    runCode(source, chunkName) {
      vm.beginEntry();
      const failure = vm.loadText(source, chunkName) ?? vm.pcall(0, 0);
      afterLoad();
      return failure;
    },
    reload(file) {
      setReloading(true);
      try {
        return runFile(file);
      } finally {
        setReloading(false);
      }
    },
    hasLoaded: (file) => loadedFiles.has(file),
  };
}

/** `require("a.b")`: loads `lua/a/b.lua` once per session; a cycle gets `true`, not a loop. */
function installRequire(
  vm: LuaVm,
  readLua: (file: string) => string | undefined,
  loaded: Map<string, LuaValue>,
  loadedFiles: Set<string>,
): void {
  const loading = new Set<string>();
  vm.setGlobalFunction("require", (L) => {
    const name = fromLua(lauxlib.luaL_checklstring(L, 1));
    if (!MODULE_NAME.test(name)) {
      return lauxlib.luaL_error(L, toLua(`Bad module name '${name.slice(0, 80)}'`));
    }
    const cached = loaded.get(name);
    if (cached !== undefined) {
      vm.push(cached, L);
      return 1;
    }
    if (loading.has(name)) {
      lua.lua_pushboolean(L, true);
      return 1;
    }
    const file = moduleFile(name);
    const source = readLua(file);
    if (source === undefined) {
      return lauxlib.luaL_error(L, toLua(`Module '${name}' not found (no lua/${file})`));
    }
    const failure = vm.loadText(source, `@lua/${file}`, L);
    if (failure) return lauxlib.luaL_error(L, toLua("%s"), toLua(failure.description));
    lua.lua_pushstring(L, toLua(name));
    loading.add(name);
    loadedFiles.add(file);
    try {
      lua.lua_call(L, 1, 1);
    } finally {
      loading.delete(name);
    }
    const result = vm.read(-1, L);
    loaded.set(name, result === null ? true : result);
    vm.push(loaded.get(name) ?? true, L);
    return 1;
  });
}
