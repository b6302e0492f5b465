/**
 * What a value the client sends costs the server to hold, estimated from its parsed JSON as the
 * Lua VM (fengari) holds it: every value, array element and object entry counts
 * {@link NODE_BYTES}, every array or object {@link TABLE_BYTES} more, and every string (keys
 * included) {@link STRING_BYTES} plus its length. Measured on fengari: 173 bytes per number in
 * an array, about 410 per short string, about 1,000 per small object; the estimate stays within
 * a small factor of that, and it is computed without building anything.
 *
 * @module
 */

/** What one value, element or entry is counted as. */
export const NODE_BYTES = 160;
/** What an array or object counts on top of its node. */
export const TABLE_BYTES = 600;
/** What a string counts on top of its length. */
export const STRING_BYTES = 240;

/**
 * The estimated bytes of a parsed JSON value. The walk is iterative and stops once the count
 * passes `stopAbove` (the answer is then just past it), so a value far over a budget costs no
 * more to refuse than the budget; an array too long for it is refused from its length alone.
 *
 * @example
 * ```ts
 * import { clientValueBytes } from "./value_cost.ts";
 * clientValueBytes([0, 0, 0]); // 1240: the array (160 + 600) and three numbers (160 each)
 * clientValueBytes("hello"); // 405
 * ```
 */
export function clientValueBytes(json: unknown, stopAbove = Infinity): number {
  let total = 0;
  const stack: unknown[] = [json];
  while (stack.length > 0 && total <= stopAbove) {
    const value = stack.pop();
    total += NODE_BYTES;
    if (typeof value === "string") {
      total += STRING_BYTES + value.length;
    } else if (Array.isArray(value)) {
      total += TABLE_BYTES;
      // Each element counts at least a node: an array too long for what is left is refused
      // from its length alone, without copying its elements onto the stack.
      if (total + value.length * NODE_BYTES > stopAbove) return stopAbove + 1;
      for (const element of value) stack.push(element);
    } else if (value !== null && typeof value === "object") {
      total += TABLE_BYTES;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        total += STRING_BYTES + key.length;
        if (total > stopAbove) return total;
        stack.push((value as Record<string, unknown>)[key]);
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
 * propertyBytes({ path: "name" }); // 168
 * ```
 */
export function propertyBytes(properties: Record<string, string>): number {
  let total = 0;
  for (const [name, value] of Object.entries(properties)) {
    total += NODE_BYTES + name.length + value.length;
  }
  return total;
}
