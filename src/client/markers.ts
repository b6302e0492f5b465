/**
 * Attributes that start with `ui-` but bind nothing: markers the client and templates use. The
 * server's template scanner (`src/viewdefs/bound_paths.ts`) reads templates the same way.
 *
 * @module
 */

/**
 * The `ui-*` attributes that are markers, not bindings.
 *
 * @example
 * ```ts
 * import { MARKER_ATTRIBUTES } from "./markers.ts";
 * MARKER_ATTRIBUTES.includes("ui-namespace"); // true
 * ```
 */
export const MARKER_ATTRIBUTES: readonly string[] = [
  "ui-namespace",
  "ui-app",
  "ui-viewdef",
  "ui-item-wrapper",
  "ui-error-code",
  "ui-error-description",
  "ui-disable-while-busy",
];
