/// <reference lib="dom" />
/**
 * The attribute bindings of SPEC 14 other than views and lists: `ui-value`, `ui-action`,
 * `ui-event-*`, `ui-attr-*`, `ui-class-*`, `ui-style-*` and `ui-html`. Each one creates a
 * child variable of the view's variable, with the attribute's path and query properties.
 *
 * @module
 */
import { isGetterPath, isSetterPath, parseBindingPath } from "./binding_path.ts";
import { type ClientContext, type Scope, syncFields } from "./context.ts";
import { clearError, markError } from "./errors.ts";
import { keyMatches, type KeySpec, parseKeySpec } from "./keys.ts";
import type { Properties } from "./protocol.ts";
import { refusedAttribute, unsafeValue } from "./safe_attributes.ts";
import type { ClientVariable } from "./store.ts";

/** Attributes handled elsewhere (views, lists) or that are markers, not bindings. */
const NOT_BINDINGS = new Set([
  "ui-view",
  "ui-viewlist",
  "ui-namespace",
  "ui-app",
  "ui-viewdef",
  "ui-item-wrapper",
  "ui-error-code",
  "ui-error-description",
]);

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
  for (const { name, value } of [...element.attributes]) {
    if (!name.startsWith("ui-") || NOT_BINDINGS.has(name)) continue;
    try {
      bindAttribute(context, element, parentId, scope, name, value);
    } catch (error) {
      console.error(`Binding ${name}="${value}" failed`, error);
    }
  }
}

function bindAttribute(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
  name: string,
  value: string,
): void {
  if (name === "ui-value") return bindValue(context, element, parentId, scope, value);
  if (name === "ui-action") {
    return bindAction(context, element, parentId, scope, value, "click", undefined);
  }
  if (name === "ui-html") {
    return bindDisplay(context, element, parentId, scope, value, (shown) => {
      element.innerHTML = displayText(shown);
    });
  }
  const [, kind, rest] = /^ui-(event|attr|class|style)-(.+)$/.exec(name) ?? [];
  if (!kind || !rest) {
    console.warn(`Unknown binding attribute ${name}`);
    return;
  }
  switch (kind) {
    case "event": {
      const key = /^keypress-(.+)$/.exec(rest)?.[1];
      if (key === undefined) {
        return bindAction(context, element, parentId, scope, value, rest, undefined);
      }
      const spec = parseKeySpec(key);
      if (!spec) {
        console.warn(`Unknown key in ${name}`);
        return;
      }
      return bindAction(context, element, parentId, scope, value, "keydown", spec);
    }
    case "attr":
      return bindAttr(context, element, parentId, scope, value, rest);
    case "class":
      return bindDisplay(context, element, parentId, scope, value, (shown) => {
        element.classList.toggle(rest, Boolean(shown));
      });
    case "style":
      return bindDisplay(context, element, parentId, scope, value, (shown) => {
        const style = (element as HTMLElement).style;
        if (shown === null || shown === undefined || shown === false || shown === "") {
          style?.removeProperty(rest);
        } else {
          style?.setProperty(rest, displayText(shown));
        }
      });
  }
}

/** Creates the variable of a binding and registers its clean-up. */
function createVariable(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
  text: string,
  access: string,
): { variable: ClientVariable; path: string; properties: Properties } {
  const { path, properties } = parseBindingPath(text);
  const variable = context.store.create(parentId, {
    ...properties,
    path,
    access: properties.access ?? access,
  });
  context.elements.set(variable.id, element);
  scope.add(() => {
    if (context.elements.get(variable.id) === element) context.elements.delete(variable.id);
    context.store.destroy(variable.id);
  });
  return { variable, path, properties };
}

