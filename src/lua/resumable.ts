/**
 * Time slicing for JavaScript that calls into Lua: runs a synchronous task (a client message
 * applied by the backend) so that the Lua calls it makes are time-sliced, without the task
 * knowing.
 *
 * A call suspended by an async host function (`host_functions.ts`) is resumed the same way, once
 * its promise settled instead of on the next turn.
 *
 * While the task runs, every protected call the VM makes on its main thread
 * ({@link LuaVm.pcall}) runs instead in a fresh coroutine that the count hook may suspend after
 * `sliceMs`. A call that finishes in its first slice (nearly all of them) returns as usual. A
 * call that is suspended unwinds the task with {@link SuspendedEntry}; the runner then resumes
 * that coroutine on later turns of the event loop until it finishes, and runs the task again
 * from the start, answering each protected call it already made with the recorded result (in
 * order, while the called function is the same), so the Lua code of the task runs once.
 *
 * What runs twice is the task's JavaScript and the raw reads it does between calls; the task
 * must therefore be one that can be repeated (the backend's `create` and `update` are: nothing
 * is stored before their last Lua call). Calls made from inside Lua (getters via `__index`
 * functions, wrappers a call creates) run inside the sliced coroutine and are not recorded.
 *
 * @module
 */
import { lauxlib, lua, type LuaState } from "./fengari.ts";
import { trackThread } from "./memory_budget.ts";
import type { Failure } from "../failure.ts";
import type { LuaVm } from "./vm.ts";
import { nextTurn, sliceDeadline, type SliceOptions, threadFailure } from "./time_slice.ts";
import { awaitsHostCall, setHostEntry, settleHostCall } from "./host_functions.ts";

/** Thrown through the task when a Lua call it made was suspended; caught by the runner. */
export class SuspendedEntry extends Error {
  constructor() {
    super("A Lua call was suspended between time slices");
    this.name = "SuspendedEntry";
  }
}

/** One finished protected call, kept until the task completes. */
interface Recorded {
  /** The called function's identity. */
  fn: unknown;
  /** The coroutine (its results stay on its stack), anchored by a registry reference. */
  co: LuaState;
  ref: number;
  failure: Failure | null;
}

/** A coroutine and the registry reference that anchors it. */
interface Thread {
  co: LuaState;
  ref: number;
}

/**
 * Coroutines that returned normally, kept per VM for the next calls: a Lua 5.3 thread whose
 * function returned is back at its base level and may run another function. Making a thread,
 * registering it with the memory budget and anchoring it in the registry cost more than the
 * typical call it runs (a click's action), so each VM keeps a few.
 */
const pools = new WeakMap<LuaVm, Thread[]>();
/** Threads kept per VM: one per call of a typical frame's message is plenty. */
const POOL_SIZE = 4;

/** A thread for one call: a pooled one, or a new one anchored in the registry. */
function takeThread(vm: LuaVm): Thread {
  const pooled = pools.get(vm)?.pop();
  if (pooled) return pooled;
  const L = vm.L;
  const co = lua.lua_newthread(L);
  trackThread(L, co);
  return { co, ref: lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX) };
}

/**
 * Returns a thread to its VM's pool when its call returned (`returned`: status `LUA_OK`, back at
 * its base level); unanchors it otherwise (dead after an error, or still suspended).
 */
function releaseThread(vm: LuaVm, thread: Thread, returned: boolean): void {
  let pool = pools.get(vm);
  if (returned && (pool?.length ?? 0) < POOL_SIZE) {
    lua.lua_settop(thread.co, 0);
    if (!pool) pools.set(vm, pool = []);
    pool.push(thread);
    return;
  }
  lauxlib.luaL_unref(vm.L, lua.LUA_REGISTRYINDEX, thread.ref);
}

/** Statistics of {@link runResumable}. */
export interface ResumableStats {
  /** Slices the task's suspended calls took beyond their first. */
  slices: number;
  /** Times the task ran again after a suspension. */
  replays: number;
}

/**
 * Runs `task` with its main-thread protected calls time-sliced (see the module comment), and
 * returns its result. The VM's wall clock (`beginEntry` / `beginFrame`) bounds the whole run,
 * waits included; when it passes, the suspended call fails with `lua-timeout`. Rejects when the
 * VM is closed meanwhile.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { runResumable } from "./resumable.ts";
 * const vm = new LuaVm();
 * const fn = vm.evaluate("return function(n) for i = 1, n do end return n end");
 * if (fn.ok) {
 *   vm.beginEntry();
 *   const result = await runResumable(vm, () => vm.call(fn.value[0] ?? null, [1e6]));
 *   // result is { ok: true, value: [1000000] }
 * }
 * ```
 */
