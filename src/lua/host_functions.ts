/**
 * Host functions: JavaScript functions the embedding app gives Lua, installed as global tables
 * (`host.name(...)`, and the built-ins `http.fetch`, `store.get`). Arguments and results cross
 * as JSON-able values (tables with keys 1..n are arrays, other tables objects with string keys).
 *
 * A function that returns a Promise is asynchronous: the calling coroutine (the running entry:
 * an action's or a timer's) yields, the entry's runner (`resumable.ts`) waits for the promise
 * while other sessions run, and then resumes the coroutine with the value, or raises the
 * rejection as a Lua error at the call (catchable with `pcall`). The wait does not count
 * against the entry's wall clock; it is bounded by its own timeout instead. Where the running
 * code cannot be suspended (main.lua, a getter during change detection, a coroutine of the
 * app's own), an async host call is a Lua error.
 *
 * @module
 */
import { lauxlib, lua, type LuaState, toLua } from "./fengari.ts";
import { luaToJson, pushJson } from "./json.ts";
import type { LuaVm } from "./vm.ts";

/** A value crossing between Lua and a host function. */
export type HostValue =
  | null
  | boolean
  | number
  | string
  | HostValue[]
  | { [key: string]: HostValue };

/**
 * A host function: JSON-able values in, a JSON-able value out (`undefined` is nil), or a
 * Promise of one for an asynchronous function. A throw or rejection becomes a Lua error.
 */
export type HostFunction = (
  ...args: HostValue[]
) => HostValue | undefined | void | Promise<HostValue | undefined | void>;

/** Host functions by name, as one Lua table. */
export type HostFunctions = Record<string, HostFunction>;

/** Tables of host functions by global name (`{ host: {...}, http: { fetch } }`). */
export type HostTables = Record<string, HostFunctions>;

/** Options of {@link installHostTables}. */
export interface HostCallOptions {
  /** Longest wait for an async host call, in milliseconds; then it fails in Lua. */
  timeoutMs: number;
  /** Aborted when the session closes: a pending wait ends and its result is dropped. */
  signal?: AbortSignal;
}

/** The default wait for an async host call: 30 s. */
export const DEFAULT_HOST_CALL_TIMEOUT_MS = 30_000;

/** An async host call the coroutine yielded for. */
interface Pending {
  thread: LuaState;
  name: string;
  promise: Promise<unknown>;
}

/** One VM's host-call state, shared with its entry runner. */
interface HostCalls {
  options: HostCallOptions;
  /** The coroutine of the running entry, the only one an async call may suspend. */
  entry: LuaState | null;
  pending: Pending | null;
}

const states = new WeakMap<LuaVm, HostCalls>();

const SUSPEND_HINT = "call it from an action or a timer, not from main.lua, a getter during " +
  "change detection or a coroutine of the app's own";

/**
 * Installs host functions as global tables of the VM.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { installHostTables } from "./host_functions.ts";
 * const vm = new LuaVm();
 * installHostTables(vm, { host: { add: (a, b) => Number(a) + Number(b) } });
 * vm.evaluate("return host.add(1, 2)"); // { ok: true, value: [3] }
 * ```
 */
export function installHostTables(
  vm: LuaVm,
  tables: HostTables,
  options: Partial<HostCallOptions> = {},
): void {
  const state: HostCalls = states.get(vm) ?? {
    options: { timeoutMs: DEFAULT_HOST_CALL_TIMEOUT_MS },
    entry: null,
    pending: null,
  };
  state.options = {
    timeoutMs: options.timeoutMs ?? state.options.timeoutMs,
    signal: options.signal ?? state.options.signal,
  };
  states.set(vm, state);
  const L = vm.L;
  for (const [table, functions] of Object.entries(tables)) {
    lua.lua_getglobal(L, toLua(table));
    if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
      lua.lua_pop(L, 1);
      lua.lua_newtable(L);
      lua.lua_pushvalue(L, -1);
      lua.lua_setglobal(L, toLua(table));
    }
    for (const [name, fn] of Object.entries(functions)) {
      lua.lua_pushcfunction(L, hostCall(vm, state, `${table}.${name}`, fn));
      lua.lua_setfield(L, -2, toLua(name));
    }
    lua.lua_pop(L, 1);
  }
}

