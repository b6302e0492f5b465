/**
 * A memory budget per Lua VM, for fengari, which has no allocator hook.
 *
 Every table, new table key and string fengari makes is charged, through the hooks of
 * `fengari_internals/allocations.ts` (which knows where fengari allocates).
 *
 * Charges are estimates, and they count allocation, not what stays alive. Like a collector's
 * debt they only decide when to look: once the charges since the last look pass the headroom
 * left under the budget, the VM's reachable graph is walked from its registry, main thread and
 * type metatables ({@link measureLuaHeap}). Only a walk that finds more than the budget live stops
 * the entry, so short-lived garbage never does, and walks cost time in proportion to what was
 * allocated since the last one.
 *
 * `..` allocates its whole result before anything above sees it, and one instruction may join up
 * to 255 operands of 16 MiB; {@link installMemoryBudget} therefore also checks a concatenation's
 * total before it is made, from the instruction being run, whenever one operand is large
 * (`fengari_internals/operands.ts`). When fengari's layout does not match, an error is logged
 * and the VM runs without a budget.
 *
 * @module
 */
import { createLogger } from "../log.ts";
import { lua, type LuaState, toLua } from "./fengari.ts";
import {
  hookAllocations,
  reachableObjects,
  runsProtected,
  stateGlobal,
} from "./fengari_internals/allocations.ts";
import { concatTotal, watchLargeOperands } from "./fengari_internals/operands.ts";
import { noteNativeError } from "./guard.ts";
import { extendLazyGlobal } from "./lazy_globals.ts";
import type { LuaVm } from "./vm.ts";
import { mergeOptions } from "../options.ts";

/** Options of {@link installMemoryBudget}. */
export interface MemoryBudgetOptions {
  /** Bytes of live Lua data the VM may hold. */
  maxBytes: number;
  /** Least charge between two walks, so a VM close to its budget is not walked constantly. */
  minWalkInterval: number;
}

/** The default options of {@link installMemoryBudget}: 64 MiB. */
export const DEFAULT_MEMORY_BUDGET: MemoryBudgetOptions = {
  maxBytes: 64 * 1024 * 1024,
  minWalkInterval: 1024 * 1024,
};

/** The message of the Lua error raised when the budget is exceeded. */
export const MEMORY_MESSAGE = "memory budget exhausted";

/** The state of one VM's memory budget. */
export interface MemoryMeter {
  /** The budget, in bytes. */
  readonly maxBytes: number;
  /** Live bytes found by the last walk. */
  readonly liveBytes: number;
  /** Bytes charged since the last walk. */
  readonly charged: number;
  /** Walks done so far, and their total time in milliseconds. */
  readonly walks: { count: number; ms: number };
  /** True once a walk found more than the budget live; every later charge raises again. */
  readonly exceeded: boolean;
  /**
   * Walks the heap now; clears {@link exceeded} when the live size is back under the budget
   * (the entry that overran has been dropped, or the app released what it held). Returns the
   * live size.
   */
  settle(): number;
}

/** Estimated bytes of fengari's objects (V8, 64-bit, measured with `heapUsed`). */
export const OBJECT_BYTES = {
  table: 160,
  entry: 120,
  string: 80,
  closure: 64,
  upvalue: 40,
  slot: 24,
  instruction: 48,
};

/** Operand size from which a `..` is checked before it runs. */
const LARGE_OPERAND = 256 * 1024;

interface Meter extends MemoryMeter {
  maxBytes: number;
  liveBytes: number;
  charged: number;
  exceeded: boolean;
  /** Charges above which the next walk happens. */
  walkAt: number;
  L: LuaState;
  /** Coroutines of this VM, for the concatenation check. */
  threads: WeakRef<LuaState>[];
}

type Tagged = { [METER]?: Meter };
const METER = Symbol("memoryMeter");
const meters: WeakRef<Meter>[] = [];

