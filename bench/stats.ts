/**
 * Small statistics helpers shared by the benchmark processes.
 *
 * @module
 */

/** Percentiles and mean of a set of samples, in the samples' unit. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * The `p`-th percentile (0..100) of ascending samples, nearest rank.
 *
 * @example
 * ```ts
 * import { percentile } from "./stats.ts";
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/**
 * Summarises samples (they need not be sorted).
 *
 * @example
 * ```ts
 * import { summarize } from "./stats.ts";
 * summarize([3, 1, 2]).p50; // 2
 * ```
 */
export function summarize(samples: readonly number[]): Summary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const sample of sorted) total += sample;
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length ? total / sorted.length : NaN,
    min: sorted.length ? sorted[0] as number : NaN,
    max: sorted.length ? sorted[sorted.length - 1] as number : NaN,
  };
}

/**
 * The median of samples.
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * median([5, 1, 3]); // 3
 * ```
 */
export function median(samples: readonly number[]): number {
  return summarize(samples).p50;
}

/**
 * Forces a full garbage collection when the process runs with `--v8-flags=--expose-gc`, and lets
 * finalizers run; returns false when no collector is exposed.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./stats.ts";
 * await collectGarbage();
 * ```
 */
export async function collectGarbage(): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** Heap and resident memory in bytes. */
export interface MemorySample {
  heapUsed: number;
  rss: number;
}

/**
 * Memory after a forced collection.
 *
 * @example
 * ```ts
 * import { memoryAfterGc } from "./stats.ts";
 * const { heapUsed, rss } = await memoryAfterGc();
 * ```
 */
export async function memoryAfterGc(): Promise<MemorySample> {
  await collectGarbage();
  const usage = Deno.memoryUsage();
  return { heapUsed: usage.heapUsed, rss: usage.rss };
}
