/**
 * One session's Lua virtual machine: the fengari state, protected calls and marshalling between
 * Lua values and JavaScript. The instruction budget is `entry_budget.ts`, the crossing of errors
 * `guard.ts`.
 *
 * Tables, functions, userdata and threads cross into JavaScript as {@link LuaObject}s: one per Lua
 * object, found again through a `WeakMap`, with a per-VM id that is never reused.
 *
 * @module
 */
import type { Failure, Result } from "../failure.ts";
import {
  fromLua,
  lauxlib,
  lua,
  type LuaCFunction,
  type LuaProxy,
  type LuaState,
  type LuaString,
  toLua,
} from "./fengari.ts";
import { EntryBudget } from "./entry_budget.ts";
import { catchNativeErrors, errorMessage, guard, insertTraceback } from "./guard.ts";
import { rawString, type RawTable, type RawValue } from "./fengari_internals/raw_reads.ts";
import { shareNames } from "./fengari_internals/shared_strings.ts";
import { pushCompiled, rememberCompiled } from "./fengari_internals/shared_chunks.ts";
import { mergeOptions } from "../options.ts";

/** A Lua value seen from JavaScript. Numbers lose the integer/float distinction. */
export type LuaValue = null | boolean | number | string | LuaObject;

/** The kinds of Lua value that are passed by reference. */
export type LuaObjectKind = "table" | "function" | "userdata" | "thread";

/** A Lua reference value held from JavaScript; keeps the Lua object alive while referenced. */
export interface LuaObject {
  /** What kind of Lua value this is. */
  readonly kind: LuaObjectKind;
  /** Per-VM object id, positive, never reused. */
  readonly id: number;
  /** Pushes the object onto a stack of this VM. */
  readonly push: LuaProxy;
  /** fengari's own object behind the value (opaque), for `fengari_internals/raw_reads.ts`. */
  readonly raw: object;
  /** Set once its id went to the client (see {@link LuaVm.expose}). */
  exposed?: boolean;
}

/** Options of {@link LuaVm}. */
export interface LuaVmOptions {
  /** Instructions one entry into Lua may run before it is stopped with `lua-timeout`. */
  instructionBudget: number;
  /**
   * Longest wall-clock time of one entry (or frame), in milliseconds, waits between time slices
   * included; checked by the count hook and by {@link LuaVm.charge}.
   */
  wallClockMs: number;
}

/** The default options of {@link LuaVm}. */
export const DEFAULT_VM_OPTIONS: LuaVmOptions = {
  instructionBudget: 10_000_000,
  wallClockMs: 5_000,
};

/**
 * Takes over {@link LuaVm.pcall} on the main thread while installed (see `resumable.ts`):
 * answers what `pcall` would, or `undefined` to let the plain protected call run.
 */
export type CallInterceptor = (nargs: number, nresults: number) => Failure | null | undefined;

const INT_MIN = -0x80000000;
const INT_MAX = 0x7fffffff;

/** Lua strings read by {@link LuaVm.fromRaw}, decoded, by fengari's bytes of the string. */
const decodedStrings = new WeakMap<LuaString, string>();

const KIND_BY_TYPE = new Map<number, LuaObjectKind>([
  [lua.LUA_TTABLE, "table"],
  [lua.LUA_TFUNCTION, "function"],
  [lua.LUA_TUSERDATA, "userdata"],
  [lua.LUA_TLIGHTUSERDATA, "userdata"],
  [lua.LUA_TTHREAD, "thread"],
]);

/**
 * A Lua state with marshalling, an instruction budget and protected calls.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * const vm = new LuaVm();
 * vm.beginEntry();
 * const result = vm.evaluate("return 1 + 2", "=example");
 * // result is { ok: true, value: [3] }
 * ```
 */