/**
 * Puts a VM under a memory budget (before the sandbox opens, so that its tables are charged;
 * then {@link trackCoroutines}); the VM's `pcall` then reports `lua-memory` when the budget stops an
 * entry.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { installMemoryBudget } from "./memory_budget.ts";
 * const vm = new LuaVm();
 * const meter = installMemoryBudget(vm, { maxBytes: 16 * 1024 * 1024 });
 * vm.beginEntry();
 * const result = vm.evaluate("local t = {} for i = 1, 1e7 do t[i] = i end");
 * // result.ok === false, result.failure.code === "lua-memory", meter.exceeded === true
 * ```
 */
export function installMemoryBudget(
  vm: LuaVm,
  options: Partial<MemoryBudgetOptions> = {},
): MemoryMeter {
  // An option given as `undefined` keeps its default: a plain spread would make the budget
  // NaN, and every allocation a walk of the whole heap.
  const settings = mergeOptions(DEFAULT_MEMORY_BUDGET, options);
  patchFengari();
  const meter: Meter = {
    maxBytes: settings.maxBytes,
    liveBytes: 0,
    charged: 0,
    exceeded: false,
    walkAt: 0,
    walks: { count: 0, ms: 0 },
    L: vm.L,
    threads: [],
    settle() {
      meter.liveBytes = walk(meter);
      meter.exceeded = meter.liveBytes > meter.maxBytes;
      // As a collector paces itself: the next walk waits for at least half the live size in new
      // charges, so walking costs a bounded share of the work; the price is that a VM may pass
      // its budget by up to half before it is stopped.
      meter.walkAt = Math.max(
        settings.minWalkInterval,
        meter.maxBytes - meter.liveBytes,
        meter.liveBytes / 2,
      );
      return meter.liveBytes;
    },
  };
  (stateGlobal(vm.L) as Tagged)[METER] = meter;
  meters.push(new WeakRef(meter));
  meter.settle();
  vm.setMemoryCheck(() => meter.exceeded);
  return meter;
}

/**
 * Registers the coroutines a VM's `coroutine.create` and `coroutine.wrap` make, so that a large
 * `..` run inside one is checked before it allocates. Call it after the sandbox is open.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { openSandbox } from "./sandbox.ts";
 * import { installMemoryBudget, trackCoroutines } from "./memory_budget.ts";
 * const vm = new LuaVm();
 * installMemoryBudget(vm);
 * openSandbox(vm);
 * trackCoroutines(vm);
 * ```
 */
export function trackCoroutines(vm: LuaVm): void {
  // The sandbox makes `coroutine` when it is first read: wrap it then.
  if (!extendLazyGlobal(vm, "coroutine", wrapCoroutineMakers)) wrapCoroutineMakers(vm.L);
}

function wrapCoroutineMakers(L: LuaState): void {
  lua.lua_getglobal(L, toLua("coroutine"));
  for (const name of ["create", "wrap"]) {
    lua.lua_getfield(L, -1, toLua(name));
    lua.lua_pushcclosure(
      L,
      (L) => {
        const n = lua.lua_gettop(L);
        lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
        lua.lua_insert(L, 1);
        lua.lua_call(L, n, 1);
        // create returns the thread; wrap returns a function holding it as its upvalue.
        if (lua.lua_type(L, -1) === lua.LUA_TFUNCTION) lua.lua_getupvalue(L, -1, 1);
        else lua.lua_pushvalue(L, -1);
        const thread = lua.lua_tothread(L, -1);
        lua.lua_pop(L, 1);
        if (thread) trackThread(L, thread);
        return 1;
      },
      1,
    );
    lua.lua_setfield(L, -2, toLua(name));
  }
  lua.lua_pop(L, 1);
}

