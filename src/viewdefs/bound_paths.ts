/**
 * The paths a type's templates bind: every `ui-*` binding attribute of the viewdefs `TYPE.*`,
 * read with a small HTML scanner (no DOM). The server lets a client create only variables whose
 * path a template binds (template-only paths, see `src/session/path_policy.ts`).
 *
 * The scanner reads what a browser would parse as start tags: comments and the text of
 * `<script>`, `<style>`, `<textarea>` and `<title>` are skipped, attribute values may be quoted
 * or not, names are case-insensitive and character references in values are decoded.
 *
 * @module
 */
import { MARKER_ATTRIBUTES } from "../client/markers.ts";

/**
 * What a binding does with its variable, which decides the access the client may ask for:
 * `value` (`ui-value`: shows, and on a form field edits), `action` (`ui-action`, `ui-event-*`),
 * `display` (`ui-attr-*`, `ui-class-*`, `ui-style-*`, `ui-html`, `ui-code`: only shows) and
 * `view` (`ui-view`, `ui-viewlist`: only shows).
 *
 * @example
 * ```ts
 * import type { BindingKind } from "./bound_paths.ts";
 * const kind: BindingKind = "action";
 * ```
 */
export type BindingKind = "value" | "action" | "display" | "view";

/** One binding attribute of a template. */
export interface BoundPath {
  /** The attribute, lowercased: `ui-value`, `ui-event-click`, ... */
  attribute: string;
  kind: BindingKind;
  /** The path without its query, trimmed. */
  path: string;
  /** The query's properties (`flag` alone means `"true"`). */
  properties: Record<string, string>;
  /** The element's name, lowercased. */
  tag: string;
  /** `ui-item-wrapper` of a `ui-viewlist` element. */
  itemWrapper?: string;
}

/** Attributes that start with `ui-` but bind nothing (as the built-in client reads them). */
const NOT_BINDINGS = new Set(MARKER_ATTRIBUTES);

/** Elements whose content is text, not markup. */
const RAW_TEXT = new Set(["script", "style", "textarea", "title"]);

const TAG_NAME = /[a-zA-Z][^\s/>]*/y;
const ATTRIBUTE_NAME = /[^\s"'>/=]+/y;
const UNQUOTED_VALUE = /[^\s>]*/y;
const SPACE = /[\s/]*/y;

/**
 * Every binding attribute in one template's HTML.
 *
 * @example
 * ```ts
 * import { scanBindings } from "./bound_paths.ts";
 * const [binding] = scanBindings(`<template><input ui-value="name?keypress"></template>`);
 * // binding: { attribute: "ui-value", kind: "value", path: "name",
 * //            properties: { keypress: "true" }, tag: "input" }
 * ```
 */
export function scanBindings(html: string): BoundPath[] {
  const found: BoundPath[] = [];
  let at = 0;
  while (at < html.length) {
    const open = html.indexOf("<", at);
    if (open < 0) break;
    if (html.startsWith("<!--", open)) {
      const end = html.indexOf("-->", open + 4);
      at = end < 0 ? html.length : end + 3;
      continue;
    }
    TAG_NAME.lastIndex = open + 1;
    const name = TAG_NAME.exec(html);
    if (!name) {
      at = open + 1; // a closing tag, a doctype or a bare '<' in text
      continue;
    }
    const tag = name[0].toLowerCase();
    const { attributes, end } = readAttributes(html, TAG_NAME.lastIndex);
    found.push(...bindingsOf(tag, attributes));
    at = end;
    if (RAW_TEXT.has(tag)) {
      const close = html.toLowerCase().indexOf(`</${tag}`, at);
      at = close < 0 ? html.length : close;
    }
  }
  return found;
}

/** Reads a start tag's attributes from `at` up to its `>`; returns them and where it ended. */
function readAttributes(
  html: string,
  at: number,
): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>();
  let position = at;
  while (position < html.length) {
    SPACE.lastIndex = position;
    SPACE.exec(html);
    position = SPACE.lastIndex;
    if (position >= html.length) break;
    if (html[position] === ">") return { attributes, end: position + 1 };
    ATTRIBUTE_NAME.lastIndex = position;
    const name = ATTRIBUTE_NAME.exec(html);
    if (!name) {
      position++; // a stray quote or '=': skip it, as a browser would
      continue;
    }
    position = ATTRIBUTE_NAME.lastIndex;
    let value = "";
    const afterName = skipSpace(html, position);
    if (html[afterName] === "=") {
      position = skipSpace(html, afterName + 1);
      const quote = html[position];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, position + 1);
        const stop = close < 0 ? html.length : close;
        value = html.slice(position + 1, stop);
        position = stop + 1;
      } else {
        UNQUOTED_VALUE.lastIndex = position;
        value = UNQUOTED_VALUE.exec(html)?.[0] ?? "";
        position = UNQUOTED_VALUE.lastIndex;
      }
    }
    const key = name[0].toLowerCase();
    // The first of duplicate attributes wins, as in a browser.
    if (!attributes.has(key)) attributes.set(key, decodeReferences(value));
  }
  return { attributes, end: html.length };
}

