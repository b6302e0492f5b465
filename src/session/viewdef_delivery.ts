/**
 * Which viewdefs a session's connection has: each batch carries the templates of the types it
 * shows for the first time, a hot-reloaded template goes only to a connection that has its type,
 * and a new connection starts with none.
 *
 * @module
 */
import type { Outgoing } from "../protocol/outgoing.ts";
import type { ViewdefStore } from "../viewdefs/store.ts";
import { viewdefType } from "../viewdefs/store.ts";

/** One connection's viewdefs, as {@link createViewdefDelivery} tracks them. */
export interface ViewdefDelivery {
  /** Adds to `out` the templates of `types` not sent yet; a type with none goes to `missing`. */
  add(types: Iterable<string>, out: Outgoing): void;
  /** The template under `key` when the connection has its type (a hot reload), else undefined. */
  resend(key: string): string | undefined;
  /** A new connection: nothing has been sent to it. */
  reset(): void;
}

/**
 * Makes the tracker over a site's viewdefs; `missing` hears of a type without templates.
 *
 * @example
 * ```ts
 * import { createViewdefDelivery } from "./viewdef_delivery.ts";
 * import { ViewdefStore } from "../viewdefs/store.ts";
 * import { emptyOutgoing } from "../protocol/outgoing.ts";
 * const store = new ViewdefStore(new Map([["App.DEFAULT", "<template>hi</template>"]]));
 * const delivery = createViewdefDelivery(store, (type) => console.log("no viewdef:", type));
 * const out = emptyOutgoing();
 * delivery.add(["App", "Other"], out); // out.viewdefs has App.DEFAULT; logs Other
 * delivery.resend("App.DEFAULT"); // "<template>hi</template>"
 * ```
 */
export function createViewdefDelivery(
  viewdefs: ViewdefStore,
  missing: (type: string, out: Outgoing) => void,
): ViewdefDelivery {
  const sentTypes = new Set<string>();
  return {
    add(types, out) {
      for (const type of types) {
        if (sentTypes.has(type)) continue;
        sentTypes.add(type);
        const found = viewdefs.forType(type);
        if (Object.keys(found).length > 0) out.viewdefs = { ...out.viewdefs, ...found };
        else missing(type, out);
      }
    },
    resend(key) {
      return sentTypes.has(viewdefType(key)) ? viewdefs.get(key) : undefined;
    },
    reset() {
      sentTypes.clear();
    },
  };
}
