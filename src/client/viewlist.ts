/// <reference lib="dom" />
/**
 * `ui-viewlist`: one view per element of an array value. The element's first child element is
 * the exemplar: it is taken out, and each item is a copy of it, shown as a view of the list's
 * child variable `"0"`, `"1"`, ... in namespace `list-item` unless a namespace says otherwise.
 * Items are reused by position: a longer array adds views at the end, a shorter one removes
 * them from the end, and the DOM nodes of unchanged positions stay. A `ui-item-wrapper="W"`
 * attribute wraps each item's variable with `wrapper=W`.
 *
 * @module
 */
import { type ClientContext, createViewVariable } from "./context.ts";
import type { Properties } from "./protocol.ts";
import { registerChildView, View } from "./view.ts";

/** The fallback namespace of list items. */
export const LIST_ITEM_NAMESPACE = "list-item";

/**
 * A list bound to an element.
 *
 * @example
 * ```ts
 * // const list = new ViewList(context, element, viewVariableId, boundary);
 * // scope.add(() => list.dispose());
 * ```
 */
export class ViewList {
  /** The list's variable. */
  readonly variableId: number;
  readonly #context: ClientContext;
  readonly #element: Element;
  readonly #exemplar: Element;
  /** Marks where items go: they are inserted before it. */
  readonly #end: Comment;
  readonly #items: View[] = [];
  readonly #unlisten: () => void;

  /** Binds `element`'s `ui-viewlist` under the variable `parentId`. */
  constructor(
    context: ClientContext,
    element: Element,
    parentId: number,
    boundary: ReadonlySet<Element>,
  ) {
    this.#context = context;
    this.#element = element;
    const exemplar = element.firstElementChild;
    this.#end = document.createComment("ui-viewlist");
    if (exemplar) {
      element.insertBefore(this.#end, exemplar);
      exemplar.remove();
    } else {
      element.appendChild(this.#end);
    }
    this.#exemplar = exemplar ?? document.createElement("div");
    const variable = createViewVariable(context, element, "ui-viewlist", parentId, boundary);
    this.variableId = variable.id;
    context.elements.set(variable.id, element);
    this.#unlisten = context.store.listen(variable.id, () => this.#sync());
  }

  /** How many items are shown. */
  get length(): number {
    return this.#items.length;
  }

  #sync(): void {
    const value = this.#context.store.get(this.variableId)?.value;
    const length = Array.isArray(value) ? value.length : 0;
    while (this.#items.length > length) this.#removeLast();
    while (this.#items.length < length) this.#add(this.#items.length);
  }

  #add(index: number): void {
    const list = this.#context.store.get(this.variableId);
    if (!list) return;
    const element = this.#exemplar.cloneNode(true) as Element;
    this.#end.parentNode?.insertBefore(element, this.#end);
    const properties: Properties = { path: String(index), access: "r" };
    const namespace = this.#exemplar.getAttribute("ui-namespace") || list.properties.namespace;
    if (namespace) properties.namespace = namespace;
    properties.fallbackNamespace = list.properties.fallbackNamespace || LIST_ITEM_NAMESPACE;
    const wrapper = this.#element.getAttribute("ui-item-wrapper");
    if (wrapper) properties.wrapper = wrapper;
    const variable = this.#context.store.create(this.variableId, properties);
    const view = new View(this.#context, element, variable.id, { container: false });
    registerChildView(element, view);
    this.#items.push(view);
  }

  #removeLast(): void {
    const view = this.#items.pop();
    if (!view) return;
    for (const node of view.nodes()) node.parentNode?.removeChild(node);
    view.dispose();
  }

  /** Destroys the list's variable and its items' views. */
  dispose(): void {
    this.#unlisten();
    if (this.#context.elements.get(this.variableId) === this.#element) {
      this.#context.elements.delete(this.variableId);
    }
    this.#context.store.destroy(this.variableId);
    for (const view of this.#items.splice(0)) view.dispose();
  }
}
