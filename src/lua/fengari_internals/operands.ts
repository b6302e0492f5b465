/**
 * Hooks on the measuring of string operands. fengari joins strings (`..`) as one VM
 * instruction, out of the count hook's sight, and measures each operand through its cell's
 * `vslen` (shared by every state) before the result is allocated; wrapping that method lets the
 * server refuse an operand past a size ({@link capStringOperands}) and check a large
 * concatenation's total before it is made ({@link watchLargeOperands}, {@link concatTotal}).
 * Checked once, on first use ({@link operandHooksOn}); off, neither is installed.
 *
 * @module
 */
import { lauxlib, lua, type LuaState, toLua } from "../fengari.ts";

/** A state, as far as used here: its stack of cells. */
interface State {
  readonly ci?: CallInfo | null;
  readonly stack: ({ type: number; value: unknown } | undefined)[];
  readonly top: number;
}

/** A call's frame, as far as used here. */
interface CallInfo {
  readonly l_base: number;
  readonly l_code: { opcode: number; B: number; C: number }[] | null;
  readonly l_savedpc: number;
}

/** The cell on top of a state's stack. */
function topCell(L: LuaState): object | undefined {
  const state = L as unknown as State;
  return state.stack[state.top - 1];
}

const CAPPED = Symbol("capped");

/**
 * Makes fengari refuse string operands longer than `maxBytes` (in `..`, `#` and number
 * conversions) by throwing `RangeError("string too large")` after `onRefuse`. Installed once per
 * process; returns false when the cell layout is not the expected one.
 *
 * @example
 * ```ts
 * import { capStringOperands } from "./operands.ts";
 * capStringOperands(16 * 1024 * 1024, () => {});
 * ```
 */
export function capStringOperands(maxBytes: number, onRefuse: (message: string) => void): boolean {
  if (!operandHooksOn()) return false;
  const L = lauxlib.luaL_newstate();
  lua.lua_pushstring(L, toLua(""));
  const cell = topCell(L);
  if (cell === undefined) return false;
  const proto = Object.getPrototypeOf(cell) as { vslen?: () => number; [CAPPED]?: boolean };
  const original = proto.vslen;
  if (proto[CAPPED]) return true;
  if (typeof original !== "function") return false;
  proto.vslen = function (this: unknown) {
    const length = original.call(this);
    if (length > maxBytes) {
      onRefuse("string too large");
      throw new RangeError("string too large");
    }
    return length;
  };
  proto[CAPPED] = true;
  return true;
}

type Measured = { vslen?: (this: object) => number };

/** The prototype of fengari's value cells, where `vslen` lives, or `undefined` if it is not. */
function cellPrototype(): Measured | undefined {
  try {
    const L = lauxlib.luaL_newstate();
    lua.lua_pushstring(L, toLua("four"));
    const cell = topCell(L);
    const proto = cell === undefined ? undefined : Object.getPrototypeOf(cell) as Measured;
    return typeof proto?.vslen === "function" && proto.vslen.call(cell as object) === 4
      ? proto
      : undefined;
  } catch {
    return undefined;
  }
}

// Checked on first use rather than at load (a scratch state a cold start need not make).
let hooksOn: boolean | undefined;

/**
 * Calls `onLarge` with each string operand cell of `minBytes` or more, as fengari measures it
 * (before a `..` allocates its result); `onLarge` may throw to refuse it. Returns false when
 * the layout does not match.
 *
 * @example
 * ```ts
 * import { watchLargeOperands } from "./operands.ts";
 * watchLargeOperands(256 * 1024, () => {});
 * ```
 */
export function watchLargeOperands(minBytes: number, onLarge: (operand: object) => void): boolean {
  const proto = operandHooksOn() ? cellPrototype() : undefined;
  if (!proto?.vslen) return false;
  const vslen = proto.vslen;
  proto.vslen = function (this: object) {
    const length = vslen.call(this);
    if (length >= minBytes) onLarge(this);
    return length;
  };
  return true;
}

/** fengari's opcode of `..`. */
const OP_CONCAT = 29;
/** Bytes counted for an operand that is not a string (a number being converted). */
const OTHER_OPERAND = 24;

/**
 * The total bytes of the `..` a thread is running, if `operand` is one of its operands;
 * `undefined` otherwise.
 *
 * @example
 * ```ts
 * import { concatTotal } from "./operands.ts";
 * import { lauxlib } from "../fengari.ts";
 * concatTotal(lauxlib.luaL_newstate(), {}); // undefined: nothing runs
 * ```
 */
export function concatTotal(thread: LuaState, operand: object): number | undefined {
  const state = thread as unknown as State;
  const ci = state.ci;
  if (!ci?.l_code) return undefined;
  const instruction = ci.l_code[ci.l_savedpc - 1];
  if (instruction?.opcode !== OP_CONCAT) return undefined;
  const first = ci.l_base + instruction.B;
  const last = ci.l_base + instruction.C;
  let found = false;
  let total = 0;
  for (let i = first; i <= last; i++) {
    const cell = state.stack[i];
    if (cell === operand) found = true;
    if (cell && (cell.type & 0x0f) === lua.LUA_TSTRING) {
      total += (cell.value as { realstring: Uint8Array }).realstring.length;
    } else total += OTHER_OPERAND;
  }
  return found ? total : undefined;
}

/**
 * Whether string operands can be measured through fengari's cells (the string cap and the
 * concatenation check are possible).
 *
 * @example
 * ```ts
 * import { operandHooksOn } from "./operands.ts";
 * operandHooksOn(); // true with fengari 0.1.5
 * ```
 */
export function operandHooksOn(): boolean {
  return hooksOn ??= cellPrototype() !== undefined;
}