export class LuaVm {
  /** The main Lua thread. */
  readonly L: LuaState;
  readonly #objects = new WeakMap<object, LuaObject>();
  readonly #byId = new Map<number, WeakRef<LuaObject>>();
  readonly #idRegistry = new FinalizationRegistry<number>((id) => this.#byId.delete(id));
  /** Lua strings made from key byte arrays, so that a key is copied and hashed only once. */
  readonly #keys = new WeakMap<LuaString, LuaProxy>();
  #nextId = 1;
  #closed = false;
  #interceptor: CallInterceptor | null = null;
  readonly #budget: EntryBudget;

  /** Creates a bare state (no libraries); see `openSandbox` for the session environment. */
  constructor(options: Partial<LuaVmOptions> = {}) {
    this.#budget = new EntryBudget(mergeOptions(DEFAULT_VM_OPTIONS, options));
    this.L = lauxlib.luaL_newstate();
    catchNativeErrors(this.L);
    this.#budget.install(this.L);
  }

  /** True once the current entry has used up its instruction budget. */
  get timedOut(): boolean {
    return this.#budget.timedOut;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts a new entry into Lua (a timer, a load): resets the instruction budget and the wall
   * clock. Inside a frame ({@link beginFrame}) it does nothing: the frame's messages and the
   * change detection after them share one budget.
   */
  beginEntry(): void {
    this.#budget.beginEntry();
  }

  /**
   * Starts a frame: one instruction budget and one wall clock for everything until
   * {@link endFrame}, however many entries the code in between begins.
   */
  beginFrame(): void {
    this.#budget.beginFrame();
  }

  /** Ends the frame begun by {@link beginFrame}. */
  endFrame(): void {
    this.#budget.endFrame();
  }

  /** Instructions (and charged library work) used by the current entry or frame so far. */
  get steps(): number {
    return this.#budget.steps;
  }

  /** True when the current entry or frame is past its wall-clock limit. */
  get pastDeadline(): boolean {
    return this.#budget.pastDeadline;
  }

  /** Stops the current entry as past its wall-clock limit (used between time slices). */
  expire(): void {
    this.#budget.expire();
  }

  /** Moves the wall-clock deadline `ms` later (the wait for an async host call). */
  extendDeadline(ms: number): void {
    this.#budget.extendDeadline(ms);
  }

  /** Installs (or removes, with null) the interceptor of main-thread {@link pcall}s. */
  setCallInterceptor(interceptor: CallInterceptor | null): void {
    this.#interceptor = interceptor;
  }

  /** Empties the main thread's stack (between tasks nothing lives on it). */
  resetStack(): void {
    lua.lua_settop(this.L, 0);
  }

  /** Drops every JavaScript-side reference; the state must not be used afterwards. */
  close(): void {
    this.#closed = true;
    this.#byId.clear();
    lua.lua_settop(this.L, 0);
  }

  /**
   * Installs the memory budget's test (see `memory_budget.ts`): while it answers true, the count
   * hook and the sandbox's pcall wrappers raise again, and {@link pcall} reports `lua-memory`.
   */
  setMemoryCheck(exceeded: () => boolean): void {
    this.#budget.memoryExceeded = exceeded;
  }

  /**
   * Installs the time slicer's test (see `time_slice.ts`): the count hook yields the running
   * coroutine when it answers true. The instruction budget still counts across the slices.
   */
  setYieldCheck(shouldYield: ((L: LuaState) => boolean) | null): void {
    this.#budget.shouldYield = shouldYield;
  }

  /**
   * For JavaScript library functions that do long work in chunks (`ui.json_decode`,
   * `utf8.len`): true when the running entry's time slice is over and `L` may yield, so that
   * the function suspends with `lua_yieldk` as the count hook would (the runner then resumes it
   * on a later turn). False outside a time-sliced entry: the work goes on unsliced.
   */
  sliceDue(L: LuaState): boolean {
    const shouldYield = this.#budget.shouldYield;
    return shouldYield !== null && lua.lua_isyieldable(L) && shouldYield(L);
  }

  /** Raises the timeout again if the budget is spent; used by the sandbox's pcall wrappers. */
  reraiseTimeout(L: LuaState): void {
    this.#budget.reraise(L);
  }

  /**
   * Charges work done inside a JavaScript library function to the instruction budget, since
   * the count hook never sees it; raises the timeout when the budget is spent.
   */
  charge(L: LuaState, instructions: number): void {
    this.#budget.charge(L, instructions);
  }

  /** Reads the value at a stack index. */
  read(idx: number, L: LuaState = this.L): LuaValue {
    switch (lua.lua_type(L, idx)) {
      case lua.LUA_TNIL:
      case lua.LUA_TNONE:
        return null;
      case lua.LUA_TBOOLEAN:
        return lua.lua_toboolean(L, idx);
      case lua.LUA_TNUMBER:
        return lua.lua_tonumber(L, idx);
      case lua.LUA_TSTRING:
        return fromLua(lua.lua_tolstring(L, idx) as LuaString);
      default:
        return this.objectAt(idx, L);
    }
  }

  /** The {@link LuaObject} for the reference value at a stack index. */
  objectAt(idx: number, L: LuaState = this.L): LuaObject {
    const pointer = lua.lua_topointer(L, idx) as object;
    const known = this.#objects.get(pointer);
    if (known) return known;
    const object: LuaObject = {
      kind: KIND_BY_TYPE.get(lua.lua_type(L, idx)) ?? "userdata",
      id: this.#nextId++,
      push: lua.lua_toproxy(L, idx),
      raw: pointer,
      exposed: false,
    };
    this.#objects.set(pointer, object);
    return object;
  }

  /**
   * Reads a value cell from `fengari_internals/raw_reads.ts` as {@link read} would; `undefined`
   * for an object this VM has not seen yet (the caller then reads it through the API, which registers it).
   */
  fromRaw(cell: RawValue): LuaValue | undefined {
    switch (cell.type & 0x0f) {
      case lua.LUA_TNIL:
        return null;
      case lua.LUA_TBOOLEAN:
        return cell.value !== false;
      case lua.LUA_TNUMBER:
        return cell.value as number;
      case lua.LUA_TSTRING: {
        // A Lua string never changes: each one is decoded once while it lives.
        const bytes = rawString(cell) as LuaString;
        let text = decodedStrings.get(bytes);
        if (text === undefined) decodedStrings.set(bytes, text = fromLua(bytes));
        return text;
      }
      default:
        return this.#objects.get(cell.value as object);
    }
  }

  /**
   * Records that an object's id went to the client, so that a value the client writes back as
   * `{"obj": N}` can name it. Objects never shown cannot be named.
   */
  expose(object: LuaObject): void {
    // A flag on the object, not a lookup: every batch shows the same objects again.
    if (object.exposed) return;
    object.exposed = true;
    this.#byId.set(object.id, new WeakRef(object));
    this.#idRegistry.register(object, object.id);
  }

  /** The live object with this id, if it was exposed to the client and is still referenced. */
  objectById(id: number): LuaObject | undefined {
    return this.#byId.get(id)?.deref();
  }

  /**
   * Makes the names of the global table and of the tables in it (libraries, API tables) the
   * process's shared copies (see `fengari_internals/shared_strings.ts`): every session builds
   * them alike, and each name costs about 250 bytes per copy.
   */
  shareGlobalNames(): void {
    // Straight from the registry: no object (and no object id) is made for the global table.
    lua.lua_rawgeti(this.L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    shareNames(lua.lua_topointer(this.L, -1) as RawTable);
    lua.lua_pop(this.L, 1);
  }

  /** The global table. */
  globals(): LuaObject {
    lua.lua_rawgeti(this.L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    const globals = this.objectAt(-1);
    lua.lua_pop(this.L, 1);
    return globals;
  }

  /** Pushes a value; integral numbers in 32-bit range become Lua integers, others floats. */
  push(value: LuaValue, L: LuaState = this.L): void {
    if (value === null) lua.lua_pushnil(L);
    else if (typeof value === "boolean") lua.lua_pushboolean(L, value);
    else if (typeof value === "number") {
      if (Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX) {
        lua.lua_pushinteger(L, value);
      } else lua.lua_pushnumber(L, value);
    } else if (typeof value === "string") lua.lua_pushstring(L, toLua(value));
    else value.push(L);
  }

  /**
   * Pushes a string used as a table key. The first push of a byte array makes the Lua string;
   * later pushes of the same array reuse it, so that fengari neither copies the bytes nor
   * re-computes the string's hash on each lookup. The array must not change afterwards.
   */
  pushKey(key: LuaString, L: LuaState = this.L): void {
    const known = this.#keys.get(key);
    if (known) return known(L);
    lua.lua_pushstring(L, key);
    this.#keys.set(key, lua.lua_toproxy(L, -1));
  }

  /**
   * Calls the function below `nargs` arguments on the stack, protected, with a traceback
   * (`lua-error`), or `lua-timeout` when the instruction budget ran out.
   * On success the results are left on the stack and `null` is returned; on failure nothing is
   * left and the failure is returned.
   */
  pcall(nargs: number, nresults: number, L: LuaState = this.L): Failure | null {
    this.#budget.startClock();
    if (this.#interceptor && L === this.L) {
      const intercepted = this.#interceptor(nargs, nresults);
      if (intercepted !== undefined) return intercepted;
    }
    const base = insertTraceback(L, nargs);
    const status = lua.lua_pcall(L, nargs, nresults, base);
    if (status === lua.LUA_OK) {
      lua.lua_remove(L, base);
      return null;
    }
    const message = errorMessage(L);
    lua.lua_settop(L, base - 1);
    return this.failure(message);
  }

  /** The failure for an error raised in this entry: a spent budget wins over the message. */
  failure(message: string): Failure {
    return this.#budget.spent() ?? { code: "lua-error", description: message };
  }

  /** Compiles text (never binary chunks) and pushes the function, or returns the syntax error. */
  loadText(code: string, chunkName: string, L: LuaState = this.L): Failure | null {
    // The same text under the same name is compiled once per process (see fengari_internals/).
    if (pushCompiled(L, code, chunkName)) return null;
    const bytes = toLua(code);
    const status = lauxlib.luaL_loadbufferx(L, bytes, bytes.length, toLua(chunkName), toLua("t"));
    if (status === lua.LUA_OK) {
      rememberCompiled(L, code, chunkName);
      return null;
    }
    const message = fromLua(lua.lua_tolstring(L, -1) ?? toLua("syntax error"));
    lua.lua_pop(L, 1);
    return { code: "lua-error", description: message };
  }

  /** Runs a chunk of text and reads its results; for tests and tools. */
  evaluate(
    code: string,
    chunkName = "=eval",
  ): Result<LuaValue[]> {
    const L = this.L;
    const top = lua.lua_gettop(L);
    const failure = this.loadText(code, chunkName) ?? this.pcall(0, lua.LUA_MULTRET);
    if (failure) return { ok: false, failure };
    const values: LuaValue[] = [];
    for (let i = top + 1; i <= lua.lua_gettop(L); i++) values.push(this.read(i));
    lua.lua_settop(L, top);
    return { ok: true, value: values };
  }

  /** Calls a Lua function value with arguments, returning its first `nresults` results. */
  call(
    fn: LuaValue,
    args: readonly LuaValue[],
    nresults = 1,
  ): Result<LuaValue[]> {
    const L = this.L;
    const top = lua.lua_gettop(L);
    this.push(fn);
    for (const arg of args) this.push(arg);
    const failure = this.pcall(args.length, nresults);
    if (failure) return { ok: false, failure };
    const values: LuaValue[] = [];
    for (let i = top + 1; i <= top + nresults; i++) values.push(this.read(i));
    lua.lua_settop(L, top);
    return { ok: true, value: values };
  }

  /** Sets a global to a JavaScript function whose JavaScript exceptions become Lua errors. */
  setGlobalFunction(name: string, fn: LuaCFunction): void {
    lua.lua_pushcfunction(this.L, guard(fn));
    lua.lua_setglobal(this.L, toLua(name));
  }
}
