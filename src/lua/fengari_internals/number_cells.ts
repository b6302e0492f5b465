/**
 * How fengari's value cells answer "is this an integer?" and "is this a float?", and its number
 * formatters (`lobject.luaO_tostring`, `luaO_pushvfstring`, `luaO_pushfstring`), all private to
 * fengari. `numbers.ts` decides what the answers are; this module knows where they live.
 *
 * @module
 */
import fengari from "./fengari_esm.js";
import { lauxlib, lua } from "../fengari.ts";

interface Cell {
  type: number;
  value: unknown;
}
interface CellMethods {
  ttisinteger(this: Cell): boolean;
  ttisfloat(this: Cell): boolean;
}
type Formatter = (...args: unknown[]) => unknown;
interface LObject {
  TValue: { prototype: CellMethods };
  luaO_tostring: Formatter;
  luaO_pushvfstring: Formatter;
  luaO_pushfstring: Formatter;
}

/** The answers a patched cell gives, from its type tag and value. */
export interface NumberCellRules {
  /** "Is this an integer?", given the tags and whether a number is being formatted. */
  isInteger(cell: Cell, tags: NumberTags, formatting: boolean): boolean;
  /** "Is this a float?", the same way. */
  isFloat(cell: Cell, tags: NumberTags, formatting: boolean): boolean;
}

/** The type tags fengari gives an integer and a float. */
export interface NumberTags {
  intTag: number;
  floatTag: number;
}

let installed = false;

/**
 * Replaces the cells' integer and float tests with `rules` and counts the formatters' calls as
 * "formatting". Returns the undo; throws with a description when fengari's layout differs.
 *
 * @example
 * ```ts ignore
 * import { patchNumberCells } from "./number_cells.ts";
 * const undo = patchNumberCells({ isInteger: () => false, isFloat: () => true });
 * undo();
 * ```
 */
export function patchNumberCells(rules: NumberCellRules): () => void {
  const lobject = fengari.lobject as Partial<LObject>;
  const proto = lobject.TValue?.prototype;
  for (const name of ["luaO_tostring", "luaO_pushvfstring", "luaO_pushfstring"] as const) {
    if (typeof lobject[name] !== "function") throw new Error(`lobject.${name} is missing`);
  }
  if (typeof proto?.ttisinteger !== "function" || typeof proto.ttisfloat !== "function") {
    throw new Error("TValue has no ttisinteger/ttisfloat");
  }
  const tags = numberTags();
  const original = {
    ttisinteger: proto.ttisinteger,
    ttisfloat: proto.ttisfloat,
    luaO_tostring: lobject.luaO_tostring as Formatter,
    luaO_pushvfstring: lobject.luaO_pushvfstring as Formatter,
    luaO_pushfstring: lobject.luaO_pushfstring as Formatter,
  };
  let formatting = 0;
  proto.ttisinteger = function () {
    return rules.isInteger(this, tags, formatting > 0);
  };
  proto.ttisfloat = function () {
    return rules.isFloat(this, tags, formatting > 0);
  };
  const asText = (fn: Formatter): Formatter => (...args) => {
    formatting++;
    try {
      return fn(...args);
    } finally {
      formatting--;
    }
  };
  lobject.luaO_tostring = asText(original.luaO_tostring);
  lobject.luaO_pushvfstring = asText(original.luaO_pushvfstring);
  lobject.luaO_pushfstring = asText(original.luaO_pushfstring);
  installed = true;
  return () => {
    installed = false;
    proto.ttisinteger = original.ttisinteger;
    proto.ttisfloat = original.ttisfloat;
    lobject.luaO_tostring = original.luaO_tostring;
    lobject.luaO_pushvfstring = original.luaO_pushvfstring;
    lobject.luaO_pushfstring = original.luaO_pushfstring;
  };
}

/** The type tags fengari gives an integer and a float, read from a live state. */
function numberTags(): NumberTags {
  const L = lauxlib.luaL_newstate();
  const cells = (L as unknown as { stack: Cell[] }).stack;
  lua.lua_pushinteger(L, 1);
  lua.lua_pushnumber(L, 1.5);
  const intTag = cells[1]?.type;
  const floatTag = cells[2]?.type;
  if (typeof intTag !== "number" || typeof floatTag !== "number" || intTag === floatTag) {
    throw new Error("cannot read the number type tags");
  }
  return { intTag, floatTag };
}

/**
 * Whether the number cells are patched now (exact numbers are on).
 *
 * @example
 * ```ts
 * import { numberCellsOn } from "./number_cells.ts";
 * numberCellsOn(); // true once useExactNumbers() succeeded
 * ```
 */
export function numberCellsOn(): boolean {
  return installed;
}
