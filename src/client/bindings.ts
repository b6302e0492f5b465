/// <reference lib="dom" />
/**
 * The attribute bindings of SPEC 14 other than views and lists: `ui-value`, `ui-action`,
 * `ui-event-*`, `ui-attr-*`, `ui-class-*`, `ui-style-*`, `ui-html` and `ui-code`. Each one
 * creates a child variable of the view's variable, with the attribute's path and query
 * properties, and `elementId` (the element's id, vended as `ui-N` when it has none), as
 * ui-engine's frontend sends it.
 *
 * @module
 */
import { bindAction } from "./actions.ts";
import { parseBindingPath } from "./binding_path.ts";
import type { ClientContext, Scope } from "./context.ts";
import { clearError, markError } from "./errors.ts";
import { showText } from "./fields.ts";
import { parseKeySpec } from "./keys.ts";
import type { Properties } from "./protocol.ts";
import { refusedAttribute, unsafeValue } from "./safe_attributes.ts";
import type { ClientVariable } from "./store.ts";
import { bindValue } from "./value_binding.ts";
import { ensureElementId, registerBinding } from "./widgets.ts";
import { MARKER_ATTRIBUTES } from "./markers.ts";

/** Attributes handled elsewhere (views, lists) or that are markers, not bindings. */
const NOT_BINDINGS = new Set(["ui-view", "ui-viewlist", ...MARKER_ATTRIBUTES]);

/**
 * Binds every `ui-*` attribute of one element (not its descendants).
 *
 * @example
 * ```ts
 * // bindAttributes(context, element, viewVariableId, scope) for each element of a render.
 * ```
 */
export function bindAttributes(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
): void {
  let scroll = false;
  for (const { name, value } of [...element.attributes]) {
    if (!name.startsWith("ui-") || NOT_BINDINGS.has(name)) continue;
    if (/^ui-event-.+-value$/.test(name) && element.hasAttribute(name.slice(0, -6))) continue;
    try {
      bindAttribute(context, element, parentId, scope, name, value);
      if (parseBindingPath(value).properties.scrollOnOutput === "true") scroll = true;
    } catch (error) {
      console.error(`Binding ${name}="${value}" failed`, error);
    }
  }
  if (scroll) followOutput(element, scope);
}

function bindAttribute(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
  name: string,
  value: string,
): void {
  const create = (access: string) =>
    createVariable(context, element, parentId, scope, name, value, access);
  if (name === "ui-value") return bindValue(context, element, scope, value, create);
  if (name === "ui-action") {
    const { variable, path } = create("action");
    return bindAction(context, element, scope, variable, path, { event: "click", action: true });
  }
  if (name === "ui-html") return bindHtml(context, element, scope, value, create);
  if (name === "ui-code") return bindCode(context, element, create);
  const [, kind, rest] = /^ui-(event|attr|class|style)-(.+)$/.exec(name) ?? [];
  if (!kind || !rest) {
    console.warn(`Unknown binding attribute ${name}`);
    return;
  }
  switch (kind) {
    case "event": {
      const keyName = /^keypress-(.+)$/.exec(rest)?.[1];
      const fixed = element.getAttribute(`${name}-value`) ?? undefined;
      if (keyName === undefined) {
        const { variable, path } = create("action");
        return bindAction(context, element, scope, variable, path, { event: rest, value: fixed });
      }
      const key = parseKeySpec(keyName);
      if (!key) {
        console.warn(`Unknown key in ${name}`);
        return;
      }
      const { variable, path } = create("action");
      return bindAction(context, element, scope, variable, path, { event: "keydown", key });
    }
    case "attr":
      return bindAttr(element, rest, create);
    case "class":
      return bindDisplay(context, create, (shown) => {
        element.classList.toggle(rest, Boolean(shown));
      });
    case "style":
      return bindDisplay(context, create, (shown) => {
        const style = (element as HTMLElement).style;
        if (shown === null || shown === undefined || shown === false || shown === "") {
          style?.removeProperty(rest);
        } else {
          style?.setProperty(rest, showText(shown));
        }
      });
  }
}

/** Creates a binding's variable. */
type Create = (access: string) => {
  variable: ClientVariable;
  path: string;
  properties: Properties;
};

/** Creates the variable of a binding and registers its clean-up. */
function createVariable(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
  attribute: string,
  text: string,
  access: string,
): { variable: ClientVariable; path: string; properties: Properties } {
  const { path, properties } = parseBindingPath(text);
  const variable = context.store.create(parentId, {
    ...properties,
    path,
    access: properties.access ?? access,
    elementId: properties.elementId ?? ensureElementId(element),
  });
  context.elements.set(variable.id, element);
  const unregister = registerBinding(element, attribute, variable.id);
  scope.add(() => {
    unregister();
    if (context.elements.get(variable.id) === element) context.elements.delete(variable.id);
    context.store.destroy(variable.id);
  });
  return { variable, path, properties };
}

