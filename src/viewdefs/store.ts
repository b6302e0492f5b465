/**
 * Viewdefs (SPEC 11): templates keyed `TYPE.NAMESPACE`, looked up by type, and the record of
 * which types a connection has already been sent.
 *
 * @module
 */

/**
 * The templates of a site, keyed by file name without `.html` (e.g. `Contact.list-item`).
 *
 * @example
 * ```ts
 * import { ViewdefStore } from "./store.ts";
 * const store = new ViewdefStore(new Map([["App.DEFAULT", "<template>hi</template>"]]));
 * store.forType("App"); // { "App.DEFAULT": "<template>hi</template>" }
 * ```
 */
export class ViewdefStore {
  readonly #templates: Map<string, string>;
  #version = 0;

  /** Creates a store over a key → template map (the map is copied). */
  constructor(templates: ReadonlyMap<string, string> = new Map()) {
    this.#templates = new Map(templates);
  }

  /** Bumped on every change, so sessions can tell that a re-send may be due. */
  get version(): number {
    return this.#version;
  }

  /** Every key. */
  keys(): string[] {
    return [...this.#templates.keys()];
  }

  /** The template of one key. */
  get(key: string): string | undefined {
    return this.#templates.get(key);
  }

  /** Sets or replaces one template. */
  set(key: string, template: string): void {
    this.#templates.set(key, template);
    this.#version++;
  }

  /** Removes one template. */
  delete(key: string): void {
    if (this.#templates.delete(key)) this.#version++;
  }

  /** All namespaces of a type: the keys that start with `TYPE.`. */
  forType(type: string): Record<string, string> {
    const found: Record<string, string> = {};
    if (type === "") return found;
    const prefix = `${type}.`;
    for (const [key, template] of this.#templates) {
      if (key.startsWith(prefix)) found[key] = template;
    }
    return found;
  }
}

/**
 * The type part of a viewdef key: everything before the last dot.
 *
 * @example
 * ```ts
 * import { viewdefType } from "./store.ts";
 * viewdefType("lua.ViewList.DEFAULT"); // "lua.ViewList"
 * ```
 */
export function viewdefType(key: string): string {
  const at = key.lastIndexOf(".");
  return at < 0 ? key : key.slice(0, at);
}
