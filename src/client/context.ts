/// <reference lib="dom" />
/**
 * What the parts of the client share: the stores, the live views, the elements that show each
 * variable (for error marking), the fields that may hold an unsent edit, and the function that
 * binds a rendered subtree. Also {@link Scope}, the set of things one render made, and the
 * namespace cascade of SPEC 14.
 *
 * @module
 */
import { parseBindingPath } from "./binding_path.ts";
import type { Properties } from "./protocol.ts";
import type { ClientVariable, VariableStore } from "./store.ts";
import type { ViewdefStore } from "./viewdefs.ts";
import { ensureElementId } from "./widgets.ts";

/** Something that re-checks its viewdef (a view). */
export interface Refreshable {
  refresh(): void;
}

/** Binds the `ui-*` attributes of an element and its descendants. */
export type BindFunction = (
  element: Element,
  variableId: number,
  scope: Scope,
  boundary: ReadonlySet<Element>,
) => void;

/** The shared state of one page. */
export interface ClientContext {
  readonly store: VariableStore;
  readonly viewdefs: ViewdefStore;
  /** Live views, refreshed when viewdefs arrive. */
  readonly views: Set<Refreshable>;
  /** The element showing each variable, marked when the variable gets an error. */
  readonly elements: Map<number, Element>;
  /** Field bindings: each sends its element's edit if it was not sent yet. */
  readonly fields: Set<() => void>;
  /** Binds a rendered subtree (see `render.ts`). */
  bind: BindFunction;
}

/**
 * What one render made (bindings, child views, lists): disposed together when the view
 * re-renders or goes away.
 *
 * @example
 * ```ts
 * import { Scope } from "./context.ts";
 * const scope = new Scope();
 * scope.add(() => console.log("disposed"));
 * scope.dispose(); // logs "disposed"
 * ```
 */
export class Scope {
  #disposers: (() => void)[] = [];

  /** Adds a clean-up function. */
  add(dispose: () => void): void {
    this.#disposers.push(dispose);
  }

  /** Runs every clean-up function once. */
  dispose(): void {
    for (const dispose of this.#disposers.splice(0)) {
      try {
        dispose();
      } catch (error) {
        console.error("Disposing a binding failed", error);
      }
    }
  }
}

/**
 * The namespace of a view or list element: its own or the nearest enclosing `ui-namespace`
 * within the current render, else the namespace of the variable it is bound under.
 *
 * @example
 * ```ts
 * import { namespaceFor } from "./context.ts";
 * const outer = document.createElement("div");
 * outer.setAttribute("ui-namespace", "detail");
 * const inner = outer.appendChild(document.createElement("div"));
 * namespaceFor(inner, new Set([outer]), undefined); // "detail"
 * ```
 */
export function namespaceFor(
  element: Element,
  boundary: ReadonlySet<Element>,
  parent: ClientVariable | undefined,
): string | undefined {
  for (let node: Element | null = element; node; node = node.parentElement) {
    const namespace = node.getAttribute("ui-namespace");
    if (namespace) return namespace;
    if (boundary.has(node)) break;
  }
  return parent?.properties.namespace || undefined;
}

/**
 * Creates the variable of a `ui-view` or `ui-viewlist` element: the attribute's path and query
 * properties, `access` r by default, and the namespace cascade (the element's `ui-namespace`,
 * else the parent's namespace; `fallbackNamespace` inherited from the parent).
 *
 * @example
 * ```ts
 * // const variable = createViewVariable(context, element, "ui-view", parentId, boundary);
 * ```
 */
export function createViewVariable(
  context: ClientContext,
  element: Element,
  attribute: "ui-view" | "ui-viewlist",
  parentId: number,
  boundary: ReadonlySet<Element>,
): ClientVariable {
  const { path, properties } = parseBindingPath(element.getAttribute(attribute) ?? "");
  const parent = context.store.get(parentId);
  const created: Properties = {
    ...properties,
    path,
    access: properties.access ?? "r",
    elementId: properties.elementId ?? ensureElementId(element),
  };
  const namespace = namespaceFor(element, boundary, parent);
  if (namespace && created.namespace === undefined) created.namespace = namespace;
  const fallback = created.fallbackNamespace ?? parent?.properties.fallbackNamespace;
  if (fallback) created.fallbackNamespace = fallback;
  return context.store.create(parentId, created);
}

/**
 * Sends every field edit not sent yet, so that an action sees the latest values.
 *
 * @example
 * ```ts
 * // syncFields(context) runs before every ui-action and ui-event.
 * ```
 */
export function syncFields(context: ClientContext): void {
  for (const sync of context.fields) sync();
}
