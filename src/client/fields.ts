/// <reference lib="dom" />
/**
 * How `ui-value` reads and writes each kind of element: native form fields, Shoelace
 * components (as ui-engine's frontend handles them), and the rule for any other custom element
 * (its `value` property, and a `ui-value-change` event when the user changes it).
 *
 * @module
 */

/** One element's value, as `ui-value` sees it. */
export interface Field {
  /** The value to send (numbers stay numbers, checkboxes send booleans). */
  read(): unknown;
  /** Shows a value from the server. */
  write(value: unknown): void;
  /** A comparable form of what the field shows (an edit is a difference). */
  text(): string;
  /** Events after which the edit is sent. */
  readonly commit: readonly string[];
  /** Events sent at once with `?keypress` (then debounced or throttled if asked). */
  readonly input: readonly string[];
  /** False for elements that only show a value (`access=r` by default). */
  readonly editable: boolean;
  /** A radio button sends only when it becomes checked. */
  readonly sends?: () => boolean;
}

type Props = Record<string, unknown>;

/** Shoelace components that show a value but take no input (ui-engine defaults them to `r`). */
const READ_ONLY_SHOELACE = new Set([
  "sl-copy-button",
  "sl-option",
  "sl-progress-bar",
  "sl-progress-ring",
  "sl-qr-code",
]);
/** Shoelace components with a `checked` property. */
const CHECKED_SHOELACE = new Set(["sl-checkbox", "sl-switch"]);
/** Shoelace components whose value is a number. */
const NUMBER_SHOELACE = new Set(["sl-rating", "sl-range"]);
/** Shoelace components that show their value as text, like a plain element. */
const TEXT_SHOELACE = new Set(["sl-badge", "sl-button", "sl-tag", "sl-tooltip"]);

const NOT_EDITABLE = new Set(["button", "submit", "reset", "image", "file", "hidden"]);
const NATIVE_COMMIT = ["change", "blur"];
const SHOELACE_COMMIT = ["sl-change", "sl-blur"];

/**
 * The field of an element, or undefined for an element that shows its value as text.
 *
 * @example
 * ```ts
 * import { fieldFor } from "./fields.ts";
 * const input = document.createElement("input");
 * fieldFor(input)?.write("Ada");
 * input.value; // "Ada"
 * ```
 */
export function fieldFor(element: Element): Field | undefined {
  if (element instanceof HTMLInputElement) return nativeInput(element);
  if (element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) {
    return valueField(element as unknown as Props, NATIVE_COMMIT, ["input"], textValue, true);
  }
  const tag = element.localName;
  if (!tag.includes("-") || TEXT_SHOELACE.has(tag)) return undefined;
  const props = element as unknown as Props;
  if (CHECKED_SHOELACE.has(tag)) {
    return {
      read: () => Boolean(props.checked),
      write: (value) => props.checked = Boolean(value),
      text: () => String(Boolean(props.checked)),
      commit: ["sl-change"],
      input: ["sl-change"],
      editable: true,
    };
  }
  if (NUMBER_SHOELACE.has(tag)) {
    return valueField(props, ["sl-change"], ["sl-input", "sl-change"], numberValue, true);
  }
  if (tag === "sl-select") {
    const read = () => Array.isArray(props.value) ? props.value : textValue(props.value);
    return {
      read,
      write: (value) => props.value = Array.isArray(value) ? value : showText(value),
      text: () => JSON.stringify(read()),
      commit: ["sl-change"],
      input: ["sl-input", "sl-change"],
      editable: true,
    };
  }
  if (tag.startsWith("sl-")) {
    const editable = !READ_ONLY_SHOELACE.has(tag);
    const read = () => props.type === "number" ? numberValue(props.value) : textValue(props.value);
    return valueField(props, SHOELACE_COMMIT, ["sl-input"], read, editable);
  }
  // Any other custom element: its `value` property; its `ui-value-change` event sends (the
  // binding listens to that event on every element).
  return valueField(props, [], [], (value) => value ?? null, true);
}

function nativeInput(input: HTMLInputElement): Field | undefined {
  const type = input.type;
  if (type === "checkbox" || type === "radio") {
    return {
      read: () => type === "checkbox" ? input.checked : input.value,
      write: (value) => {
        input.checked = type === "checkbox" ? Boolean(value) : showText(value) === input.value;
      },
      text: () => String(input.checked),
      commit: ["change"],
      input: ["change"],
      editable: true,
      sends: () => type === "checkbox" || input.checked,
    };
  }
  if (NOT_EDITABLE.has(type)) return undefined;
  const numeric = type === "number" || type === "range";
  return {
    read: () =>
      numeric && input.value !== "" && Number.isFinite(input.valueAsNumber)
        ? input.valueAsNumber
        : input.value,
    write: (value) => {
      const wanted = showText(value);
      if (input.value !== wanted) input.value = wanted;
    },
    text: () => input.value,
    commit: NATIVE_COMMIT,
    input: ["input"],
    editable: true,
  };
}

/** A field whose state is its `value` property, read through `convert`. */
function valueField(
  props: Props,
  commit: readonly string[],
  input: readonly string[],
  convert: (value: unknown) => unknown,
  editable: boolean,
): Field {
  const read = () => convert(props.value);
  return {
    read,
    write: (value) => {
      // Numbers stay numbers (sl-rating, sl-range); nothing shows as "".
      const wanted = typeof value === "number" || typeof value === "string"
        ? value
        : value === null || value === undefined
        ? ""
        : typeof value === "boolean"
        ? String(value)
        : value;
      if (props.value !== wanted) props.value = wanted;
    },
    text: () => JSON.stringify(read() ?? null),
    commit,
    input,
    editable,
  };
}

function textValue(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

function numberValue(value: unknown): unknown {
  if (typeof value === "number") return value;
  const text = textValue(value);
  const number = Number(text);
  return text.trim() !== "" && Number.isFinite(number) ? number : text;
}

/**
 * How a value shows as text: strings, numbers and booleans as themselves; null, objects and
 * arrays as nothing.
 *
 * @example
 * ```ts
 * import { showText } from "./fields.ts";
 * showText(42); // "42"
 * showText(null); // ""
 * ```
 */
export function showText(value: unknown): string {
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