export async function runResumable<T>(
  vm: LuaVm,
  task: () => T,
  options: Partial<Pick<SliceOptions, "sliceMs">> = {},
  stats: ResumableStats = { slices: 0, replays: 0 },
): Promise<T> {
  const sliceMs = options.sliceMs ?? 4;
  const L = vm.L;
  const top = lua.lua_gettop(L);
  const log: Recorded[] = [];
  let index = 0;
  let running: LuaState | null = null;
  let sliceEnd = 0;
  let hookYielded = false;
  /** The entry has been suspended once: it is a long one, and under contention slices shorten. */
  let continued = false;
  let pending: { fn: unknown; co: LuaState; ref: number; nresults: number } | null = null;

  const shouldYield = (thread: LuaState) => {
    if (thread !== running || performance.now() < sliceEnd) return false;
    hookYielded = true;
    return true;
  };

  const resume = (co: LuaState, nargs: number): number => {
    running = co;
    hookYielded = false;
    sliceEnd = sliceDeadline(vm, sliceMs, continued);
    vm.setCallInterceptor(null); // calls made inside Lua run as plain protected calls
    setHostEntry(vm, co);
    try {
      return lua.lua_resume(co, L, nargs);
    } finally {
      setHostEntry(vm, null);
      running = null;
      vm.setCallInterceptor(intercept);
    }
  };

  const deliver = (entry: Recorded, nresults: number): Failure | null => {
    if (entry.failure) return entry.failure;
    const count = lua.lua_gettop(entry.co);
    const wanted = nresults === lua.LUA_MULTRET ? count : nresults;
    lauxlib.luaL_checkstack(L, wanted + 1, null);
    for (let i = 1; i <= wanted; i++) {
      if (i <= count) {
        lua.lua_pushvalue(entry.co, i);
        lua.lua_xmove(entry.co, L, 1);
      } else lua.lua_pushnil(L);
    }
    return null;
  };

  const finish = (co: LuaState, ref: number, fn: unknown, status: number): Recorded => {
    let failure: Failure | null = null;
    if (status !== lua.LUA_OK) {
      failure = status === lua.LUA_YIELD && !hookYielded
        ? { code: "lua-error", description: "attempt to yield from outside a coroutine" }
        : threadFailure(vm, co);
    }
    const entry = { fn, co, ref, failure };
    log.push(entry);
    index = log.length;
    return entry;
  };

  const intercept = (nargs: number, nresults: number): Failure | null | undefined => {
    const base = lua.lua_gettop(L) - nargs;
    const fn = lua.lua_topointer(L, base);
    if (index < log.length) {
      const entry = log[index];
      if (entry && entry.fn === fn) {
        index++;
        lua.lua_settop(L, base - 1);
        return deliver(entry, nresults);
      }
      // The task took another way this time: forget what it did before.
      release(log.splice(index));
    }
    const { co, ref } = takeThread(vm);
    lua.lua_xmove(L, co, nargs + 1);
    const status = resume(co, nargs);
    if (status === lua.LUA_YIELD && (hookYielded || awaitsHostCall(vm, co))) {
      pending = { fn, co, ref, nresults };
      throw new SuspendedEntry();
    }
    return deliver(finish(co, ref, fn, status), nresults);
  };

  const release = (entries: Recorded[]) => {
    for (const entry of entries) releaseThread(vm, entry, entry.failure === null);
  };

  vm.setYieldCheck(shouldYield);
  vm.setCallInterceptor(intercept);
  try {
    for (;;) {
      index = 0;
      try {
        return task();
      } catch (error) {
        if (!(error instanceof SuspendedEntry) || pending === null) throw error;
      }
      const { fn, co, ref } = pending as { fn: unknown; co: LuaState; ref: number };
      pending = null;
      let status: number = lua.LUA_YIELD;
      while (status === lua.LUA_YIELD && (hookYielded || awaitsHostCall(vm, co))) {
        vm.setYieldCheck(null);
        vm.setCallInterceptor(null);
        // An async host call: the other sessions run while its promise settles.
        let nargs = 0;
        if (awaitsHostCall(vm, co)) nargs = await settleHostCall(vm, co);
        else {
          await nextTurn();
          continued = true;
        }
        if (vm.closed) throw new Error("The session closed while Lua was running");
        vm.setYieldCheck(shouldYield);
        vm.setCallInterceptor(intercept);
        if (vm.pastDeadline) {
          vm.expire();
          // Resumed once more so that the hook raises the timeout where the code stands.
        }
        stats.slices++;
        status = resume(co, nargs);
      }
      finish(co, ref, fn, status);
      lua.lua_settop(L, top);
      stats.replays++;
    }
  } finally {
    if (!vm.closed) {
      vm.setYieldCheck(null);
      vm.setCallInterceptor(null);
      release(log);
      if (pending) releaseThread(vm, pending, false);
      lua.lua_settop(L, top);
    }
  }
}
