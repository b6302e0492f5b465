/**
 * Time slicing: runs one Lua entry as a coroutine that the count hook suspends every few
 * milliseconds, resumed on a later turn of the event loop, so that other sessions, timers and
 * signals are served in between.
 *
 * fengari 0.1.5 follows Lua 5.3 here: a count hook may call `lua_yield(L, 0)` while the running
 * coroutine is yieldable (`luaG_traceexec` in ldebug.js then rewinds the instruction, marks the
 * call `CIST_HOOKYIELD` and throws `LUA_YIELD`; `lua_resume` continues where it stopped). The
 * instruction budget keeps counting across slices, since it is reset only by `beginEntry`.
 *
 * A slice cannot end where the coroutine is not yieldable: inside a JavaScript function that
 * calls back into Lua (`table.sort`'s comparator, `string.gsub`'s replacement function, the
 * sandbox's guarded library functions, getters called with `lua_pcall` from JavaScript), or in
 * a coroutine the app made itself (yielding there would hand the app's `coroutine.resume` a
 * spurious yield). Those stretches run to their end, bounded by the instruction budget.
 *
 * @module
 */
import { fromLua, lauxlib, lua, type LuaState, type LuaString } from "./fengari.ts";
import type { Failure } from "../failure.ts";
import type { LuaValue, LuaVm } from "./vm.ts";
import { trackThread } from "./memory_budget.ts";
import { mergeOptions } from "../options.ts";

/** Options of {@link runSliced}. */
export interface SliceOptions {
  /** Longest stretch, in milliseconds, Lua runs before it lets the event loop turn. */
  sliceMs: number;
  /** Longest wall-clock time of the whole entry, slices and waits included, in milliseconds. */
  wallClockMs: number;
}

/** The default options of {@link runSliced}. */
export const DEFAULT_SLICE_OPTIONS: SliceOptions = { sliceMs: 4, wallClockMs: 5_000 };

/** The outcome of {@link runSliced}. */
export type SlicedResult =
  | { ok: true; value: LuaValue[]; slices: number }
  | { ok: false; failure: Failure; slices: number };

/**
 * Waits for the next turn of the event loop with `setTimeout(0)`, so that I/O and due timers
 * run first. (A `MessageChannel` message is ten times cheaper but Deno serves a chain of them
 * before its timers, which would starve the other sessions' timers.)
 *
 * @example
 * ```ts
 * import { nextTurn } from "./time_slice.ts";
 * await nextTurn();
 * ```
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const WALL_CLOCK_MESSAGE = "Lua code ran past its wall-clock limit";

/**
 * The slice length of a long entry (one suspended at least once) while another VM ran Lua within
 * the last {@link CONTENTION_WINDOW_MS}, in milliseconds. Each turn of the event loop costs
 * about a millisecond of `setTimeout`, so a session alone keeps its full slices, and an entry's
 * first slice is always full (short entries, nearly all of them, finish in it); a long entry
 * that shares the thread takes turns faster, so a click elsewhere waits at most about this long
 * behind it.
 *
 * @example
 * ```ts
 * import { CONTENDED_SLICE_MS } from "./time_slice.ts";
 * CONTENDED_SLICE_MS; // 1
 * ```
 */
export const CONTENDED_SLICE_MS = 1;
/** How long after another VM's slice a VM counts as sharing the thread, in milliseconds. */
const CONTENTION_WINDOW_MS = 100;

/** The last VM that started a slice, and the last one before it that was another VM. */
let lastSlice: { vm: WeakRef<object>; at: number } | undefined;
let otherSlice: { vm: WeakRef<object>; at: number } | undefined;

/**
 * Starts a slice of a VM's Lua: records it and answers when the slice should end, `sliceMs`
 * from now, or {@link CONTENDED_SLICE_MS} for a `continued` entry (suspended before) when
 * another VM ran a slice recently.
 *
 * @example
 * ```ts
 * import { sliceDeadline } from "./time_slice.ts";
 * const a = {}, b = {};
 * sliceDeadline(a, 4, true); // now + 4: a is alone
 * sliceDeadline(b, 4, false); // now + 4: b's entry has just started
 * sliceDeadline(a, 4, true); // now + 1: b ran just before
 * ```
 */
