/**
 * Lua timers (SPEC 10.1): `session:setTimeout`, `setInterval`, `setImmediate` and their `clear*`.
 * Callbacks run through the session's executor as entries of their own, so change detection and
 * a flush follow each one; all timers stop when the session shuts down.
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

/** Most live timers one session may hold. */
export const MAX_TIMERS = 10_000;

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
  const live = new Map<number, { handle: ReturnType<typeof setTimeout>; repeat: boolean }>();
  let nextId = 1;
  let stopped = false;

  const fire = (id: number, fn: LuaObject) => {
    const timer = live.get(id);
    if (!timer || stopped) return;
    if (!timer.repeat) live.delete(id);
    host.executeInSession(() => {
      const result = vm.call(fn, [], 0);
      if (!result.ok) host.timerFailed(result.failure);
    }).catch(() => {
      // The session shut down while the callback was queued.
    });
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
    live.set(id, { handle, repeat });
    lua.lua_pushinteger(L, id);
    return 1;
  };

  const clear: LuaCFunction = (L) => {
    const id = lua.lua_tointeger(L, 1);
    const timer = live.get(id);
    if (timer) {
      if (timer.repeat) clearInterval(timer.handle);
      else clearTimeout(timer.handle);
      live.delete(id);
    }
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
      for (const timer of live.values()) {
        if (timer.repeat) clearInterval(timer.handle);
        else clearTimeout(timer.handle);
      }
      live.clear();
    },
  };
}
