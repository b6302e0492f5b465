/**
 * What a user's click, typing and key presses dispatch in a page under test, with the browser's
 * default actions the built-in client relies on: a click toggles a checkbox (then `input` and
 * `change`), clicks a label's control and submits a form from its submit button; Enter in a
 * form's text field submits it through its submit button. There is no layout, so there is no
 * hit testing: the event goes to the element the test named.
 *
 * @module
 */
import type { PageEvents } from "./client_page.ts";

/** Keys by name, as Playwright and the DOM name them; anything else is a one-character key. */
const NAMED_KEYS: Record<string, string> = {
  enter: "Enter",
  escape: "Escape",
  esc: "Escape",
  tab: "Tab",
  space: " ",
  backspace: "Backspace",
  delete: "Delete",
  arrowup: "ArrowUp",
  arrowdown: "ArrowDown",
  arrowleft: "ArrowLeft",
  arrowright: "ArrowRight",
  up: "ArrowUp",
  down: "ArrowDown",
  left: "ArrowLeft",
  right: "ArrowRight",
  home: "Home",
  end: "End",
  pageup: "PageUp",
  pagedown: "PageDown",
};

const MODIFIERS: Record<string, "ctrlKey" | "shiftKey" | "altKey" | "metaKey"> = {
  control: "ctrlKey",
  ctrl: "ctrlKey",
  shift: "shiftKey",
  alt: "altKey",
  meta: "metaKey",
  cmd: "metaKey",
};

/**
 * Parses a key as a test names it: `Enter`, `a`, `Shift+Enter`, `Control+k` (Playwright's form).
 *
 * @example
 * ```ts
 * import { parseKey } from "./user_events.ts";
 * parseKey("Control+k"); // { key: "k", code: "KeyK", ctrlKey: true, ... }
 * ```
 */
export function parseKey(text: string): KeyboardEventInit & { key: string } {
  const parts = text.length > 1 ? text.split("+") : [text];
  const last = parts.pop() || "+";
  const init: KeyboardEventInit & { key: string } = {
    key: NAMED_KEYS[last.toLowerCase()] ?? last,
    ctrlKey: false,
    shiftKey: false,
    altKey: false,
    metaKey: false,
  };
  for (const part of parts) {
    const modifier = MODIFIERS[part.toLowerCase()];
    if (!modifier) throw new Error(`Unknown modifier '${part}' in key '${text}'`);
    init[modifier] = true;
  }
  if (init.key.length > 1 && !Object.values(NAMED_KEYS).includes(init.key)) {
    throw new Error(`Unknown key '${last}'; use a key name such as Enter or one character`);
  }
  init.code = codeOf(init.key);
  return init;
}

function codeOf(key: string): string {
  if (/^[a-z]$/i.test(key)) return `Key${key.toUpperCase()}`;
  if (/^[0-9]$/.test(key)) return `Digit${key}`;
  if (key === " ") return "Space";
  return key.length > 1 ? key : "";
}

/** Dispatches a bubbling, cancelable event; true unless a listener prevented its default. */
function fire(events: PageEvents, target: Element, type: string): boolean {
  return target.dispatchEvent(new events.Event(type, { bubbles: true, cancelable: true }));
}

function fireKey(events: PageEvents, target: Element, type: string, init: KeyboardEventInit) {
  const event = new events.KeyboardEvent(type, { ...init, bubbles: true, cancelable: true });
  return target.dispatchEvent(event);
}

function isDisabled(element: Element): boolean {
  return element.hasAttribute("disabled") ||
    (element as HTMLButtonElement).disabled === true ||
    element.closest("fieldset[disabled]") !== null;
}

function isSubmitButton(element: Element): boolean {
  const type = (element.getAttribute("type") ?? "").toLowerCase();
  if (element.localName === "button") return type === "" || type === "submit";
  return element.localName === "input" && (type === "submit" || type === "image");
}

