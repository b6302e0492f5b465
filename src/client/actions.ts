/// <reference lib="dom" />
/**
 * `ui-action` (click) and `ui-event-E`: call a path when the event fires. As in ui-engine,
 * nested bindings all fire (inner first, as the event bubbles). While an action's round trip
 * is in flight its element has class `ui-busy` and `aria-busy="true"`, `?disable` (or the
 * attribute `ui-disable-while-busy`) disables it, and further events on it are dropped.
 *
 * @module
 */
import { isGetterPath, isSetterPath } from "./binding_path.ts";
import { type ClientContext, type Scope, syncFields } from "./context.ts";
import { clearError } from "./errors.ts";
import { keyMatches, type KeySpec } from "./keys.ts";
import type { ClientVariable } from "./store.ts";

/** Options of one action binding. */
export interface ActionOptions {
  /** The DOM event. */
  event: string;
  /** A key binding's key. */
  key?: KeySpec;
  /** A fixed value to send (`ui-event-E-value`). */
  value?: string;
  /** True for `ui-action` (which prevents its own element's default click action). */
  action?: boolean;
}

/** Events that are one user decision each: repeats while busy are dropped. */
const DISCRETE = new Set(["click", "dblclick", "submit", "keydown"]);

/** Elements with an action in flight, with what to restore afterwards. */
const busy = new WeakMap<Element, { count: number; restore: boolean | undefined }>();

/**
 * Binds one action attribute.
 *
 * @example
 * ```ts
 * // bindAction(context, element, scope, variable, "save()", { event: "click" });
 * ```
 */
export function bindAction(
  context: ClientContext,
  element: Element,
  scope: Scope,
  variable: ClientVariable,
  path: string,
  options: ActionOptions,
): void {
  const { event: eventName, key } = options;
  const properties = variable.properties;
  const disable = properties.disable === "true" || element.hasAttribute("ui-disable-while-busy");
  const queue = properties.queue === "true" || !DISCRETE.has(eventName);
  let inFlight = false;
  const listener = (event: Event) => {
    if (key && !keyMatches(event as KeyboardEvent, key)) return;
    if (shouldPreventDefault(element, event, options)) event.preventDefault();
    // A busy action drops repeated events (a double click runs it once).
    if (inFlight && !queue) return;
    syncFields(context);
    const current = context.store.get(variable.id);
    if (!current) return;
    if (current.error) {
      current.error = undefined;
      clearError(element, variable.id);
    }
    let value: unknown = null;
    if (options.value !== undefined) value = options.value;
    else if (key && !isGetterPath(path)) value = key.name;
    else if (isSetterPath(path)) value = elementValue(element);
    inFlight = true;
    startBusy(element, disable);
    const sent = context.store.writeAndConfirm(variable.id, value, () => {
      inFlight = false;
      endBusy(element);
    });
    if (!sent) {
      inFlight = false;
      endBusy(element);
    }
  };
  element.addEventListener(eventName, listener);
  scope.add(() => {
    element.removeEventListener(eventName, listener);
    if (inFlight) endBusy(element);
  });
}

function startBusy(element: Element, disable: boolean): void {
  const state = busy.get(element);
  if (state) {
    state.count++;
    return;
  }
  const control = element as HTMLButtonElement;
  busy.set(element, { count: 1, restore: disable ? Boolean(control.disabled) : undefined });
  element.classList.add("ui-busy");
  element.setAttribute("aria-busy", "true");
  if (disable) control.disabled = true;
}

function endBusy(element: Element): void {
  const state = busy.get(element);
  if (!state) return;
  if (--state.count > 0) return;
  busy.delete(element);
  element.classList.remove("ui-busy");
  element.removeAttribute("aria-busy");
  if (state.restore !== undefined) (element as HTMLButtonElement).disabled = state.restore;
}

/**
 * Key bindings and `submit` prevent the default. A `ui-action` prevents its own element's
 * default (a link's navigation, a button's submit), never that of a control inside it, and
 * lets checkboxes and radios toggle; `ui-event-click` prevents nothing.
 */
function shouldPreventDefault(element: Element, event: Event, options: ActionOptions): boolean {
  if (options.key || options.event === "submit") return true;
  if (options.event !== "click" || !options.action) return false;
  if (
    element instanceof HTMLInputElement && (element.type === "checkbox" || element.type === "radio")
  ) {
    return false;
  }
  const target = event.target instanceof Element ? event.target : null;
  const control = target?.closest(
    "a, button, input, select, textarea, label, summary, [ui-action]",
  );
  return !control || control === element;
}

function elementValue(element: Element): unknown {
  if (element instanceof HTMLInputElement && element.type === "checkbox") return element.checked;
  return "value" in element ? (element as HTMLInputElement).value ?? null : null;
}