function skipSpace(html: string, at: number): number {
  let position = at;
  while (position < html.length && /\s/.test(html[position] as string)) position++;
  return position;
}

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

/** Decodes `&amp;`, `&#38;`, `&#x26;` and the other common references in an attribute value. */
function decodeReferences(value: string): string {
  if (!value.includes("&")) return value;
  return value.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith("#")) {
      const code = body[1] === "x" || body[1] === "X"
        ? parseInt(body.slice(2), 16)
        : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[body.toLowerCase()] ?? whole;
  });
}

function bindingsOf(tag: string, attributes: Map<string, string>): BoundPath[] {
  const found: BoundPath[] = [];
  for (const [attribute, text] of attributes) {
    const kind = kindOf(attribute, attributes);
    if (!kind) continue;
    const { path, properties } = splitQuery(text);
    const binding: BoundPath = { attribute, kind, path, properties, tag };
    const itemWrapper = attributes.get("ui-item-wrapper");
    if (attribute === "ui-viewlist" && itemWrapper) binding.itemWrapper = itemWrapper;
    found.push(binding);
  }
  return found;
}

function kindOf(attribute: string, attributes: Map<string, string>): BindingKind | undefined {
  if (!attribute.startsWith("ui-") || NOT_BINDINGS.has(attribute)) return undefined;
  if (attribute === "ui-value") return "value";
  if (attribute === "ui-view" || attribute === "ui-viewlist") return "view";
  if (attribute === "ui-action") return "action";
  if (attribute.startsWith("ui-event-")) {
    // `ui-event-X-value` is the fixed value of `ui-event-X`, not a binding of its own.
    if (attribute.endsWith("-value") && attributes.has(attribute.slice(0, -6))) return undefined;
    return "action";
  }
  if (/^ui-(attr|class|style)-./.test(attribute)) return "display";
  if (attribute === "ui-html" || attribute === "ui-code") return "display";
  return undefined;
}

/** `path?k=v&flag` as the clients split it: a bare or empty value means `"true"`. */
function splitQuery(text: string): { path: string; properties: Record<string, string> } {
  const trimmed = text.trim();
  const at = trimmed.indexOf("?");
  if (at < 0) return { path: trimmed, properties: {} };
  const properties: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(trimmed.slice(at + 1))) {
    properties[name] = value === "" ? "true" : value;
  }
  return { path: trimmed.slice(0, at), properties };
}

/**
 * The bindings of one type's templates (all its namespaces), by path.
 *
 * @example
 * ```ts
 * import { TypeBindings } from "./bound_paths.ts";
 * const bindings = new TypeBindings([`<template><b ui-value="name"></b></template>`]);
 * bindings.forPath("name").length; // 1
 * bindings.forPath("summary").length; // 0
 * ```
 */
export class TypeBindings {
  readonly #byPath = new Map<string, BoundPath[]>();

  /** Scans the templates of one type. */
  constructor(templates: Iterable<string>) {
    for (const template of templates) {
      for (const binding of scanBindings(template)) {
        const list = this.#byPath.get(binding.path) ?? [];
        list.push(binding);
        this.#byPath.set(binding.path, list);
      }
    }
  }

  /** The bindings of a path (without its query); empty when no template binds it. */
  forPath(path: string): readonly BoundPath[] {
    return this.#byPath.get(path) ?? [];
  }

  /** Every bound path. */
  paths(): string[] {
    return [...this.#byPath.keys()];
  }
}

/**
 * The `ui-item-wrapper` values of a set of templates: the wrappers a list item may ask for.
 *
 * @example
 * ```ts
 * import { itemWrappersOf } from "./bound_paths.ts";
 * itemWrappersOf([`<ul ui-viewlist="rows" ui-item-wrapper="Row"><li></li></ul>`]); // Set {"Row"}
 * ```
 */
export function itemWrappersOf(templates: Iterable<string>): Set<string> {
  const wrappers = new Set<string>();
  for (const template of templates) {
    for (const binding of scanBindings(template)) {
      if (binding.itemWrapper) wrappers.add(binding.itemWrapper);
    }
  }
  return wrappers;
}
