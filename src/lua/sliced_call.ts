/**
 * Long library work in time slices: a JavaScript function called from Lua (`ui.json_decode`,
 * `utf8.len`) runs as one call the count hook never interrupts. Done in chunks through
 * {@link runInSlices}, it suspends between two chunks when the running entry's slice is over,
 * exactly as the count hook suspends Lua code: `lua_yieldk` with a continuation that runs the
 * next chunk once the entry's runner (`resumable.ts`, `time_slice.ts`) resumes the coroutine on
 * a later turn of the event loop, so other sessions are served in between.
 *
 * Lua values built so far stay on the function's own stack, which a yield keeps; the chunk
 * function keeps its JavaScript state in its closure. Where the caller cannot be suspended
 * (main.lua, a getter called from JavaScript, a coroutine of the app's own) the chunks simply
 * run one after the other.
 *
 * @module
 */
import { lua, type LuaState } from "./fengari.ts";
import { guard } from "./guard.ts";
import type { LuaVm } from "./vm.ts";

/**
 * One chunk of work: returns the number of results it pushed once the work is done, or
 * `undefined` when more chunks remain. It may raise Lua errors (or throw JavaScript ones, which
 * become Lua errors).
 */
export type Chunk = (L: LuaState) => number | undefined;

/**
 * Runs `chunk` until it reports the work done, yielding the running entry between two chunks
 * whenever its time slice is over ({@link LuaVm.sliceDue}); returns (or, after a yield, its
 * continuation returns) the chunk's result count. Call it as the return value of a Lua
 * function written in JavaScript.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { lua } from "./fengari.ts";
 * import { runInSlices } from "./sliced_call.ts";
 * const vm = new LuaVm();
 * vm.setGlobalFunction("count", (L) => {
 *   let i = 0;
 *   return runInSlices(vm, L, (L) => {
 *     if (++i < 10) return undefined;
 *     lua.lua_pushinteger(L, i);
 *     return 1;
 *   });
 * });
 * vm.evaluate("return count()"); // { ok: true, value: [10] }
 * ```
 */
export function runInSlices(vm: LuaVm, L: LuaState, chunk: Chunk): number {
  const run = (L: LuaState): number => {
    for (;;) {
      const results = chunk(L);
      if (results !== undefined) return results;
      // The continuation is called by fengari's resume, outside any guard of the caller's.
      if (vm.sliceDue(L)) return lua.lua_yieldk(L, 0, 0, continuation);
    }
  };
  const continuation = guard(run);
  return run(L);
}
