/**
 * The parts of one session, made and wired together in one place: the VM with its sandbox and
 * budgets, the wrapper registry, the value world and the backend over it, the executor, the
 * timers, the Lua `session`/`ui` API, the app model and the program loader. `LuaSession` owns
 * them and drives them; nothing else reaches them.
 *
 * @module
 */
import type { Failure } from "../failure.ts";
import { installApi } from "../lua/api.ts";
import { toLua } from "../lua/fengari.ts";
import { createLuaWorld } from "../lua/lua_world.ts";
import { installMemoryBudget, type MemoryMeter, trackCoroutines } from "../lua/memory_budget.ts";
import { getField } from "../lua/navigate.ts";
import { createProgram, type Program } from "../lua/program.ts";
import { type HostTables, installHostTables } from "../lua/host_functions.ts";
import { type AppModel, installAppModel, VIEW_LIST } from "../lua/prototypes.ts";
import { openSandbox } from "../lua/sandbox.ts";
import { createTimers, type Timers } from "../lua/timers.ts";
import { type LuaObject, type LuaValue, LuaVm } from "../lua/vm.ts";
import { WrapperRegistry } from "../lua/wrappers.ts";
import type { Logger } from "../log.ts";
import { readSiteLua, type Site } from "../site/site.ts";
import type { Variable } from "../variables/variable.ts";
import { Backend } from "./backend.ts";
import type { BackendLimits } from "./backend_budget.ts";
import { createEntryRunner, ENTRY_WALL_CLOCK_MS, type EntryRunner } from "./entry_runner.ts";
import { createExecutor, type Executor } from "./executor.ts";
import { templateOnlyPolicy } from "./path_policy.ts";
import { createSessionApi, type SessionApi } from "./session_api.ts";

/** What the parts are made from. */
export interface PartsOptions {
  vendedId: string;
  site: Site;
  log: Logger;
  instructionBudget: number;
  /** Bytes the session's Lua may hold (default 64 MiB); see `entry_runner.ts`. */
  maxSessionMemory?: number;
  maxVariables: number;
  /** Clients may bind any path; by default only the paths templates bind (`path_policy.ts`). */
  openPaths?: boolean;
  /** What the session may hold from its client and build for it; the defaults otherwise. */
  limits?: Partial<BackendLimits>;
  /**
   * The session's host functions (`host_functions.ts`), made once per session; `signal` aborts
   * when the session closes.
   */
  host?: (signal: AbortSignal) => HostTables;
  /** Longest wait for an async host call, in milliseconds (default 30 s). */
  hostCallTimeoutMs?: number;
}

/** What the parts call back into their session for. */
export interface PartsHooks {
  /** The client set a property (after it is stored); may throw a FailureError. */
  propertyChanged(variable: Variable<LuaValue>, name: string, value: string): void;
  /** Runs a task as one entry of the session (timers). */
  runTask(task: () => void): Promise<void>;
  /** Logs a failure and sends it with the next flush. */
  reportFailure(what: string, failure: Failure): void;
  /** A bound field read nil where the object's prototype lacks it (see `lua_world.ts`). */
  likelyTypo?(type: string, path: string, field: string): void;
}

/** One session's parts. */
export interface SessionParts {
  vm: LuaVm;
  runner: EntryRunner;
  /** What the session's Lua holds, for its memory budget and the process's ceiling. */
  meter: MemoryMeter;
  wrappers: WrapperRegistry;
  backend: Backend<LuaValue>;
  executor: Executor;
  timers: Timers;
  api: SessionApi;
  /** The global `session` table. */
  sessionTable: LuaObject;
  appModel: AppModel;
  program: Program;
  /** A presenter type, prototype or wrapper factory by name (for `create=` and `itemWrapper`). */
  findType(name: string): LuaValue;
  /** Aborts the session's host signal: pending host calls end, their results dropped. */
  closeHost(): void;
}

/**
 * Makes a session's parts.
 *
 * @example
 * ```ts ignore
 * const parts = buildParts(options, {
 *   propertyChanged: () => {},
 *   runTask: async (task) => task(),
 *   reportFailure: (what, failure) => console.warn(what, failure.description),
 * });
 * parts.program.runFile("main.lua");
 * ```
 */
export function buildParts(options: PartsOptions, hooks: PartsHooks): SessionParts {
  const { site, log } = options;
  const vm = new LuaVm({
    instructionBudget: options.instructionBudget,
    wallClockMs: ENTRY_WALL_CLOCK_MS,
  });
  // Before the sandbox, so that its tables are charged too.
  const meter = installMemoryBudget(vm, { maxBytes: options.maxSessionMemory });
  openSandbox(vm, { print: (line) => log.info(`lua: ${line}`) });
  trackCoroutines(vm);
  const runner = createEntryRunner({ vm, meter });
  const wrappers = new WrapperRegistry(vm);
  // The parts below refer to each other through these, once all are made.
  let parts: SessionParts | undefined = undefined;
  const findType = (name: string): LuaValue => (parts as SessionParts).findType(name);
  const world = createLuaWorld({
    vm,
    wrappers,
    findType,
    variable: (id) => backend.tree.get(id),
    log,
    likelyTypo: hooks.likelyTypo,
  });
  const backend: Backend<LuaValue> = new Backend(world, {
    propertyChanged: hooks.propertyChanged,
    policy: options.openPaths ? undefined : templateOnlyPolicy(site.viewdefs),
  }, { ...options.limits, maxVariables: options.maxVariables });
  const executor = createExecutor();
  const timers = createTimers({
    vm,
    executeInSession: hooks.runTask,
    timerFailed: (failure) => hooks.reportFailure("Timer callback", failure),
  });
  const api = createSessionApi({
    vm,
    vendedId: options.vendedId,
    backend,
    wrappers,
    log,
    unloadModule: (name) => void program.unloadModule(name),
    unloadDirectory: (dir) => void program.unloadDirectory(dir),
  });
  const sessionTable = installApi(api, timers.functions);
  const appModel = installAppModel({
    vm,
    sessionTable,
    findType,
    mutationFailed: (message) =>
      hooks.reportFailure("mutate()", { code: "lua-error", description: message }),
  });
  wrappers.registerBuiltin(VIEW_LIST, appModel.viewList);
  // The `session` and `ui` tables' names, like the libraries', are one copy per process.
  vm.shareGlobalNames();
  const hostClosed = new AbortController();
  if (options.host) {
    installHostTables(vm, options.host(hostClosed.signal), {
      timeoutMs: options.hostCallTimeoutMs,
      signal: hostClosed.signal,
    });
  }
  const program: Program = createProgram({
    vm,
    sessionTable,
    readLua: (file) => readSiteLua(site, file),
    readRootLua: (path) => readSiteLua(site, path, true),
    afterLoad: () => appModel.runMutations(),
  });
  parts = {
    vm,
    runner,
    meter,
    wrappers,
    backend,
    executor,
    timers,
    api,
    sessionTable,
    appModel,
    program,
    closeHost: () => hostClosed.abort(),
    findType(name) {
      const presenter = api.presenter(name);
      if (presenter !== undefined) return presenter;
      const proto = getField(vm, appModel.registry, toLua(name));
      if (proto.ok && proto.value !== null) return proto.value;
      return wrappers.find(name) ?? null;
    },
  };
  return parts;
}
