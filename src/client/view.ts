/// <reference lib="dom" />
/**
 * A view: shows one variable with the viewdef of its `type` (SPEC 14). The template's nodes
 * replace the view's element (whose class and style move to the first rendered element), as
 * in ui-engine; the app root renders inside its `[ui-app]` element instead. A new `type`
 * re-renders; an empty `type` puts the original element back, empty.
 *
 * @module
 */
import { type ClientContext, Scope } from "./context.ts";
import { clearError } from "./errors.ts";
import type { Viewdef } from "./viewdefs.ts";

/** Marks elements that belong to a view's current render. */
export const VIEWDEF_ATTRIBUTE = "ui-viewdef";

/**
 * A view over a variable.
 *
 * @example
 * ```ts
 * // const view = new View(context, element, variable.id, { container: false });
 * // ... later, when its element goes away:
 * // view.dispose();
 * ```
 */
export class View {
  /** The variable shown. */
  readonly variableId: number;
  readonly #context: ClientContext;
  readonly #placeholder: Element;
  readonly #container: boolean;
  readonly #unlisten: () => void;
  #rendered: Viewdef | undefined;
  /** Top-level nodes of the current render (replace mode). */
  #own: Node[] = [];
  /** Child views whose element is one of {@link #own}: their nodes stand in for it. */
  #rootViews = new Map<Node, View>();
  #scope = new Scope();
  #disposed = false;

  /**
   * Creates a view on `element` for a variable that already exists in the store. With
   * `container`, the template renders inside the element instead of replacing it.
   */
  constructor(
    context: ClientContext,
    element: Element,
    variableId: number,
    options: { container: boolean },
  ) {
    this.#context = context;
    this.#placeholder = element;
    this.#container = options.container;
    this.variableId = variableId;
    context.views.add(this);
    context.elements.set(variableId, element);
    this.#unlisten = context.store.listen(variableId, () => this.refresh());
    this.refresh();
  }

