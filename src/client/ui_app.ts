/// <reference lib="dom" />
/**
 * `window.uiApp`, the script API of ui-engine's frontend: `updateValue(elementId, value?)`
 * sends a value through an element's `ui-value` binding (its own `value` when none is given),
 * `getStore()` is the variable store, `getBinding().getWidget(elementId)` an element's bindings.
 *
 * @module
 */
import type { ClientContext } from "./context.ts";
import type { VariableStore } from "./store.ts";
import { valueBindings } from "./value_binding.ts";
import { getWidget, type Widget } from "./widgets.ts";

/** The object scripts see as `window.uiApp`. */
export interface UiApp {
  /** Sends `value` (or the element's `value`) through the element's `ui-value` binding. */
  updateValue(elementId: string, value?: unknown): void;
  /** The variable store (`get(id)` gives a variable's value and properties). */
  getStore(): VariableStore;
  /** The binding registry. */
  getBinding(): { getWidget(elementId: string): Widget | undefined };
}

/**
 * Creates the API over a page's context.
 *
 * @example
 * ```ts
 * // (globalThis as { uiApp?: UiApp }).uiApp = createUiApp(context);
 * ```
 */
export function createUiApp(context: ClientContext): UiApp {
  return {
    updateValue(elementId, value) {
      const element = document.getElementById(elementId);
      // No-op for an element without a ui-value binding, as in ui-engine.
      if (element) valueBindings.get(element)?.send(value);
    },
    getStore: () => context.store,
    getBinding: () => ({ getWidget }),
  };
}
