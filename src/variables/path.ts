/**
 * Path syntax (SPEC 6): parsing a variable's `path` property into segments and the URL-query
 * properties it carries. Pure: resolution against live values belongs to the value world
 * (`value_world.ts`).
 *
 * @module
 */

/** A field name as UTF-8 bytes, shared by every path that names it (see `keyOf`). */
export type FieldKey = Uint8Array;

/**
 * One step of a path. `memo` is the value world's own cache for the step (opaque here): a path
 * belongs to one variable and is read again after every batch, from the same value most times.
 */
export type Segment =
  /** A field, read through metatables. */
  | { kind: "field"; name: string; key: FieldKey; memo: unknown }
  /** An array position: 0-based on the wire, `position` is the 1-based index. */
  | { kind: "index"; index: number; position: number; memo: unknown }
  /** A method call with `self`; `withValue` passes the written value too (`m(_)`). */
  | { kind: "call"; name: string; key: FieldKey; withValue: boolean; memo: unknown };

/** A parsed path. */
export interface Path {
  /** The path as written, without its query. */
  text: string;
  /** How many `..` steps lead it: each moves to the parent variable's navigation value. */
  up: number;
  segments: Segment[];
  /** Properties given as a trailing `?k=v&flag` (`flag` means `"true"`). */
  properties: Record<string, string>;
}

/**
 * A path that cannot be parsed.
 *
 * @example
 * ```ts
 * import { PathSyntaxError } from "./path.ts";
 * throw new PathSyntaxError("Empty path segment in 'a..b'");
 * ```
 */
export class PathSyntaxError extends Error {}

const CALL = /^([^().]+)\((_?)\)$/;
const INDEX = /^\d+$/;

/**
 * Parses a path such as `contacts.0.name`, `..`, `save()`, `rename(_)` or `items?wrapper=X`.
 * Leading `..` steps may be separated by `.` or `/` (`...name` is `..` then `name`).
 *
 * @example
 * ```ts
 * import { parsePath } from "./path.ts";
 * const path = parsePath("contacts.0.name?keypress");
 * // path.segments: field contacts, index 0 (position 1), field name
 * // path.properties: { keypress: "true" }
 * ```
 */
export function parsePath(input: string): Path {
  const queryAt = input.indexOf("?");
  const text = queryAt < 0 ? input : input.slice(0, queryAt);
  const properties = queryAt < 0 ? {} : parseQuery(input.slice(queryAt + 1));
  let rest = text;
  let up = 0;
  while (rest.startsWith("..")) {
    up++;
    rest = rest.slice(2);
    if (rest.startsWith(".") || rest.startsWith("/")) rest = rest.slice(1);
    else if (rest !== "") throw new PathSyntaxError(`Bad '..' step in path '${text}'`);
  }
  const segments: Segment[] = [];
  if (rest !== "") {
    const parts = rest.split(".");
    parts.forEach((part, i) => {
      if (part === "") throw new PathSyntaxError(`Empty segment in path '${text}'`);
      const call = CALL.exec(part);
      if (call) {
        const withValue = call[2] === "_";
        if (withValue && i !== parts.length - 1) {
          throw new PathSyntaxError(`Only the last segment may be '(_)' in path '${text}'`);
        }
        const name = call[1] as string;
        segments.push({ kind: "call", name, key: keyOf(name), withValue, memo: undefined });
      } else if (INDEX.test(part)) {
        const index = Number(part);
        if (!Number.isSafeInteger(index) || index > 0x7ffffffe) {
          throw new PathSyntaxError(`Index too large in path '${text}'`);
        }
        segments.push({ kind: "index", index, position: index + 1, memo: undefined });
      } else if (/[()]/.test(part)) {
        throw new PathSyntaxError(`Bad call segment '${part}' in path '${text}'`);
      } else {
        segments.push({ kind: "field", name: part, key: keyOf(part), memo: undefined });
      }
    });
  }
  return { text, up, segments, properties };
}

/** Most field names whose encoded key is shared (names past it get keys of their own). */
const MAX_SHARED_KEYS = 4096;
const sharedKeys = new Map<string, FieldKey>();
const encoder = new TextEncoder();

/**
 * The encoded key of a field name, shared by every path that names it: change detection then
 * meets a handful of keys instead of one per variable, which keeps its lookups in cache.
 * Keys are never modified.
 */
function keyOf(name: string): FieldKey {
  let key = sharedKeys.get(name);
  if (key === undefined) {
    key = encoder.encode(name);
    if (sharedKeys.size < MAX_SHARED_KEYS) sharedKeys.set(name, key);
  }
  return key;
}

/**
 * Parses a URL-style query `k=v&flag` into properties; a bare `flag` means `"true"`.
 *
 * @example
 * ```ts
 * import { parseQuery } from "./path.ts";
 * parseQuery("wrapper=lua.ViewList&keypress"); // { wrapper: "lua.ViewList", keypress: "true" }
 * ```
 */
export function parseQuery(query: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    const name = decode(at < 0 ? pair : pair.slice(0, at));
    properties[name] = at < 0 ? "true" : decode(pair.slice(at + 1));
  }
  return properties;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

/** The last segment of a path, if any. */
export function lastSegment(path: Path): Segment | undefined {
  return path.segments[path.segments.length - 1];
}