/** A text field: an input that takes typing, or a textarea. */
function isTextField(element: Element): element is HTMLInputElement | HTMLTextAreaElement {
  if (element.localName === "textarea") return true;
  if (element.localName !== "input") return false;
  const type = (element.getAttribute("type") ?? "text").toLowerCase();
  return !["checkbox", "radio", "button", "submit", "reset", "image", "file", "hidden"]
    .includes(type);
}

/**
 * Clicks an element: `click`, then the default action unless a listener prevented it.
 *
 * @example
 * ```ts ignore
 * click(page.events, document.querySelector("button")!);
 * ```
 */
export function click(events: PageEvents, element: Element): void {
  if (isDisabled(element)) throw new Error(`Cannot click a disabled <${element.localName}>`);
  const input = element as HTMLInputElement;
  const type = (element.getAttribute("type") ?? "").toLowerCase();
  const toggles = element.localName === "input" && (type === "checkbox" || type === "radio");
  const before = toggles ? input.checked : false;
  // A checkbox changes before the click's listeners run, and changes back if they cancel.
  if (toggles) input.checked = type === "checkbox" ? !before : true;
  const allowed = fire(events, element, "click");
  if (toggles) {
    if (!allowed) input.checked = before;
    else if (input.checked !== before) {
      fire(events, element, "input");
      fire(events, element, "change");
    }
    return;
  }
  if (!allowed) return;
  if (element.localName === "label") {
    const id = element.getAttribute("for");
    const control = id
      ? element.ownerDocument.getElementById(id)
      : element.querySelector("input, select, textarea, button");
    if (control && control !== element && !isDisabled(control)) click(events, control);
    return;
  }
  const form = element.closest("form");
  if (form && isSubmitButton(element)) fire(events, form, "submit");
}

/**
 * Types text into a field one character at a time (`keydown`, the character, `input`,
 * `keyup`), then commits it with `change`, as leaving the field does.
 *
 * @example
 * ```ts ignore
 * type(page.events, document.querySelector("input")!, "Ada");
 * ```
 */
export function type(events: PageEvents, element: Element, text: string): void {
  const field = textField(element);
  for (const character of text) {
    const init = { key: character, code: codeOf(character) };
    if (fireKey(events, field, "keydown", init)) {
      fireKey(events, field, "keypress", init);
      field.value += character;
      fire(events, field, "input");
    }
    fireKey(events, field, "keyup", init);
  }
  fire(events, field, "change");
}

/**
 * Replaces a field's text at once (one `input`, then `change`), as pasting over it does.
 *
 * @example
 * ```ts ignore
 * fill(page.events, document.querySelector("input")!, "");
 * ```
 */
export function fill(events: PageEvents, element: Element, text: string): void {
  if (element.localName === "select") {
    (element as HTMLSelectElement).value = text;
  } else {
    textField(element).value = text;
  }
  fire(events, element, "input");
  fire(events, element, "change");
}

function textField(element: Element): HTMLInputElement | HTMLTextAreaElement {
  if (!isTextField(element)) {
    throw new Error(`Cannot type into <${element.localName}>: it is not a text field`);
  }
  if (isDisabled(element)) throw new Error(`Cannot type into a disabled <${element.localName}>`);
  return element;
}

/**
 * Presses a key on an element: `keydown`, `keypress` for Enter and characters, `keyup`; Enter in
 * a form's text field clicks the form's submit button, unless the key's default was prevented.
 *
 * @example
 * ```ts ignore
 * press(page.events, document.querySelector("input")!, "Enter");
 * ```
 */
export function press(events: PageEvents, element: Element, key: string): void {
  const init = parseKey(key);
  const allowed = fireKey(events, element, "keydown", init);
  if (allowed && (init.key === "Enter" || init.key.length === 1)) {
    fireKey(events, element, "keypress", init);
    if (init.key === "Enter" && isTextField(element) && element.localName === "input") {
      const form = element.closest("form");
      const submit = form ? [...form.querySelectorAll("*")].find(isSubmitButton) : undefined;
      if (submit && !isDisabled(submit)) click(events, submit);
      else if (form) fire(events, form, "submit");
    }
  }
  fireKey(events, element, "keyup", init);
}
