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

/** Threads kept per VM: one per call of a typical frame's message is plenty. */
const POOL_SIZE = 4;

/**
 * One VM's time-slicing state, made once and reused by every run on that VM (a run allocates
 * nothing of its own unless it is suspended): the callbacks the VM calls (the yield check and
 * the call interceptor), the calls recorded for a replay, and coroutines that returned normally,
 * kept for the next calls (a Lua 5.3 thread whose function returned is back at its base level
 * and may run another function; making a thread, registering it with the memory budget and
 * anchoring it in the registry cost more than the typical call it runs, a click's action).
 */
interface Slicer {
  readonly vm: LuaVm;
  /** A run is using this state (a nested run on the same VM makes a state of its own). */
  busy: boolean;
  sliceMs: number;
  /** Finished calls of this run, in order, for a replay. */
  readonly log: Recorded[];
  /** The next recorded call a replay answers. */
  index: number;
  running: LuaState | null;
  sliceEnd: number;
  hookYielded: boolean;
  /** The entry has been suspended once: it is a long one, and under contention slices shorten. */
  continued: boolean;
  pending: (Recorded & { nresults: number }) | null;
  /** Coroutines that returned, for the next calls (each record is reused for its next call). */
  readonly pool: Recorded[];
  /** How many the pool keeps ({@link POOL_SIZE}, or none for a nested run's own state). */
  readonly poolSize: number;
  readonly shouldYield: (thread: LuaState) => boolean;
  readonly intercept: (nargs: number, nresults: number) => Failure | null | undefined;
}

const slicers = new WeakMap<LuaVm, Slicer>();

/** The VM's slicing state, or a fresh one when a run is already using it. */
function acquireSlicer(vm: LuaVm, sliceMs: number): Slicer {
  let slicer = slicers.get(vm);
  if (!slicer) slicers.set(vm, slicer = createSlicer(vm, POOL_SIZE));
  else if (slicer.busy) slicer = createSlicer(vm, 0);
  slicer.busy = true;
  slicer.sliceMs = sliceMs;
  slicer.index = 0;
  slicer.continued = false;
  slicer.pending = null;
  return slicer;
}

function createSlicer(vm: LuaVm, poolSize: number): Slicer {
  const slicer: Slicer = {
    vm,
    busy: false,
    sliceMs: 4,
    log: [],
    index: 0,
    running: null,
    sliceEnd: 0,
    hookYielded: false,
    continued: false,
    pending: null,
    pool: [],
    poolSize,
    shouldYield: (thread) => {
      if (thread !== slicer.running || performance.now() < slicer.sliceEnd) return false;
      slicer.hookYielded = true;
      return true;
    },
    intercept: (nargs, nresults) => intercept(slicer, nargs, nresults),
  };
  return slicer;
}

/** A thread for one call: a pooled one, or a new one anchored in the registry. */
function takeThread(slicer: Slicer): Recorded {
  const pooled = slicer.pool.pop();
  if (pooled) return pooled;
  const L = slicer.vm.L;
  const co = lua.lua_newthread(L);
  trackThread(L, co);
  return { fn: null, co, ref: lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX), failure: null };
}

/**
 * Returns a thread to the pool when its call returned (`returned`: status `LUA_OK`, back at its
 * base level); unanchors it otherwise (dead after an error, or still suspended).
 */
function releaseThread(slicer: Slicer, thread: Recorded, returned: boolean): void {
  if (returned && slicer.pool.length < slicer.poolSize) {
    lua.lua_settop(thread.co, 0);
    thread.fn = null;
    thread.failure = null;
    slicer.pool.push(thread);
    return;
  }
  lauxlib.luaL_unref(slicer.vm.L, lua.LUA_REGISTRYINDEX, thread.ref);
}

/** Releases recorded calls from `from` on. */
function releaseLog(slicer: Slicer, from: number): void {
  for (let i = from; i < slicer.log.length; i++) {
    const entry = slicer.log[i] as Recorded;
    releaseThread(slicer, entry, entry.failure === null);
  }
  slicer.log.length = from;
}

/** Resumes `co` for one slice, with calls inside Lua running as plain protected calls. */
function resume(slicer: Slicer, co: LuaState, nargs: number): number {
  const vm = slicer.vm;
  slicer.running = co;
  slicer.hookYielded = false;
  slicer.sliceEnd = sliceDeadline(vm, slicer.sliceMs, slicer.continued);
  vm.setCallInterceptor(null);
  setHostEntry(vm, co);
  try {
    return lua.lua_resume(co, vm.L, nargs);
  } finally {
    setHostEntry(vm, null);
    slicer.running = null;
    vm.setCallInterceptor(slicer.intercept);
  }
}

