/**
 * Options objects merged over defaults, Hono's way, with one difference from a plain spread: an
 * option given as `undefined` keeps its default instead of replacing it.
 *
 * @module
 */

/**
 * The defaults, with every option that is not `undefined` put over them.
 *
 * @example
 * ```ts
 * import { mergeOptions } from "./options.ts";
 * mergeOptions({ port: 8000, host: "localhost" }, { port: undefined, host: "0.0.0.0" });
 * // { port: 8000, host: "0.0.0.0" }
 * ```
 */
export function mergeOptions<T extends object>(defaults: T, options: Partial<T> = {}): T {
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}
