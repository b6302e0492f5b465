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
  /**
   * Source of a Lua file outside `lua/`, by path relative to the site folder: `require("a.b")`
   * falls back to `a/b.lua` there when `lua/a/b.lua` is missing, as ui-engine does.
   */
  readRootLua?(path: string): string | undefined;
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
  /**
   * `session:unloadModule(name)`: forgets a module (`a.b`, `lua/a/b.lua` or `apps/x/y.lua`) so
   * the next `require` runs its file again. Returns whether it was loaded.
   */
  unloadModule(name: string): boolean;
  /** `session:unloadDirectory(dir)`: forgets every module whose file is in the folder. */
  unloadDirectory(dir: string): string[];
}

/**
 * The module name of what `session:unloadModule` is given: a module name, or a file path
 * relative to `lua/` or to the site (`lua/a/b.lua`, `a/b.lua` and `a.b` are all `a.b`).
 *
 * @example
 * ```ts
 * import { unloadName } from "./program.ts";
 * unloadName("lua/apps/tasks.lua"); // "apps.tasks"
 * unloadName("apps/tasks/app.lua"); // "apps.tasks.app"
 * ```
 */
export function unloadName(given: string): string {
  let name = given.replace(/^\.\//, "");
  if (name.endsWith(".lua")) name = name.slice(0, -4).replace(/^lua\//, "").replaceAll("/", ".");
  return name;
}

/** Where a loaded module's file is: `lua/<file>`, or `<file>` relative to the site. */
interface ModuleSource {
  file: string;
  root: boolean;
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
  const sources = new Map<string, ModuleSource>();
  const loadedFiles = new Set<string>();
  const find = (name: string): (ModuleSource & { source: string }) | undefined => {
    const file = moduleFile(name);
    const source = readLua(file);
    if (source !== undefined) return { file, root: false, source };
    // Module names hold no `..` and no leading `/`, so this never leaves the site folder.
    const rooted = options.readRootLua?.(file);
    return rooted === undefined ? undefined : { file, root: true, source: rooted };
  };
  installRequire(vm, find, modules, sources, loadedFiles);
  const unload = (name: string): boolean => {
    sources.delete(name);
    return modules.delete(name);
  };

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
    unloadModule: (given) => unload(unloadName(given)),
    unloadDirectory(dir) {
      const folder = dir.replace(/^\.\//, "").replace(/\/+$/, "");
      const inside = (path: string) => folder === "" || path.startsWith(`${folder}/`);
      const names = [...sources].filter(([, { file, root }]) =>
        inside(root ? file : `lua/${file}`) || (!root && inside(file))
      ).map(([name]) => name);
      for (const name of names) unload(name);
      return names;
    },
  };
}

/**
 * `require("a.b")`: loads `lua/a/b.lua` (else `a/b.lua` from the site folder) once per session;
 * a cycle gets `true`, not a loop.
 */
function installRequire(
  vm: LuaVm,
  find: (name: string) => (ModuleSource & { source: string }) | undefined,
  loaded: Map<string, LuaValue>,
  sources: Map<string, ModuleSource>,
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
    const found = find(name);
    if (found === undefined) {
      const file = moduleFile(name);
      return lauxlib.luaL_error(L, toLua(`Module '${name}' not found (no lua/${file} or ${file})`));
    }
    const { file, root, source } = found;
    const failure = vm.loadText(source, root ? `@${file}` : `@lua/${file}`, L);
    if (failure) return lauxlib.luaL_error(L, toLua("%s"), toLua(failure.description));
    lua.lua_pushstring(L, toLua(name));
    loading.add(name);
    sources.set(name, { file, root });
    if (!root) loadedFiles.add(file);
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
