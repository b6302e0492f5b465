/**
 * What the variable layer needs from the world of live values its paths point into: read and
 * write a path, encode a value as value JSON with its `type`, turn a client's JSON into a value,
 * and make or dispose of a wrapper. The Lua VM is one such world (`src/lua/lua_world.ts`);
 * change detection and the backend know no other part of it, and tests use a plain one.
 *
 * Values are the world's own (`V`), with `null` standing for nil.
 *
 * @module
 */
import type { Result } from "../failure.ts";
import type { Path } from "./path.ts";
import type { Variable } from "./variable.ts";

/**
 * A world of live values.
 *
 * @example
 * ```ts
 * import type { ValueWorld } from "./value_world.ts";
 * // A world of plain JavaScript objects, as the change detection tests use.
 * type Plain = string | number | boolean | object;
 * function plainWorld(): Pick<ValueWorld<Plain>, "typeOf"> {
 *   return { typeOf: (value) => typeof value === "object" && value !== null && "type" in value ? String(value.type) : "" };
 * }
 * plainWorld().typeOf({ type: "Contact" }); // "Contact"
 * ```
 */
export interface ValueWorld<V> {
  /**
   * Starts one budgeted entry: each variable's refresh in change detection is one, so that a
   * runaway getter cannot spend the budget of the variables after it.
   */
  beginEntry(): void;
  /** Reads a path from a base value; a nil part way gives nil (SPEC 6). */
  read(base: V | null, path: Path): Result<V | null>;
  /**
   * Optional: {@link read} for a variable's path when it is quick and cannot fail, with nothing
   * allocated (change detection reads every variable after every batch); `undefined` when the
   * world cannot answer so, and the caller then uses {@link read}. It may keep what it likes
   * in `variable.readMemo`.
   */
  peek?(base: V | null, path: Path, variable: Variable<V>): V | null | undefined;
  /**
   * Writes a value through a path: assigns the last field or index, or calls the last method
   * (`callOnly`: with no argument, for an `action`). A nil part way is a `path-failure`.
   */
  write(base: V | null, path: Path, value: V | null, callOnly: boolean): Result<V | null>;
  /** The `type` of a value (SPEC 5), `""` when it is not an object. */
  typeOf(value: V | null): string;
  /**
   * Value JSON text (SPEC 7); `type` is passed when the caller knows it already. With `limit`,
   * text longer than `limit` is not built: a `FailureError` with code `too-large` is thrown.
   */
  encode(value: V | null, type?: string, limit?: number): string;
  /** A value from the client's JSON (`{"obj": N}` names an object shown before). */
  decode(json: unknown): V | null;
  /** A new instance of a presenter type (`create=NAME`). */
  instantiate(name: string): Result<V | null>;
  /** The wrapper for a variable whose value changed (may return the current one). */
  wrap(variable: Variable<V>, name: string): Result<V | null>;
  /** Runs a replaced or destroyed wrapper's `destroy`, if any. */
  dispose(variable: Variable<V>, wrapper: V): void;
  /** The value a wrapper shows on the wire (the wrapper itself unless it is a list). */
  wireValue(wrapper: V): V | null;
  /** The `type` a wrapper reports. */
  wrapperType(wrapper: V, name: string): string;
}