/** Pushes a recorded call's results on the main thread, as the protected call would have. */
function deliver(slicer: Slicer, entry: Recorded, nresults: number): Failure | null {
  if (entry.failure) return entry.failure;
  const L = slicer.vm.L;
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
}

/** Records a finished call in its thread's record (its results stay on the coroutine's stack). */
function finish(slicer: Slicer, entry: Recorded, fn: unknown, status: number): Recorded {
  let failure: Failure | null = null;
  if (status !== lua.LUA_OK) {
    failure = status === lua.LUA_YIELD && !slicer.hookYielded
      ? { code: "lua-error", description: "attempt to yield from outside a coroutine" }
      : threadFailure(slicer.vm, entry.co);
  }
  entry.fn = fn;
  entry.failure = failure;
  slicer.log.push(entry);
  slicer.index = slicer.log.length;
  return entry;
}

/** The VM's main-thread protected call, run in a coroutine (or answered from the record). */
function intercept(slicer: Slicer, nargs: number, nresults: number): Failure | null | undefined {
  const vm = slicer.vm;
  const L = vm.L;
  const base = lua.lua_gettop(L) - nargs;
  const fn = lua.lua_topointer(L, base);
  if (slicer.index < slicer.log.length) {
    const entry = slicer.log[slicer.index];
    if (entry && entry.fn === fn) {
      slicer.index++;
      lua.lua_settop(L, base - 1);
      return deliver(slicer, entry, nresults);
    }
    // The task took another way this time: forget what it did before.
    releaseLog(slicer, slicer.index);
  }
  const thread = takeThread(slicer);
  lua.lua_xmove(L, thread.co, nargs + 1);
  const status = resume(slicer, thread.co, nargs);
  if (status === lua.LUA_YIELD && (slicer.hookYielded || awaitsHostCall(vm, thread.co))) {
    slicer.pending = { fn, co: thread.co, ref: thread.ref, failure: null, nresults };
    throw new SuspendedEntry();
  }
  return deliver(slicer, finish(slicer, thread, fn, status), nresults);
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
  stats?: ResumableStats,
): Promise<T> {
  const L = vm.L;
  const top = lua.lua_gettop(L);
  const slicer = acquireSlicer(vm, options.sliceMs ?? 4);
  vm.setYieldCheck(slicer.shouldYield);
  vm.setCallInterceptor(slicer.intercept);
  try {
    for (;;) {
      slicer.index = 0;
      try {
        return task();
      } catch (error) {
        if (!(error instanceof SuspendedEntry) || slicer.pending === null) throw error;
      }
      const pending = slicer.pending;
      slicer.pending = null;
      const co = pending.co;
      let status: number = lua.LUA_YIELD;
      while (status === lua.LUA_YIELD && (slicer.hookYielded || awaitsHostCall(vm, co))) {
        vm.setYieldCheck(null);
        vm.setCallInterceptor(null);
        // An async host call: the other sessions run while its promise settles.
        let nargs = 0;
        if (awaitsHostCall(vm, co)) nargs = await settleHostCall(vm, co);
        else {
          await nextTurn();
          slicer.continued = true;
        }
        if (vm.closed) throw new Error("The session closed while Lua was running");
        vm.setYieldCheck(slicer.shouldYield);
        vm.setCallInterceptor(slicer.intercept);
        if (vm.pastDeadline) {
          vm.expire();
          // Resumed once more so that the hook raises the timeout where the code stands.
        }
        if (stats) stats.slices++;
        status = resume(slicer, co, nargs);
      }
      finish(slicer, { fn: null, co, ref: pending.ref, failure: null }, pending.fn, status);
      lua.lua_settop(L, top);
      if (stats) stats.replays++;
    }
  } finally {
    if (!vm.closed) {
      vm.setYieldCheck(null);
      vm.setCallInterceptor(null);
      releaseLog(slicer, 0);
      if (slicer.pending) releaseThread(slicer, slicer.pending, false);
      lua.lua_settop(L, top);
    }
    slicer.pending = null;
    slicer.log.length = 0;
    slicer.busy = false;
  }
}
