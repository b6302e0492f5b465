/**
 * The limits of one entry into Lua (or one frame): an instruction budget counted by a count
 * hook, a wall clock, and the memory budget's and time slicer's tests, which the hook runs too.
 * Once spent, a budget raises again at every hook interval, so a `pcall` cannot swallow it.
 *
 * @module
 */
import type { Failure } from "../failure.ts";
import { lauxlib, lua, type LuaState, toLua } from "./fengari.ts";
import type { LuaVmOptions } from "./vm.ts";

/** How often (in instructions) the budget hook runs; small enough to stop a loop promptly. */
const HOOK_INTERVAL = 1000;
const TIMEOUT_MESSAGE = "instruction budget exhausted";
const MEMORY_MESSAGE = "memory budget exhausted";

/**
 * One VM's entry budget; {@link LuaVm} installs its hook and answers for it.
 *
 * @example
 * ```ts
 * import { EntryBudget } from "./entry_budget.ts";
 * import { lauxlib } from "./fengari.ts";
 * const budget = new EntryBudget({ instructionBudget: 1_000_000, wallClockMs: 1000 });
 * budget.install(lauxlib.luaL_newstate());
 * budget.beginEntry();
 * ```
 */
export class EntryBudget {
  readonly #options: LuaVmOptions;
  #steps = 0;
  #timedOut = false;
  #wallClockExpired = false;
  #deadline = Infinity;
  /** An entry began but its wall clock has not started: nothing has run in it yet. */
  #clockPending = false;
  #inFrame = false;
  /** The memory budget's test (see `memory_budget.ts`). */
  memoryExceeded: () => boolean = () => false;
  /** The time slicer's test (see `time_slice.ts`). */
  shouldYield: ((L: LuaState) => boolean) | null = null;

  /** A budget with these limits. */
  constructor(options: LuaVmOptions) {
    this.#options = options;
  }

  /** Installs the count hook on a state. */
  install(L: LuaState): void {
    lua.lua_sethook(L, this.#hook, lua.LUA_MASKCOUNT, HOOK_INTERVAL);
  }

  /** True once the current entry has used up its instruction budget. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** Starts an entry; does nothing inside a frame. */
  beginEntry(): void {
    if (this.#inFrame) return;
    // Change detection begins one entry per variable, most of which run no Lua at all: the
    // clock (a system call) starts when something first runs or asks for it.
    this.#steps = 0;
    this.#timedOut = false;
    this.#wallClockExpired = false;
    this.#clockPending = true;
  }

  /** Starts the wall clock of an entry begun with {@link beginEntry}, if not yet started. */
  startClock(): void {
    if (this.#clockPending) this.#startClockNow();
  }

  #startClockNow(): void {
    this.#clockPending = false;
    this.#deadline = performance.now() + this.#options.wallClockMs;
  }

  /** Starts a frame: one budget until {@link endFrame}. */
  beginFrame(): void {
    this.#inFrame = false;
    this.#reset();
    this.#inFrame = true;
  }

  /** Ends the frame begun by {@link beginFrame}. */
  endFrame(): void {
    this.#inFrame = false;
  }

  #reset(): void {
    this.#steps = 0;
    this.#timedOut = false;
    this.#wallClockExpired = false;
    this.#startClockNow();
  }

  /** Instructions (and charged library work) used so far. */
  get steps(): number {
    return this.#steps;
  }

  /** True when the current entry or frame is past its wall-clock limit. */
  get pastDeadline(): boolean {
    if (this.#clockPending) this.#startClockNow();
    return performance.now() > this.#deadline;
  }

  /** Moves the wall-clock deadline `ms` later: time spent waiting on a host call is not Lua's. */
  extendDeadline(ms: number): void {
    this.#deadline += ms;
  }

  /** Stops the current entry as past its wall-clock limit. */
  expire(): void {
    this.#timedOut = true;
    this.#wallClockExpired = true;
  }

  #hook = (L: LuaState): void => {
    if (this.memoryExceeded()) lauxlib.luaL_error(L, toLua(MEMORY_MESSAGE));
    if (!this.#timedOut) {
      this.#steps += HOOK_INTERVAL;
      if (this.#steps <= this.#options.instructionBudget && !this.#checkDeadline()) {
        if (this.shouldYield && lua.lua_isyieldable(L) && this.shouldYield(L)) {
          lua.lua_yield(L, 0);
        }
        return;
      }
      this.#timedOut = true;
    }
    // Raised again at every interval once timed out, so a pcall cannot swallow it for good.
    lauxlib.luaL_error(L, toLua(TIMEOUT_MESSAGE));
  };

  /** True (and recorded) when the wall clock of the entry ran out. */
  #checkDeadline(): boolean {
    if (this.#clockPending) this.#startClockNow();
    if (performance.now() <= this.#deadline) return false;
    this.#wallClockExpired = true;
    return true;
  }

  /** Raises the timeout (or the memory error) again if the budget is spent. */
  reraise(L: LuaState): void {
    if (this.memoryExceeded()) lauxlib.luaL_error(L, toLua(MEMORY_MESSAGE));
    if (this.#timedOut) lauxlib.luaL_error(L, toLua(TIMEOUT_MESSAGE));
  }

  /** Charges work done in JavaScript; raises the timeout when the budget is spent. */
  charge(L: LuaState, instructions: number): void {
    if (this.#timedOut) lauxlib.luaL_error(L, toLua(TIMEOUT_MESSAGE));
    this.#steps += instructions;
    if (this.#steps <= this.#options.instructionBudget && !this.#checkDeadline()) return;
    this.#timedOut = true;
    lauxlib.luaL_error(L, toLua(TIMEOUT_MESSAGE));
  }

  /** The failure of a spent budget (memory first), or `undefined` while it holds. */
  spent(): Failure | undefined {
    if (this.memoryExceeded()) {
      return { code: "lua-memory", description: "Lua code ran past its memory budget" };
    }
    if (this.#timedOut) {
      const limit = this.#wallClockExpired ? "wall-clock limit" : "instruction budget";
      return { code: "lua-timeout", description: `Lua code ran past its ${limit}` };
    }
    return undefined;
  }
}
