/// <reference lib="dom" />
/**
 * Error marking: an element whose variable got an `error` from the server gets the class
 * `ui-error`, the description as its `title`, and `ui-error-code` / `ui-error-description`
 * attributes, until the variable's next update (or, for actions, the next try).
 *
 * @module
 */

const marked = new WeakMap<Element, { varId: number; title: string | null }>();

/**
 * Marks an element as failed for a variable.
 *
 * @example
 * ```ts
 * import { markError } from "./errors.ts";
 * markError(document.body, 5, "lua-error", "main.lua:3: boom");
 * document.body.classList.contains("ui-error"); // true
 * ```
 */
export function markError(element: Element, varId: number, code: string, description: string) {
  const previous = marked.get(element);
  marked.set(element, { varId, title: previous ? previous.title : element.getAttribute("title") });
  element.classList.add("ui-error");
  element.setAttribute("title", description);
  element.setAttribute("ui-error-code", code);
  element.setAttribute("ui-error-description", description);
}

/**
 * Removes the mark that a variable put on an element (marks of other variables stay).
 *
 * @example
 * ```ts
 * import { clearError, markError } from "./errors.ts";
 * markError(document.body, 5, "lua-error", "boom");
 * clearError(document.body, 5);
 * document.body.classList.contains("ui-error"); // false
 * ```
 */
export function clearError(element: Element, varId: number): void {
  const mark = marked.get(element);
  if (!mark || mark.varId !== varId) return;
  marked.delete(element);
  element.classList.remove("ui-error");
  element.removeAttribute("ui-error-code");
  element.removeAttribute("ui-error-description");
  if (mark.title === null) element.removeAttribute("title");
  else element.setAttribute("title", mark.title);
}