/** A read-only binding that shows each new value with `apply(value, variableId)`. */
function bindDisplay(
  context: ClientContext,
  create: Create,
  apply: (value: unknown, variableId: number) => void,
): void {
  const { variable } = create("r");
  context.store.listen(variable.id, (current, change) => {
    if (change.value) apply(current.value, variable.id);
  });
}

/** Marks refused bindings: no variable of the server's has this id. */
const REFUSED_ID = -1;

/**
 * `ui-attr-X`: sets or removes attribute X. Event handlers are never bound and script URLs
 * never set (see `safe_attributes.ts`); a refusal marks the element and logs why.
 */
function bindAttr(element: Element, name: string, create: Create): void {
  const refused = refusedAttribute(name);
  if (refused) {
    console.error(`Refused ui-attr-${name}: ${refused}`);
    markError(element, REFUSED_ID, "unsafe-binding", `ui-attr-${name}: ${refused}`);
    return;
  }
  const { variable } = create("r");
  const id = variable.id;
  variable.listeners.add((current, change) => {
    if (!change.value) return;
    const shown = current.value;
    if (shown === null || shown === undefined || shown === false) {
      element.removeAttribute(name);
      return;
    }
    const value = showText(shown);
    if (unsafeValue(element.tagName, name, value)) {
      element.removeAttribute(name);
      const description = `ui-attr-${name}: script URLs cannot be bound (use ui-html)`;
      console.error(`Refused ${description}`);
      markError(element, id, "unsafe-binding", description);
      return;
    }
    clearError(element, id);
    element.setAttribute(name, value);
  });
}

/**
 * `ui-html`: the value becomes the element's inner HTML, or with `?replace` the element itself
 * is replaced by the HTML's nodes (nothing leaves a hidden placeholder, bare text a span).
 */
function bindHtml(
  context: ClientContext,
  element: Element,
  scope: Scope,
  text: string,
  create: Create,
): void {
  if (parseBindingPath(text).properties.replace !== "true") {
    return bindDisplay(context, create, (shown) => {
      element.innerHTML = showText(shown);
    });
  }
  let nodes: Node[] = [element];
  const id = ensureElementId(element);
  const placeholder = document.createElement("span");
  placeholder.hidden = true;
  bindDisplay(context, create, (shown) => {
    const anchor = nodes[0];
    const parent = anchor?.parentNode;
    if (!anchor || !parent) return;
    const template = document.createElement("template");
    template.innerHTML = showText(shown);
    let fresh: Node[] = [...template.content.childNodes];
    if (fresh.length === 0) fresh = [placeholder];
    else if (!fresh.some((node) => node instanceof Element)) {
      const span = document.createElement("span");
      span.append(...fresh);
      fresh = [span];
    }
    // The first element takes the bound element's id, as in ui-engine.
    const first = fresh.find((node): node is Element => node instanceof Element);
    if (first && first !== element) {
      element.removeAttribute("id");
      first.id = id;
    }
    for (const node of fresh) parent.insertBefore(node, anchor);
    for (const node of nodes) if (!fresh.includes(node)) node.parentNode?.removeChild(node);
    nodes = fresh;
  });
  scope.add(() => {
    // Put the original element back, so that the render's own clean-up finds it.
    const anchor = nodes[0];
    if (anchor && anchor !== element) {
      anchor.parentNode?.insertBefore(element, anchor);
      element.id = id;
    }
    for (const node of nodes) if (node !== element) node.parentNode?.removeChild(node);
  });
}

/**
 * `ui-code`: the value is JavaScript, run on each update with `element`, `value`, `variable`
 * and `store` (ui-engine's signature). Like `ui-html`, only for code the app's Lua writes.
 */
function bindCode(context: ClientContext, element: Element, create: Create): void {
  const { variable } = create("r");
  variable.listeners.add((current, change) => {
    if (!change.value || typeof current.value !== "string" || current.value === "") return;
    try {
      const run = new Function("element", "value", "variable", "store", current.value);
      run(element, current.value, current, context.store);
    } catch (error) {
      console.error("ui-code failed", error);
    }
  });
}

/** `?scrollOnOutput`: keeps the element scrolled to its end as its content changes. */
function followOutput(element: Element, scope: Scope): void {
  const scroll = () => {
    if (element.scrollHeight > element.clientHeight) element.scrollTop = element.scrollHeight;
  };
  const observer = new MutationObserver(scroll);
  observer.observe(element, { childList: true, subtree: true, characterData: true });
  scope.add(() => observer.disconnect());
}
