/**
 * Durations as Go writes them (`1h30m`, `90s`, `500ms`, `1.5h`), the form ui-engine's
 * `--session-timeout` takes, so its command lines work here unchanged.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Milliseconds of a duration: one or more `NUMBER UNIT` parts (`ns`, `us`, `ms`, `s`, `m`, `h`)
 * or a bare number of seconds; `undefined` when the text is not one. A non-zero duration shorter
 * than a millisecond counts as 1 ms, so that it never reads as `0`.
 *
 * @example
 * ```ts
 * import { parseGoDuration } from "./duration.ts";
 * parseGoDuration("1h30m"); // 5400000
 * parseGoDuration("90"); // 90000
 * parseGoDuration("5d"); // undefined
 * ```
 */
export function parseGoDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  if (!/^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(amount) * (UNITS[unit as string] as number);
  }
  if (!Number.isFinite(total)) return undefined;
  return total > 0 && total < 1 ? 1 : Math.round(total);
}

/**
 * A duration in the largest unit that divides it (`15m`, `90s`, `1500ms`); `0` as is.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * formatDuration(900_000); // "15m"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
