/**
 * What the Lua `session` and `ui` tables do for one session (SPEC 10.1–10.3): the app variable,
 * Lua-made variables, property watchers, presenter and wrapper registration, logging. The Lua
 * side (argument reading, `session:f` and `session.f`) is `src/lua/api.ts`; this is the host it
 * calls.
 *
 * @module
 */
import type { ApiHost, LuaLogLevel } from "../lua/api.ts";
import type { LuaValue, LuaVm } from "../lua/vm.ts";
import type { WrapperRegistry } from "../lua/wrappers.ts";
import type { Logger } from "../log.ts";
import { TITLE_PROPERTY, URL_PROPERTY } from "../lua/session_url.ts";
import type { Variable } from "../variables/variable.ts";
import type { Backend } from "./backend.ts";

/** Options of {@link createSessionApi}. */
export interface SessionApiOptions {
  vm: LuaVm;
  vendedId: string;
  backend: Backend<LuaValue>;
  wrappers: WrapperRegistry;
  log: Logger;
  /** `session:unloadModule(name)` (the program loader's). */
  unloadModule(name: string): void;
  /** `session:unloadDirectory(dir)` (the program loader's). */
  unloadDirectory(dir: string): void;
}

/** The session API, plus what the rest of the session reads of it. */
export interface SessionApi extends ApiHost {
  /** A type registered with `ui.registerPresenter`. */
  presenter(name: string): LuaValue | undefined;
}

/**
 * Makes the host of one session's Lua API.
 *
 * @example
 * ```ts ignore
 * // Made by the LuaSession; Lua then calls it through `session` and `ui`.
 * const api = createSessionApi({ vm, vendedId: "1", backend, wrappers, log, ...unloads });
 * installApi(api, timers.functions);
 * ```
 */
export function createSessionApi(options: SessionApiOptions): SessionApi {
  const { vm, backend, wrappers, log } = options;
  const presenterTypes = new Map<string, LuaValue>();
  let appObject: LuaValue = null;
  /** Page properties set before the app variable exists; it gets them when made. */
  const early = new Map<string, string>();
  const setPageProperty = (name: string, value: string) => {
    const app = backend.tree.get(1);
    if (app) app.setServerProperty(name, value);
    else early.set(name, value);
  };

  const findVariable = (target: LuaValue): Variable<LuaValue> | undefined => {
    if (typeof target === "number") return backend.tree.get(target);
    if (target === null || typeof target !== "object") return undefined;
    for (const variable of backend.tree.values()) {
      if (variable.value === target) return variable;
    }
    return undefined;
  };

  return {
    vm,
    vendedId: options.vendedId,
    createAppVariable(app, props) {
      appObject = app;
      for (const [name, value] of early) if (!props.has(name)) props.set(name, value);
      early.clear();
      const existing = backend.tree.get(1);
      if (existing) {
        existing.assign(app);
        for (const [name, value] of props) existing.setServerProperty(name, value);
      } else {
        backend.createAppVariable(undefined, app, props, 1);
      }
      return 1;
    },
    getApp: () => appObject,
    createVariable(parent, value, props) {
      const parentVariable = parent === null ? undefined : findVariable(parent);
      if (parent !== null && !parentVariable) throw new Error("Parent variable not found");
      return backend.createAppVariable(parentVariable, value, props).id;
    },
    destroyVariable(target) {
      const variable = findVariable(target);
      if (!variable) throw new Error("Variable not found");
      backend.destroyVariable(variable);
    },
    watchProperty(varId, name, fn) {
      const variable = backend.tree.get(varId);
      if (!variable) throw new Error(`Variable ${varId} does not exist`);
      variable.watchProperty(name, fn);
    },
    luaLog(level: LuaLogLevel, message: string) {
      log[level](`lua: ${message}`);
    },
    navigate: (url) => setPageProperty(URL_PROPERTY, url),
    setTitle: (title) => setPageProperty(TITLE_PROPERTY, title),
    registerPresenter: (name, proto) => void presenterTypes.set(name, proto),
    registerWrapper: (name, factory) => wrappers.register(name, factory),
    unloadModule: (name) => options.unloadModule(name),
    unloadDirectory: (dir) => options.unloadDirectory(dir),
    presenter: (name) => presenterTypes.get(name),
  };
}
