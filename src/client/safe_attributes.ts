/**
 * Safe `ui-attr-*` bindings: a value from Lua must never become script. Event-handler
 * attributes (`on*`, any case) and `srcdoc` are refused outright; URL attributes refuse
 * `javascript:`, `vbscript:` and `data:text/html` URLs, checked the way browsers parse them
 * (tabs and newlines anywhere and leading control characters or spaces ignored, any case), as
 * React and Angular do. `ui-html` is the escape hatch for markup the app trusts.
 *
 * @module
 */

/** Attributes whose value is a URL the browser may load or navigate to. */
const URL_ATTRIBUTES = new Set([
  "href",
  "src",
  "action",
  "formaction",
  "xlink:href",
  "poster",
  "background",
  "cite",
  "codebase",
  "data",
  "longdesc",
  "manifest",
  "ping",
  "profile",
  "usemap",
  "srcset",
  "imagesrcset",
]);

/** SVG animation attributes that can set an `href` to any value. */
const ANIMATION_VALUES = new Set(["to", "from", "values", "by"]);
const ANIMATION_TAGS = new Set(["animate", "set"]);

/** Attributes whose value is a document of its own. */
const DOCUMENT_ATTRIBUTES = new Set(["srcdoc"]);

/**
 * Why an attribute may never be bound, or undefined when it may be (its values are checked by
 * {@link unsafeValue}).
 *
 * @example
 * ```ts
 * import { refusedAttribute } from "./safe_attributes.ts";
 * refusedAttribute("onMouseOver"); // "event-handler attributes cannot be bound"
 * refusedAttribute("title"); // undefined
 * ```
 */
export function refusedAttribute(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower.startsWith("on")) return "event-handler attributes cannot be bound";
  if (DOCUMENT_ATTRIBUTES.has(lower)) return `${lower} cannot be bound (use ui-html)`;
  return undefined;
}

/**
 * True when a value for attribute `name` of `element` is a script URL that must not be set.
 *
 * @example
 * ```ts
 * import { unsafeValue } from "./safe_attributes.ts";
 * unsafeValue("a", "href", " JaVa\tScript:alert(1)"); // true
 * unsafeValue("a", "href", "https://example.com/"); // false
 * ```
 */
export function unsafeValue(tagName: string, name: string, value: string): boolean {
  const lower = name.toLowerCase();
  const isUrl = URL_ATTRIBUTES.has(lower) ||
    (ANIMATION_VALUES.has(lower) && ANIMATION_TAGS.has(tagName.toLowerCase()));
  if (!isUrl) return false;
  if (lower === "srcset" || lower === "imagesrcset" || lower === "values") {
    return value.split(/[,;]/).some((part) => isScriptUrl(part));
  }
  return isScriptUrl(value);
}

/**
 * True for a `javascript:`, `vbscript:` or `data:text/html` URL, as the browser's URL parser
 * sees it: tabs and newlines are dropped anywhere, leading C0 controls and spaces ignored.
 *
 * @example
 * ```ts
 * import { isScriptUrl } from "./safe_attributes.ts";
 * isScriptUrl("\u0001 java\nscript:alert(1)"); // true
 * isScriptUrl("/contacts/javascript:1"); // false
 * ```
 */
export function isScriptUrl(value: string): boolean {
  // deno-lint-ignore no-control-regex
  const url = value.replace(/[\t\n\r]/g, "").replace(/^[\u0000-\u0020]+/, "").toLowerCase();
  return url.startsWith("javascript:") || url.startsWith("vbscript:") ||
    /^data:\s*text\/html/.test(url);
}
