/// <reference lib="dom" />
/**
 * Element ids and the bindings of each element, as ui-engine's frontend keeps them: every
 * bound element has an id (vended as `ui-N` when the template gave none), sent as the
 * variable's `elementId`, and `window.uiApp.getBinding().getWidget(id)` finds its bindings.
 *
 * @module
 */

let nextId = 1;

/**
 * The element's id, vending `ui-N` when it has none.
 *
 * @example
 * ```ts
 * import { ensureElementId } from "./widgets.ts";
 * ensureElementId(document.createElement("div")); // "ui-1"
 * ```
 */
export function ensureElementId(element: Element): string {
  if (!element.id) {
    let id: string;
    do id = `ui-${nextId++}`; while (document.getElementById(id));
    element.id = id;
  }
  return element.id;
}

/** The bindings of one element: attribute name to variable id. */
export interface Widget {
  readonly elementId: string;
  /** The variable of one binding (`ui-value`, `ui-action`, `ui-attr-href` …). */
  getVariableId(binding: string): number | undefined;
}

const bindings = new WeakMap<Element, Map<string, number>>();

/**
 * Records a binding of an element; returns the function that forgets it.
 *
 * @example
 * ```ts
 * import { registerBinding } from "./widgets.ts";
 * const forget = registerBinding(document.body, "ui-value", 7);
 * forget();
 * ```
 */
export function registerBinding(element: Element, attribute: string, varId: number): () => void {
  let map = bindings.get(element);
  if (!map) bindings.set(element, map = new Map());
  map.set(attribute, varId);
  return () => {
    if (map.get(attribute) === varId) map.delete(attribute);
  };
}

/**
 * The bindings of the element with this id, or undefined when it has none.
 *
 * @example
 * ```ts
 * import { getWidget } from "./widgets.ts";
 * getWidget("name-field")?.getVariableId("ui-value");
 * ```
 */
export function getWidget(elementId: string): Widget | undefined {
  const element = document.getElementById(elementId);
  const map = element ? bindings.get(element) : undefined;
  if (!map || map.size === 0) return undefined;
  return { elementId, getVariableId: (binding) => map.get(binding) };
}