/** A read-only binding that shows each new value with `apply(value, variableId)`. */
function bindDisplay(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
  text: string,
  apply: (value: unknown, variableId: number) => void,
): void {
  const { variable } = createVariable(context, element, parentId, scope, text, "r");
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
function bindAttr(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
  text: string,
  name: string,
): void {
  const refused = refusedAttribute(name);
  if (refused) {
    console.error(`Refused ui-attr-${name}: ${refused}`);
    markError(element, REFUSED_ID, "unsafe-binding", `ui-attr-${name}: ${refused}`);
    return;
  }
  bindDisplay(context, element, parentId, scope, text, (shown, id) => {
    if (shown === null || shown === undefined || shown === false) {
      element.removeAttribute(name);
      return;
    }
    const value = displayText(shown);
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

/** The kind of form field an element is, if it is one. */
type FieldKind = "checkbox" | "radio" | "number" | "text";

const NOT_EDITABLE = new Set(["button", "submit", "reset", "image", "file", "hidden"]);

function fieldKind(element: Element): FieldKind | undefined {
  if (element instanceof HTMLInputElement) {
    const type = element.type;
    if (type === "checkbox" || type === "radio") return type;
    if (NOT_EDITABLE.has(type)) return undefined;
    return type === "number" || type === "range" ? "number" : "text";
  }
  if (element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) {
    return "text";
  }
  return undefined;
}

/** `ui-value`: shows the value; a form field also sends what the user enters. */
function bindValue(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
  text: string,
): void {
  const kind = fieldKind(element);
  const { path } = parseBindingPath(text);
  const access = kind && !isGetterPath(path) ? "rw" : "r";
  const { variable, properties } = createVariable(
    context,
    element,
    parentId,
    scope,
    text,
    access,
  );
  // What the field showed last (from the server or sent by us): an edit is a difference.
  let shown = kind ? fieldText(element, kind) : "";
  const show = (value: unknown) => {
    if (kind === "checkbox") {
      (element as HTMLInputElement).checked = Boolean(value);
    } else if (kind === "radio") {
      const input = element as HTMLInputElement;
      input.checked = displayText(value) === input.value;
    } else if (kind) {
      const field = element as HTMLInputElement;
      const wanted = displayText(value);
      if (field.value !== wanted) field.value = wanted;
    } else {
      element.textContent = displayText(value);
    }
    if (kind) shown = fieldText(element, kind);
  };
  context.store.listen(variable.id, (current, change) => {
    if (change.value) show(current.value);
  });
  const writable = (properties.access ?? access) !== "r";
  const onCustom = (event: Event) => {
    if (!writable) return;
    const detail = (event as CustomEvent).detail;
    context.store.write(variable.id, detail?.value ?? detail ?? null, "user");
  };
  element.addEventListener("ui-value-change", onCustom);
  scope.add(() => element.removeEventListener("ui-value-change", onCustom));
  if (!kind || !writable) return;
  const send = (mode: "user" | "user-soon") => {
    if (!context.store.get(variable.id)) return;
    const now = fieldText(element, kind);
    if (now === shown) return;
    if (kind === "radio" && !(element as HTMLInputElement).checked) return;
    shown = now;
    context.store.write(variable.id, fieldValue(element, kind), mode);
  };
  const onCommit = () => send("user");
  const onInput = () => send("user-soon");
  const sync = () => send("user-soon");
  const keypress = properties.keypress !== undefined && properties.keypress !== "false";
  element.addEventListener("change", onCommit);
  element.addEventListener("blur", onCommit);
  if (keypress) element.addEventListener("input", onInput);
  context.fields.add(sync);
  scope.add(() => {
    element.removeEventListener("change", onCommit);
    element.removeEventListener("blur", onCommit);
    element.removeEventListener("input", onInput);
    context.fields.delete(sync);
  });
}

function fieldText(element: Element, kind: FieldKind): string {
  const input = element as HTMLInputElement;
  return kind === "checkbox" || kind === "radio" ? String(input.checked) : input.value;
}

function fieldValue(element: Element, kind: FieldKind): unknown {
  const input = element as HTMLInputElement;
  if (kind === "checkbox") return input.checked;
  if (kind === "number" && input.value !== "" && Number.isFinite(input.valueAsNumber)) {
    return input.valueAsNumber;
  }
  return input.value;
}

/**
 * `ui-action` (click) and `ui-event-E`: calls the path when the event fires, with `null` for
 * `m()`, the element's value for `m(_)`, and the key name for other key bindings.
 */
function bindAction(
  context: ClientContext,
  element: Element,
  parentId: number,
  scope: Scope,
  text: string,
  eventName: string,
  key: KeySpec | undefined,
): void {
  const { variable, path } = createVariable(context, element, parentId, scope, text, "action");
  const exclusive = eventName === "click" || key !== undefined;
  const listener = (event: Event) => {
    if (key && !keyMatches(event as KeyboardEvent, key)) return;
    if (exclusive) {
      if (context.handled.has(event)) return;
      context.handled.add(event);
    }
    if (shouldPreventDefault(element, eventName, key)) event.preventDefault();
    syncFields(context);
    const current = context.store.get(variable.id);
    if (!current) return;
    if (current.error) {
      current.error = undefined;
      clearError(element, variable.id);
    }
    let value: unknown = null;
    if (key && !isGetterPath(path)) value = key.name;
    else if (isSetterPath(path)) value = elementValue(element);
    context.store.write(variable.id, value, "user");
  };
  element.addEventListener(eventName, listener);
  scope.add(() => element.removeEventListener(eventName, listener));
}

function shouldPreventDefault(
  element: Element,
  eventName: string,
  key: KeySpec | undefined,
): boolean {
  if (key || eventName === "submit") return true;
  if (eventName !== "click") return false;
  // Let checkboxes and radios toggle.
  return !(element instanceof HTMLInputElement &&
    (element.type === "checkbox" || element.type === "radio"));
}

function elementValue(element: Element): unknown {
  if (element instanceof HTMLInputElement && element.type === "checkbox") return element.checked;
  return "value" in element ? (element as HTMLInputElement).value ?? null : null;
}

/**
 * How a value shows as text: strings, numbers and booleans as themselves; null, objects and
 * arrays as nothing.
 *
 * @example
 * ```ts
 * import { displayText } from "./bindings.ts";
 * displayText(42); // "42"
 * displayText(null); // ""
 * ```
 */
export function displayText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
      return String(value);
    default:
      return "";
  }
}