/** The Lua function of one host function. */
function hostCall(vm: LuaVm, state: HostCalls, name: string, fn: HostFunction) {
  return (L: LuaState): number => {
    const args: HostValue[] = [];
    const count = lua.lua_gettop(L);
    let result: unknown;
    try {
      for (let i = 1; i <= count; i++) args.push(luaToJson(vm, i, L) as HostValue);
      result = fn(...args);
    } catch (error) {
      return raise(L, `${name}: ${messageOf(error)}`);
    }
    if (!isThenable(result)) return pushResult(vm, L, name, result);
    const promise = Promise.resolve(result);
    if (L !== state.entry || !lua.lua_isyieldable(L) || state.pending) {
      promise.catch(() => {}); // its outcome is dropped; never an unhandled rejection
      return raise(L, `Async host function ${name} cannot be called here: ${SUSPEND_HINT}`);
    }
    state.pending = { thread: L, name, promise };
    return lua.lua_yieldk(L, 0, 0, (L) => {
      // Resumed by the runner with (true, value) or (false, message).
      if (lua.lua_toboolean(L, -2)) return 1;
      return lua.lua_error(L);
    });
  };
}

function pushResult(vm: LuaVm, L: LuaState, name: string, value: unknown): number {
  try {
    pushJson(vm, value ?? null, { L, objectRefs: false });
  } catch (error) {
    return raise(L, `${name}: ${messageOf(error)}`);
  }
  return 1;
}

function raise(L: LuaState, message: string): never {
  lua.lua_pushstring(L, toLua(message));
  return lua.lua_error(L);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * For entry runners: marks `co` as the running entry's coroutine (null when none runs), the
 * only thread an async host call may suspend.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { setHostEntry } from "./host_functions.ts";
 * const vm = new LuaVm();
 * setHostEntry(vm, null);
 * ```
 */
export function setHostEntry(vm: LuaVm, co: LuaState | null): void {
  const state = states.get(vm);
  if (state) state.entry = co;
}

/**
 * For entry runners: true when `co` yielded for an async host call.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { lua } from "./fengari.ts";
 * import { awaitsHostCall } from "./host_functions.ts";
 * const vm = new LuaVm();
 * awaitsHostCall(vm, lua.lua_newthread(vm.L)); // false
 * ```
 */
export function awaitsHostCall(vm: LuaVm, co: LuaState): boolean {
  return states.get(vm)?.pending?.thread === co;
}

/**
 * For entry runners: waits for the host call `co` yielded for (see {@link awaitsHostCall}),
 * bounded by the timeout and the session's signal, and moves the entry's wall-clock deadline
 * past the wait. Unless the VM closed meanwhile, pushes the outcome onto `co` for its resume;
 * resolves with the number of values pushed.
 *
 * @example
 * ```ts ignore
 * if (awaitsHostCall(vm, co)) status = lua.lua_resume(co, vm.L, await settleHostCall(vm, co));
 * ```
 */
export async function settleHostCall(vm: LuaVm, co: LuaState): Promise<number> {
  const state = states.get(vm);
  const pending = state?.pending;
  if (!state || !pending || pending.thread !== co) return 0;
  state.pending = null;
  const started = performance.now();
  const outcome = await within(pending, state.options);
  vm.extendDeadline(performance.now() - started);
  if (vm.closed) return 0;
  lauxlib.luaL_checkstack(co, 2, null);
  lua.lua_pushboolean(co, outcome.ok);
  if (!outcome.ok) {
    lua.lua_pushstring(co, toLua(outcome.message));
    return 2;
  }
  try {
    pushJson(vm, outcome.value ?? null, { L: co, objectRefs: false });
  } catch (error) {
    lua.lua_pop(co, 1);
    lua.lua_pushboolean(co, false);
    lua.lua_pushstring(co, toLua(`${pending.name}: ${messageOf(error)}`));
  }
  return 2;
}

type Outcome = { ok: true; value: unknown } | { ok: false; message: string };

/** The promise's outcome, or a failure once the timeout passes or the signal aborts. */
function within(pending: Pending, options: HostCallOptions): Promise<Outcome> {
  const { name, promise } = pending;
  return new Promise<Outcome>((resolve) => {
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", aborted);
      resolve(outcome);
    };
    const aborted = () => done({ ok: false, message: `${name}: the session closed` });
    const timer = setTimeout(
      () => done({ ok: false, message: `${name} timed out after ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    if (options.signal?.aborted) return aborted();
    options.signal?.addEventListener("abort", aborted, { once: true });
    promise.then(
      (value) => done({ ok: true, value }),
      (error) => done({ ok: false, message: `${name}: ${messageOf(error)}` }),
    );
  });
}
