/**
 * What a value the client sends costs the server to hold, estimated from its parsed JSON: every
 * value, array element and object entry counts {@link NODE_BYTES}, and strings (keys included)
 * their length on top. Lua tables take about that much per slot, so the estimate follows real
 * memory within a small factor, and it is computed without building anything.
 *
 * @module
 */

/** What one value, element or entry is counted as. */
export const NODE_BYTES = 32;

/**
 * The estimated bytes of a parsed JSON value. The walk is iterative and stops once the count
 * passes `stopAbove`, so a value far over a budget costs no more to refuse than the budget.
 *
 * @example
 * ```ts
 * import { clientValueBytes } from "./value_cost.ts";
 * clientValueBytes([0, 0, 0]); // 128: the array and its three elements, 32 bytes each
 * clientValueBytes("hello"); // 37
 * ```
 */
export function clientValueBytes(json: unknown, stopAbove = Infinity): number {
  let total = 0;
  const stack: unknown[] = [json];
  while (stack.length > 0 && total <= stopAbove) {
    const value = stack.pop();
    total += NODE_BYTES;
    if (typeof value === "string") {
      total += value.length;
    } else if (Array.isArray(value)) {
      for (const element of value) stack.push(element);
    } else if (value !== null && typeof value === "object") {
      for (const [key, element] of Object.entries(value)) {
        total += key.length;
        stack.push(element);
      }
    }
  }
  return total;
}

/**
 * The estimated bytes of a set of properties: each counts {@link NODE_BYTES} plus the length of
 * its name and value.
 *
 * @example
 * ```ts
 * import { propertyBytes } from "./value_cost.ts";
 * propertyBytes({ path: "name" }); // 40
 * ```
 */
export function propertyBytes(properties: Record<string, string>): number {
  let total = 0;
  for (const [name, value] of Object.entries(properties)) {
    total += NODE_BYTES + name.length + value.length;
  }
  return total;
}