  /** The nodes this view occupies in the document, in order. */
  nodes(): Node[] {
    if (this.#container || this.#own.length === 0) return [this.#placeholder];
    return this.#own.flatMap((node) => this.#rootViews.get(node)?.nodes() ?? [node]);
  }

  /** Renders, re-renders or clears as the variable's `type` and the viewdefs require. */
  refresh(): void {
    if (this.#disposed) return;
    const variable = this.#context.store.get(this.variableId);
    if (!variable) return;
    const type = variable.properties.type ?? "";
    if (type === "") {
      if (this.#rendered) this.#clear();
      return;
    }
    const viewdef = this.#context.viewdefs.lookup(
      type,
      variable.properties.namespace || undefined,
      variable.properties.fallbackNamespace || undefined,
    );
    if (!viewdef) {
      // Viewdefs arrive before or with the first variable of their type, so none exists.
      warnMissing(type, variable.properties.namespace, variable.properties.fallbackNamespace);
      if (this.#rendered) this.#clear();
      return;
    }
    if (this.#rendered === viewdef) return;
    this.#render(viewdef);
  }

  #render(viewdef: Viewdef): void {
    const fragment = viewdef.template.content.cloneNode(true) as DocumentFragment;
    trimWhitespace(fragment);
    const nodes = [...fragment.childNodes];
    const roots = nodes.filter((node): node is Element => node instanceof Element);
    const first = roots.find((root) => root.tagName !== "STYLE" && root.tagName !== "SCRIPT");
    first?.setAttribute(VIEWDEF_ATTRIBUTE, viewdef.key);
    const old = this.#scope;
    if (this.#container) {
      this.#scope = new Scope();
      old.dispose();
      this.#placeholder.replaceChildren(fragment);
      this.#finish(viewdef, roots, new Set([this.#placeholder]));
      return;
    }
    const previous = this.nodes();
    const anchor = previous[0];
    const parent = anchor?.parentNode;
    if (!anchor || !parent) {
      console.error(`View for ${viewdef.key} is not in the document`);
      return;
    }
    this.#scope = new Scope();
    if (first) mergeInto(first, this.#placeholder);
    if (nodes.length === 0) {
      // An empty template keeps the (empty) element as the view's place.
      parent.insertBefore(this.#placeholder, anchor);
      this.#placeholder.replaceChildren();
    } else {
      parent.insertBefore(fragment, anchor);
    }
    for (const node of previous) if (node !== this.#placeholder || nodes.length > 0) remove(node);
    old.dispose();
    this.#own = nodes;
    this.#rootViews = new Map();
    this.#finish(viewdef, roots, new Set(roots));
  }

  #finish(viewdef: Viewdef, roots: Element[], boundary: ReadonlySet<Element>): void {
    this.#rendered = viewdef;
    this.#setErrorTarget();
    const childScope = this.#scope;
    for (const root of roots) {
      this.#context.bind(root, this.variableId, childScope, boundary);
    }
    if (!this.#container) {
      for (const root of roots) {
        const child = childViewOf(root);
        if (child) this.#rootViews.set(root, child);
      }
    }
    for (const root of roots) {
      const fresh = activateScripts(root);
      // A top-level script was replaced by its running copy: track the copy, so that the
      // next render removes it (scripts do not pile up).
      if (fresh !== root) this.#own = this.#own.map((node) => node === root ? fresh : node);
    }
    focusAutofocus(roots);
    this.#announce(viewdef.key);
  }

  /** Tells the server which viewdef this view shows (`viewdef` property, as ui-engine does). */
  #announce(key: string): void {
    if (this.#container) return;
    const variable = this.#context.store.get(this.variableId);
    if (variable && variable.properties.viewdef !== key) {
      this.#context.store.setProperties(this.variableId, { viewdef: key });
    }
  }

  #clear(): void {
    const old = this.#scope;
    this.#scope = new Scope();
    if (this.#container) {
      old.dispose();
      this.#placeholder.replaceChildren();
    } else {
      const previous = this.nodes();
      const anchor = previous[0];
      if (anchor && anchor !== this.#placeholder) {
        anchor.parentNode?.insertBefore(this.#placeholder, anchor);
        this.#placeholder.replaceChildren();
      }
      for (const node of previous) if (node !== this.#placeholder) remove(node);
      old.dispose();
      this.#own = [];
      this.#rootViews = new Map();
    }
    this.#rendered = undefined;
    this.#setErrorTarget();
    this.#announce("");
  }

  #setErrorTarget(): void {
    const element = this.nodes().find((node): node is Element => node instanceof Element);
    const previous = this.#context.elements.get(this.variableId);
    if (previous && previous !== element) clearError(previous, this.variableId);
    if (element) this.#context.elements.set(this.variableId, element);
  }

  /**
   * Destroys the variable (the server drops its subtree) and everything the render made. The
   * caller removes the view's nodes from the document.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#unlisten();
    this.#context.views.delete(this);
    this.#context.store.destroy(this.variableId);
    this.#context.elements.delete(this.variableId);
    this.#scope.dispose();
  }
}

const warned = new Set<string>();

function warnMissing(type: string, namespace?: string, fallback?: string): void {
  const tried = [namespace, fallback, "DEFAULT"].filter(Boolean).map((ns) => `${type}.${ns}`);
  const key = tried.join(" ");
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`No viewdef for type ${type}: tried ${tried.join(", ")}`);
}

const viewsByElement = new WeakMap<Element, View>();

/**
 * Records that a view was made for an element (so that a parent whose top-level element is a
 * `ui-view` can follow the nodes that replaced it).
 *
 * @example
 * ```ts
 * // registerChildView(element, view) right after new View(...)
 * ```
 */
export function registerChildView(element: Element, view: View): void {
  viewsByElement.set(element, view);
}

function childViewOf(element: Element): View | undefined {
  return viewsByElement.get(element);
}

/** Copies the view element's class, style and id onto the first rendered element. */
function mergeInto(target: Element, source: Element): void {
  for (const name of source.classList) if (name !== "ui-error") target.classList.add(name);
  const style = source.getAttribute("style");
  if (style) {
    const own = target.getAttribute("style");
    target.setAttribute("style", own ? `${own}; ${style}` : style);
  }
  const id = source.getAttribute("id");
  if (id && !target.hasAttribute("id")) target.setAttribute("id", id);
}

function trimWhitespace(fragment: DocumentFragment): void {
  const blank = (node: Node | null) =>
    node?.nodeType === Node.TEXT_NODE && (node.textContent ?? "").trim() === "";
  while (blank(fragment.firstChild)) fragment.firstChild?.remove();
  while (blank(fragment.lastChild)) fragment.lastChild?.remove();
}

function remove(node: Node): void {
  node.parentNode?.removeChild(node);
}

/** Scripts cloned from a template do not run; fresh copies do. Returns the root's copy. */
function activateScripts(root: Element): Element {
  const scripts = root instanceof HTMLScriptElement ? [root] : [...root.querySelectorAll("script")];
  let result = root;
  for (const old of scripts) {
    const fresh = document.createElement("script");
    for (const { name, value } of old.attributes) fresh.setAttribute(name, value);
    fresh.textContent = old.textContent;
    old.replaceWith(fresh);
    if (old === root) result = fresh;
  }
  return result;
}

/**
 * Browsers honour `autofocus` only when the page loads; in a template it takes effect each time
 * the template renders (a form that opens gets its first field focused).
 */
function focusAutofocus(roots: readonly Element[]): void {
  for (const root of roots) {
    const target = root.matches("[autofocus]") ? root : root.querySelector("[autofocus]");
    if (target instanceof HTMLElement) {
      // After the current frame's bindings, so the field shows its value when it gets focus.
      queueMicrotask(() => {
        if (target.isConnected) target.focus();
      });
      return;
    }
  }
}
