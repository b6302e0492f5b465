/// <reference lib="dom" />
/**
 * `ui-value`: shows a variable's value in an element and, for fields (see `fields.ts`), sends
 * the user's edits: on commit (`change`/blur, `sl-change`), on every input with `?keypress`,
 * at most every MS milliseconds with `?throttle=MS`, or once typing pauses for MS milliseconds
 * with `?debounce=MS`. Any element also sends `detail.value` of a `ui-value-change` event.
 *
 * @module
 */
import { isGetterPath, parseBindingPath } from "./binding_path.ts";
import { type ClientContext, type Scope } from "./context.ts";
import { fieldFor, showText } from "./fields.ts";
import type { ClientVariable } from "./store.ts";

/** Creates a binding's variable (see `bindings.ts`). */
export type CreateVariable = (access: string) => {
  variable: ClientVariable;
  properties: Record<string, string>;
};

/** What a value binding offers to scripts (`window.uiApp.updateValue`). */
export interface ValueBindingHandle {
  /** The variable's id. */
  readonly variableId: number;
  /** Sends a value, or the element's own when `value` is undefined. */
  send(value?: unknown): void;
}

/** The value bindings of elements, for `window.uiApp`. */
export const valueBindings = new WeakMap<Element, ValueBindingHandle>();

/**
 * Binds `ui-value` on one element.
 *
 * @example
 * ```ts
 * // bindValue(context, element, scope, text, (access) => createVariable(..., access));
 * ```
 */
export function bindValue(
  context: ClientContext,
  element: Element,
  scope: Scope,
  text: string,
  create: CreateVariable,
): void {
  const field = fieldFor(element);
  const { path } = parseBindingPath(text);
  const access = field?.editable && !isGetterPath(path) ? "rw" : "r";
  const { variable, properties } = create(access);
  // What the field showed last (from the server or sent by us): an edit is a difference.
  let shown = field ? field.text() : "";
  const show = (value: unknown) => {
    if (field) {
      field.write(value);
      shown = field.text();
    } else {
      element.textContent = showText(value);
    }
    if (properties.scrollOnOutput === "true") scrollToEnd(element);
  };
  context.store.listen(variable.id, (current, change) => {
    if (change.value) show(current.value);
  });
  const writable = (properties.access ?? access) !== "r" && properties.access !== "action";
  const handle: ValueBindingHandle = {
    variableId: variable.id,
    send: (value) => {
      if (!context.store.get(variable.id)) return;
      const sent = value === undefined ? (field ? field.read() : readValue(element)) : value;
      if (field) shown = field.text();
      context.store.write(variable.id, sent ?? null, "user");
    },
  };
  valueBindings.set(element, handle);
  const onCustom = (event: Event) => {
    if (!writable) return;
    const detail = (event as CustomEvent).detail;
    const value = detail && typeof detail === "object" && "value" in detail ? detail.value : detail;
    handle.send(value ?? readValue(element));
  };
  element.addEventListener("ui-value-change", onCustom);
  scope.add(() => {
    element.removeEventListener("ui-value-change", onCustom);
    if (valueBindings.get(element) === handle) valueBindings.delete(element);
  });
  if (!field || !writable) return;
  const send = (mode: "user" | "user-soon") => {
    if (!context.store.get(variable.id)) return;
    const now = field.text();
    if (now === shown) return;
    if (field.sends && !field.sends()) return;
    shown = now;
    context.store.write(variable.id, field.read(), mode);
  };
  const limiter = rateLimiter(properties, () => send("user-soon"));
  const onCommit = () => {
    limiter.cancel();
    send("user");
  };
  const events = new Map<string, () => void>();
  for (const name of field.commit) events.set(name, onCommit);
  if (limiter.active) {
    for (const name of field.input) if (!events.has(name)) events.set(name, limiter.trigger);
  }
  for (const [name, listener] of events) element.addEventListener(name, listener);
  const sync = () => {
    limiter.cancel();
    send("user-soon");
  };
  context.fields.add(sync);
  scope.add(() => {
    for (const [name, listener] of events) element.removeEventListener(name, listener);
    limiter.cancel();
    context.fields.delete(sync);
  });
}

/** Calls `run` on input as `?keypress`, `?debounce=MS` or `?throttle=MS` ask. */
interface RateLimiter {
  /** False when input events send nothing (commit only). */
  readonly active: boolean;
  trigger(): void;
  /** Forgets a pending call (the caller sends now). */
  cancel(): void;
}

function rateLimiter(properties: Record<string, string>, run: () => void): RateLimiter {
  const debounce = milliseconds(properties.debounce);
  const throttle = milliseconds(properties.throttle);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  if (debounce !== undefined) {
    return {
      active: true,
      trigger: () => {
        cancel();
        timer = setTimeout(() => {
          timer = undefined;
          run();
        }, debounce);
      },
      cancel,
    };
  }
  if (throttle !== undefined) {
    // Leading call at once, then at most one per period, the last input always sent.
    let last = -Infinity;
    const fire = () => {
      timer = undefined;
      last = performance.now();
      run();
    };
    return {
      active: true,
      trigger: () => {
        if (timer !== undefined) return;
        const wait = last + throttle - performance.now();
        if (wait <= 0) fire();
        else timer = setTimeout(fire, wait);
      },
      cancel,
    };
  }
  const keypress = properties.keypress !== undefined && properties.keypress !== "false";
  return { active: keypress, trigger: run, cancel };
}

function milliseconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (Number.isFinite(value) && value >= 0) return value;
  console.warn(`Ignoring a delay of "${text}": it must be a number of milliseconds`);
  return undefined;
}

function readValue(element: Element): unknown {
  return "value" in element ? (element as { value: unknown }).value ?? null : null;
}

/**
 * Scrolls an element to its end (`?scrollOnOutput`).
 *
 * @example
 * ```ts
 * import { scrollToEnd } from "./value_binding.ts";
 * scrollToEnd(document.body);
 * ```
 */
export function scrollToEnd(element: Element): void {
  if (element.scrollHeight > element.clientHeight) element.scrollTop = element.scrollHeight;
}