/**
 * Registers a coroutine the server itself made on a VM (a time-sliced entry), so that a large
 * `..` run inside it is checked before it allocates, as in the app's own coroutines.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { lua } from "./fengari.ts";
 * import { installMemoryBudget, trackThread } from "./memory_budget.ts";
 * const vm = new LuaVm();
 * installMemoryBudget(vm);
 * trackThread(vm.L, lua.lua_newthread(vm.L));
 * ```
 */
export function trackThread(L: LuaState, thread: LuaState): void {
  const meter = (stateGlobal(L) as Tagged)[METER];
  if (!meter) return;
  if (meter.threads.length > 64) meter.threads = meter.threads.filter((ref) => ref.deref());
  meter.threads.push(new WeakRef(thread));
}

/**
 * Marks the budget exceeded and raises a Lua error, but only where Lua runs protected: the
 * server's own pushes (marshalling a value for an over-budget session) must not throw. Elsewhere
 * the count hook raises within the next interval.
 */
function raise(meter: Meter, L: LuaState | undefined): void {
  meter.exceeded = true;
  if (!runsProtected(L)) return;
  noteNativeError(MEMORY_MESSAGE);
  throw new RangeError(MEMORY_MESSAGE);
}

/** Adds a charge; walks when the charges pass the headroom, and raises if the walk says so. */
function charge(meter: Meter, bytes: number, L?: LuaState): void {
  if (meter.exceeded) return raise(meter, L);
  meter.charged += bytes;
  if (meter.charged < meter.walkAt) return;
  meter.charged = 0;
  meter.settle();
  if (meter.exceeded) raise(meter, L);
}

let patched = false;

function patchFengari(): void {
  if (patched) return;
  patched = true;
  const hooked = hookAllocations({
    table(L, table) {
      const meter = (stateGlobal(L) as Tagged)[METER];
      if (meter) {
        (table as Tagged)[METER] = meter;
        charge(meter, OBJECT_BYTES.table, L);
      }
    },
    entry(table, L) {
      const meter = (table as Tagged)[METER];
      if (meter) charge(meter, OBJECT_BYTES.entry, L);
    },
    string(L, bytes) {
      const meter = (stateGlobal(L) as Tagged)[METER];
      if (meter) charge(meter, OBJECT_BYTES.string + bytes, L);
    },
  });
  // The value cell's `vslen` measures each operand of `..` before the result is allocated. For
  // a large operand, the thread running that `..` over that very cell gives the operands' total.
  const watched = hooked && watchLargeOperands(LARGE_OPERAND, checkConcat);
  if (!watched) {
    createLogger({ level: "error" }).error(
      "The memory budget is off (fengari internals changed): sessions may use any memory",
    );
  }
}

function checkConcat(operand: object): void {
  for (let i = meters.length - 1; i >= 0; i--) {
    const meter = meters[i]?.deref();
    if (!meter) {
      meters.splice(i, 1);
      continue;
    }
    for (const thread of [meter.L, ...meter.threads.map((ref) => ref.deref())]) {
      const total = thread ? concatTotal(thread, operand) : undefined;
      if (total === undefined) continue;
      // The result is charged once made; refusing it here keeps it from being made at all.
      if (meter.liveBytes + total > meter.maxBytes) {
        meter.exceeded = true;
        noteNativeError(MEMORY_MESSAGE);
        throw new RangeError(MEMORY_MESSAGE);
      }
      return;
    }
  }
}

/**
 * Estimates the bytes reachable from a VM's registry, main thread and type metatables: tables,
 * strings, closures and their prototypes, userdata and coroutines, each counted once.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { measureLuaHeap } from "./memory_budget.ts";
 * measureLuaHeap(new LuaVm().L); // a few kilobytes
 * ```
 */
export function measureLuaHeap(L: LuaState): number {
  return walk({ L } as Meter);
}

function walk(meter: Meter): number {
  const started = performance.now();
  const bytes = reachableObjects(meter.L, OBJECT_BYTES);
  if (meter.walks) {
    meter.walks.count++;
    meter.walks.ms += performance.now() - started;
  }
  return bytes;
}
