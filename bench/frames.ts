/**
 * The frames every bench client sends: watch the app variable, and bind the bench site's
 * counter, its click action, the text field and its echo.
 *
 * @module
 */

/** Variable ids the bench clients give their bindings. */
export const COUNT_ID = 2;
/** The `click()` action. */
export const CLICK_ID = 3;
/** The writable `text` field. */
export const TEXT_ID = 4;
/** `shown()`, the text as the app shows it. */
export const SHOWN_ID = 5;

/**
 * A `create` of a child of the app variable.
 *
 * @example
 * ```ts
 * import { create } from "./frames.ts";
 * create(2, { path: "count", access: "r" });
 * ```
 */
export function create(id: number, properties: Record<string, string>) {
  return { type: "create", data: { id, parentId: 1, properties } };
}

/** `watch 1`, as the first frame of a session. */
export const WATCH_FRAME: string = JSON.stringify({
  userEvent: true,
  messages: [{ type: "watch", data: { varId: 1 } }],
});

/** The four bindings of a bench session. */
export const BIND_FRAME: string = JSON.stringify({
  userEvent: true,
  messages: [
    create(COUNT_ID, { path: "count", access: "r" }),
    create(CLICK_ID, { path: "click()", access: "action" }),
    create(TEXT_ID, { path: "text", access: "rw" }),
    create(SHOWN_ID, { path: "shown()", access: "r" }),
  ],
});
