/// <reference lib="dom" />
/**
 * Binding a rendered subtree: every element with `ui-viewlist` becomes a {@link ViewList},
 * every element with `ui-view` a child {@link View} of a new variable, and every other element
 * gets its `ui-*` attribute bindings, then its children are visited.
 *
 * @module
 */
import { bindAttributes } from "./bindings.ts";
import { type ClientContext, createViewVariable, type Scope } from "./context.ts";
import { registerChildView, View } from "./view.ts";
import { ViewList } from "./viewlist.ts";

/**
 * Binds `element` and its descendants under the variable `variableId`. `boundary` holds the
 * top-level elements of the current render (the namespace search stops there).
 *
 * @example
 * ```ts
 * // context.bind = (element, id, scope, boundary) => bindTree(context, element, id, scope, boundary);
 * ```
 */
export function bindTree(
  context: ClientContext,
  element: Element,
  variableId: number,
  scope: Scope,
  boundary: ReadonlySet<Element>,
): void {
  if (element instanceof HTMLTemplateElement) return;
  if (element.hasAttribute("ui-viewlist")) {
    const list = new ViewList(context, element, variableId, boundary);
    scope.add(() => list.dispose());
    bindAttributes(context, element, variableId, scope);
    return;
  }
  if (element.hasAttribute("ui-view")) {
    const view = bindView(context, element, variableId, boundary);
    scope.add(() => view.dispose());
    return;
  }
  bindAttributes(context, element, variableId, scope);
  for (const child of [...element.children]) bindTree(context, child, variableId, scope, boundary);
}

function bindView(
  context: ClientContext,
  element: Element,
  parentId: number,
  boundary: ReadonlySet<Element>,
): View {
  const variable = createViewVariable(context, element, "ui-view", parentId, boundary);
  const view = new View(context, element, variable.id, { container: false });
  registerChildView(element, view);
  return view;
}
