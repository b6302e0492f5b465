/**
 * How one session runs its Lua work under its budgets (docs/budgets.md): each frame or task is
 * one budget (instructions and wall clock shared by its messages and the change detection
 * after them), its messages run time-sliced (`resumable.ts`) so that other sessions are served
 * between slices, and the session's memory budget is enforced: an entry past it stops with
 * `lua-memory`; a session that keeps passing it, or still holds more than it, is ended.
 *
 * @module
 */
import { type Failure, newFailure } from "../failure.ts";
import type { MemoryMeter } from "../lua/memory_budget.ts";
import { runResumable } from "../lua/resumable.ts";
import type { LuaVm } from "../lua/vm.ts";
import type { Outgoing } from "../protocol/outgoing.ts";
import { mergeOptions } from "../options.ts";

/** Options of {@link createEntryRunner}. */
export interface EntryRunnerOptions {
  vm: LuaVm;
  meter: MemoryMeter;
  /** Longest stretch Lua runs before other work is served, in milliseconds. */
  sliceMs: number;
  /** `lua-memory` stops within {@link offenceWindowMs} that end the session. */
  maxOffences: number;
  offenceWindowMs: number;
}

/** Longest wall-clock time of one frame or task, waits between slices included, in ms. */
export const ENTRY_WALL_CLOCK_MS = 5_000;

/** The default options of {@link createEntryRunner} (besides the VM and meter). */
export const DEFAULT_ENTRY_OPTIONS = { sliceMs: 4, maxOffences: 3, offenceWindowMs: 60_000 };

/** Runs a session's entries; see the module comment. */
export interface EntryRunner {
  /**
   * Before an entry: when the last one passed the memory budget, measures again; a session
   * still holding more than its budget gets the failure that ends it.
   */
  admit(): Failure | null;
  /**
   * Runs one frame or task: `steps` one after the other, each time-sliced (a step must be
   * repeatable, see `resumable.ts`), then `finish` (change detection, not sliceable), all under
   * one budget.
   */
  run<T>(steps: Iterable<() => void>, finish: () => T): Promise<T>;
  /** After an entry: counts its `lua-memory` stops; the failure that ends the session if too many. */
  review(out: Outgoing): Failure | null;
}

/**
 * Creates the entry runner of one session.
 *
 * @example
 * ```ts
 * import { LuaVm } from "../lua/vm.ts";
 * import { installMemoryBudget } from "../lua/memory_budget.ts";
 * import { createEntryRunner } from "./entry_runner.ts";
 * const vm = new LuaVm();
 * const meter = installMemoryBudget(vm, { maxBytes: 16 * 1024 * 1024 });
 * const runner = createEntryRunner({ vm, meter });
 * const value = await runner.run([() => vm.evaluate("x = 1")], () => 42); // 42
 * ```
 */
export function createEntryRunner(
  options: Pick<EntryRunnerOptions, "vm" | "meter"> & Partial<EntryRunnerOptions>,
): EntryRunner {
  const settings = {
    ...mergeOptions(DEFAULT_ENTRY_OPTIONS, options),
    vm: options.vm,
    meter: options.meter,
  };
  const { vm, meter } = settings;
  let offences: number[] = [];
  const budgetText = `${Math.round(meter.maxBytes / 1024 / 1024 * 10) / 10} MiB`;
  return {
    admit() {
      if (!meter.exceeded) return null;
      meter.settle();
      if (!meter.exceeded) return null;
      return newFailure(
        "lua-memory",
        `This session was ended: it holds more memory than its budget (${budgetText})`,
      );
    },
    async run(steps, finish) {
      vm.beginFrame();
      try {
        for (const step of steps) {
          await runResumable(vm, step, { sliceMs: settings.sliceMs });
        }
        return finish();
      } finally {
        vm.endFrame();
      }
    },
    review(out) {
      let stops = 0;
      for (const error of out.errors) if (error.code === "lua-memory") stops++;
      if (stops === 0) return null;
      const now = Date.now();
      offences = offences.filter((at) => now - at < settings.offenceWindowMs);
      for (let i = 0; i < stops; i++) offences.push(now);
      if (offences.length < settings.maxOffences) return null;
      return newFailure(
        "lua-memory",
        `This session was ended: its Lua code ran past its memory budget (${budgetText}) ` +
          `${offences.length} times within ${settings.offenceWindowMs / 1000} s`,
      );
    },
  };
}
