/// <reference lib="dom" />
/**
 * Binding a rendered subtree: every element with `ui-viewlist` becomes a {@link ViewList},
 * every element with `ui-view` a child {@link View} of a new variable, and every other element
 * gets its `ui-*` attribute bindings, then its children are visited.
 *
 * @module
 */
import { bindAttributes } from "./bindings.ts";
import { parseBindingPath } from "./binding_path.ts";
import { type ClientContext, namespaceFor, type Scope } from "./context.ts";
import type { Properties } from "./protocol.ts";
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
  const { path, properties } = parseBindingPath(element.getAttribute("ui-view") ?? "");
  const parent = context.store.get(parentId);
  const created: Properties = { ...properties, path, access: properties.access ?? "r" };
  const namespace = namespaceFor(element, boundary, parent);
  if (namespace && created.namespace === undefined) created.namespace = namespace;
  const fallback = created.fallbackNamespace ?? parent?.properties.fallbackNamespace;
  if (fallback) created.fallbackNamespace = fallback;
  const variable = context.store.create(parentId, created);
  const view = new View(context, element, variable.id, { container: false });
  registerChildView(element, view);
  return view;
}
