/// <reference lib="dom" />
/**
 * Attribute values of bindings: a path (SPEC 6) with an optional URL query whose entries
 * become properties of the variable the binding creates (`flag` alone means `"true"`).
 *
 * @module
 */
import type { Properties } from "./protocol.ts";

/** A parsed attribute value. */
export interface BindingPath {
  /** The path without its query. */
  path: string;
  /** The query's entries. */
  properties: Properties;
}

/**
 * Splits `path?k=v&flag` into the path and its properties.
 *
 * @example
 * ```ts
 * import { parseBindingPath } from "./binding_path.ts";
 * parseBindingPath("search?keypress"); // { path: "search", properties: { keypress: "true" } }
 * ```
 */
export function parseBindingPath(text: string): BindingPath {
  const trimmed = text.trim();
  const at = trimmed.indexOf("?");
  if (at < 0) return { path: trimmed, properties: {} };
  const properties: Properties = {};
  for (const [name, value] of new URLSearchParams(trimmed.slice(at + 1))) {
    properties[name] = value === "" ? "true" : value;
  }
  return { path: trimmed.slice(0, at), properties };
}

/**
 * True when a path calls a method (`m()`), false otherwise.
 *
 * @example
 * ```ts
 * import { isGetterPath } from "./binding_path.ts";
 * isGetterPath("total()"); // true
 * ```
 */
export function isGetterPath(path: string): boolean {
  return path.endsWith("()");
}

/**
 * True when a path calls a method with the written value (`m(_)`).
 *
 * @example
 * ```ts
 * import { isSetterPath } from "./binding_path.ts";
 * isSetterPath("rename(_)"); // true
 * ```
 */
export function isSetterPath(path: string): boolean {
  return path.endsWith("(_)");
}