export function sliceDeadline(vm: object, sliceMs: number, continued: boolean): number {
  const now = performance.now();
  if (lastSlice?.vm.deref() !== vm) {
    otherSlice = lastSlice;
    lastSlice = { vm: new WeakRef(vm), at: now };
  } else lastSlice.at = now;
  const contended = continued && otherSlice !== undefined &&
    now - otherSlice.at < CONTENTION_WINDOW_MS && otherSlice.vm.deref() !== vm;
  return now + (contended ? Math.min(sliceMs, CONTENDED_SLICE_MS) : sliceMs);
}

/**
 * Calls a Lua function value with arguments as a sliced entry: starts the entry's budget, runs
 * until done, yielding to the event loop every `sliceMs`. Entries of one VM must not overlap:
 * the caller queues a session's work behind its running entry.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { runSliced } from "./time_slice.ts";
 * const vm = new LuaVm();
 * const fn = vm.evaluate("return function(n) for i = 1, n do end return n end");
 * if (fn.ok) {
 *   const result = await runSliced(vm, fn.value[0] ?? null, [1e6]);
 *   // result is { ok: true, value: [1000000], slices: N }
 * }
 * ```
 */
export async function runSliced(
  vm: LuaVm,
  fn: LuaValue,
  args: readonly LuaValue[],
  options: Partial<SliceOptions> = {},
  nresults = 1,
): Promise<SlicedResult> {
  const settings = mergeOptions(DEFAULT_SLICE_OPTIONS, options);
  const L = vm.L;
  const top = lua.lua_gettop(L);
  const co = lua.lua_newthread(L); // anchored on L's stack until the entry ends
  trackThread(L, co);
  vm.push(fn, co);
  for (const arg of args) vm.push(arg, co);
  vm.beginEntry();
  const started = performance.now();
  let sliceEnd = 0;
  let hookYielded = false;
  const shouldYield = (running: LuaState) => {
    if (running !== co || performance.now() < sliceEnd) return false;
    hookYielded = true;
    return true;
  };
  vm.setYieldCheck(shouldYield);
  let nargs = args.length;
  let slices = 0;
  try {
    for (;;) {
      slices++;
      sliceEnd = sliceDeadline(vm, settings.sliceMs, slices > 1);
      const status = lua.lua_resume(co, L, nargs);
      nargs = 0;
      if (status === lua.LUA_OK) {
        const values: LuaValue[] = [];
        const count = lua.lua_gettop(co);
        for (let i = 1; i <= Math.min(count, nresults); i++) values.push(vm.read(i, co));
        while (values.length < nresults) values.push(null);
        return { ok: true, value: values, slices };
      }
      if (status !== lua.LUA_YIELD) return { ok: false, failure: threadFailure(vm, co), slices };
      if (!hookYielded) {
        // Only the hook yields the entry itself; a plain coroutine.yield at its top level is
        // an error, as it would be in a protected call.
        return {
          ok: false,
          failure: { code: "lua-error", description: "attempt to yield from outside a coroutine" },
          slices,
        };
      }
      hookYielded = false;
      vm.setYieldCheck(null);
      await nextTurn();
      vm.setYieldCheck(shouldYield);
      if (vm.closed) {
        return { ok: false, failure: { code: "lua-error", description: "VM closed" }, slices };
      }
      if (performance.now() - started > settings.wallClockMs || vm.pastDeadline) {
        return {
          ok: false,
          failure: { code: "lua-timeout", description: WALL_CLOCK_MESSAGE },
          slices,
        };
      }
    }
  } finally {
    vm.setYieldCheck(null);
    lua.lua_settop(L, top);
  }
}

/**
 * The failure of a coroutine that ended in an error, with its traceback (taken after the fact:
 * the dead coroutine keeps its stack).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { lua, toLua } from "./fengari.ts";
 * import { threadFailure } from "./time_slice.ts";
 * const vm = new LuaVm();
 * const co = lua.lua_newthread(vm.L);
 * lua.lua_pushstring(co, toLua("boom"));
 * threadFailure(vm, co); // { code: "lua-error", description: "boom\nstack traceback: ..." }
 * ```
 */
export function threadFailure(vm: LuaVm, co: LuaState): Failure {
  const message = lua.lua_type(co, -1) === lua.LUA_TSTRING
    ? lua.lua_tolstring(co, -1) as LuaString
    : null;
  // The dead coroutine keeps its stack, so the traceback is taken after the fact.
  lauxlib.luaL_traceback(co, co, message, 0);
  const text = lua.lua_tolstring(co, -1);
  return vm.failure(text ? fromLua(text) : "error object is not a string");
}
