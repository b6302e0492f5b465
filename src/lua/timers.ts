/**
 * Lua timers (SPEC 10.1): `session:setTimeout`, `setInterval`, `setImmediate` and their `clear*`.
 * Callbacks run through the session's executor as entries of their own, so change detection and
 * a flush follow each one; all timers stop when the session shuts down.
 *
 * Runaway timers: a repeating timer runs at most once at a time (a firing while its previous run
 * is still queued or running is skipped), and one whose callback fails
 * {@link MAX_TIMER_FAILURES} times in a row (an error, its instruction budget, its memory
 * budget) is cancelled. Only its first failure and the cancellation are reported. Across all
 * timers of the session, more than {@link MAX_TIMER_FAILURES_PER_WINDOW} failures within
 * {@link TIMER_FAILURE_WINDOW_MS} (a `setTimeout` that keeps re-arming itself) cancel every
 * timer, reported once.
 *
 * @module
 */
import { lauxlib, lua, type LuaCFunction, toLua } from "./fengari.ts";
import type { Failure } from "../failure.ts";
import type { LuaObject, LuaVm } from "./vm.ts";

/** What timers need from their session. */
export interface TimerHost {
  readonly vm: LuaVm;
  /** Runs a task as one entry of the session, followed by change detection and a flush. */
  executeInSession(task: () => void): Promise<void>;
  /** Reports a callback's failure to the client (`lua-error`, `lua-timeout`). */
  timerFailed(failure: Failure): void;
}

/** The timers of one session. */
export interface Timers {
  /** The `session` functions: setTimeout, setInterval, setImmediate, clear*. */
  functions: Record<string, LuaCFunction>;
  /** Live timers. */
  readonly count: number;
  /** Cancels every timer. */
  cancelAll(): void;
}

interface Timer {
  handle: ReturnType<typeof setTimeout>;
  repeat: boolean;
  /** A run is queued or running. */
  busy: boolean;
  /** Failures in a row. */
  failures: number;
}

/** Most live timers one session may hold. */
export const MAX_TIMERS = 10_000;

/** Failures in a row after which a repeating timer is cancelled. */
export const MAX_TIMER_FAILURES = 3;

/** Failures of all of a session's timers within {@link TIMER_FAILURE_WINDOW_MS} that stop them all. */
export const MAX_TIMER_FAILURES_PER_WINDOW = 20;

/** The window of {@link MAX_TIMER_FAILURES_PER_WINDOW}, in milliseconds. */
export const TIMER_FAILURE_WINDOW_MS = 10_000;

/**
 * Creates the timer functions of one session.
 *
 * @example
 * ```ts
 * import { createTimers } from "./timers.ts";
 * import { LuaVm } from "./vm.ts";
 * const vm = new LuaVm();
 * const timers = createTimers({
 *   vm,
 *   executeInSession: async (task) => task(),
 *   timerFailed: (failure) => console.warn(failure.description),
 * });
 * // timers.functions become session:setTimeout, session:setInterval, ...
 * timers.cancelAll();
 * ```
 */
export function createTimers(host: TimerHost): Timers {
  const vm = host.vm;
  const live = new Map<number, Timer>();
  let nextId = 1;
  let stopped = false;
  let recentFailures: number[] = [];

  const cancel = (id: number) => {
    const timer = live.get(id);
    if (!timer) return;
    if (timer.repeat) clearInterval(timer.handle);
    else clearTimeout(timer.handle);
    live.delete(id);
  };

  const cancelAll = () => {
    for (const id of [...live.keys()]) cancel(id);
  };

  const failed = (id: number, timer: Timer, failure: Failure) => {
    const now = Date.now();
    recentFailures = recentFailures.filter((at) => now - at < TIMER_FAILURE_WINDOW_MS);
    recentFailures.push(now);
    if (recentFailures.length > MAX_TIMER_FAILURES_PER_WINDOW) {
      recentFailures = [];
      cancelAll();
      host.timerFailed({
        code: failure.code,
        description: `Timers cancelled: more than ${MAX_TIMER_FAILURES_PER_WINDOW} failures in ` +
          `${TIMER_FAILURE_WINDOW_MS / 1000} s; the last: ${failure.description}`,
      });
      return;
    }
    timer.failures++;
    if (timer.repeat && timer.failures >= MAX_TIMER_FAILURES) {
      cancel(id);
      host.timerFailed({
        code: failure.code,
        description:
          `Timer cancelled after ${timer.failures} failures in a row: ${failure.description}`,
      });
    } else if (timer.failures === 1) host.timerFailed(failure);
  };

  const fire = (id: number, fn: LuaObject) => {
    const timer = live.get(id);
    if (!timer || stopped || timer.busy) return;
    if (!timer.repeat) live.delete(id);
    timer.busy = true;
    host.executeInSession(() => {
      const result = vm.call(fn, [], 0);
      if (result.ok) timer.failures = 0;
      else failed(id, timer, result.failure);
    }).catch(() => {
      // The session shut down while the callback was queued.
    }).finally(() => timer.busy = false);
  };

  const start = (repeat: boolean, immediate: boolean): LuaCFunction => (L) => {
    lauxlib.luaL_checktype(L, 1, lua.LUA_TFUNCTION);
    const fn = vm.objectAt(1, L);
    const requested = lua.lua_type(L, 2) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, 2) : 0;
    const ms = immediate ? 0 : Math.max(repeat ? 1 : 0, Number.isFinite(requested) ? requested : 0);
    if (live.size >= MAX_TIMERS) {
      return lauxlib.luaL_error(L, toLua(`Too many timers (${MAX_TIMERS})`));
    }
    const id = nextId++;
    const handle = repeat
      ? setInterval(() => fire(id, fn), ms)
      : setTimeout(() => fire(id, fn), ms);
    live.set(id, { handle, repeat, busy: false, failures: 0 });
    lua.lua_pushinteger(L, id);
    return 1;
  };

  const clear: LuaCFunction = (L) => {
    cancel(lua.lua_tointeger(L, 1));
    return 0;
  };

  return {
    functions: {
      setTimeout: start(false, false),
      setInterval: start(true, false),
      setImmediate: start(false, true),
      clearTimeout: clear,
      clearInterval: clear,
      clearImmediate: clear,
    },
    get count() {
      return live.size;
    },
    cancelAll() {
      stopped = true;
      cancelAll();
    },
  };
}
