/// <reference lib="dom" />
/**
 * Keyboard bindings: `ui-event-keypress-[mods-]KEY` names a key (`enter`, `escape`, `space`,
 * `tab`, arrows as `left`/`right`/`up`/`down`, `backspace`, `delete`, `home`, `end`,
 * `pageup`, `pagedown`, `f1`..`f12`, or one letter or digit) with optional `ctrl`, `shift`,
 * `alt` and `meta` modifiers, which must match exactly.
 *
 * @module
 */

/** A parsed key binding. */
export interface KeySpec {
  /** The key's name as written (lowercase), e.g. `enter` or `k`. */
  name: string;
  ctrl: boolean;
  shift: boolean;
  alt: boolean;
  meta: boolean;
}

const NAMED: Record<string, string> = {
  enter: "enter",
  return: "enter",
  escape: "escape",
  esc: "escape",
  space: " ",
  tab: "tab",
  left: "arrowleft",
  right: "arrowright",
  up: "arrowup",
  down: "arrowdown",
  backspace: "backspace",
  delete: "delete",
  del: "delete",
  home: "home",
  end: "end",
  pageup: "pageup",
  pagedown: "pagedown",
};

const MODIFIERS = new Set(["ctrl", "shift", "alt", "meta"]);

/**
 * Parses the part after `ui-event-keypress-`, e.g. `ctrl-shift-k`; undefined when malformed.
 *
 * @example
 * ```ts
 * import { parseKeySpec } from "./keys.ts";
 * parseKeySpec("ctrl-enter"); // { name: "enter", ctrl: true, shift: false, alt: false, meta: false }
 * ```
 */
export function parseKeySpec(text: string): KeySpec | undefined {
  const parts = text.toLowerCase().split("-").filter((part) => part !== "");
  const name = parts.pop();
  if (!name || parts.some((part) => !MODIFIERS.has(part))) return undefined;
  return {
    name,
    ctrl: parts.includes("ctrl"),
    shift: parts.includes("shift"),
    alt: parts.includes("alt"),
    meta: parts.includes("meta"),
  };
}

/**
 * True when a keyboard event is the key of a binding, modifiers included.
 *
 * @example
 * ```ts
 * import { keyMatches, parseKeySpec } from "./keys.ts";
 * const spec = parseKeySpec("enter")!;
 * keyMatches(new KeyboardEvent("keydown", { key: "Enter" }), spec); // true
 * ```
 */
export function keyMatches(event: KeyboardEvent, spec: KeySpec): boolean {
  if (event.isComposing) return false;
  if (
    event.ctrlKey !== spec.ctrl || event.altKey !== spec.alt || event.metaKey !== spec.meta ||
    event.shiftKey !== spec.shift
  ) return false;
  const key = event.key.toLowerCase();
  const wanted = NAMED[spec.name] ?? spec.name;
  if (key === wanted) return true;
  // Letters and digits by their physical key too (shifted digits, non-Latin layouts).
  return wanted.length === 1 && (event.code === `Key${wanted.toUpperCase()}` ||
    event.code === `Digit${wanted}`);
}
