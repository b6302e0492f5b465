/**
 * Viewdefs (SPEC 11): templates keyed `TYPE.NAMESPACE`, looked up by type, and the record of
 * which types a connection has already been sent.
 *
 * @module
 */
import { itemWrappersOf, TypeBindings } from "./bound_paths.ts";

const NO_BINDINGS = new TypeBindings([]);

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
  /** Bindings by type and the item wrappers, scanned on demand for {@link #scannedVersion}. */
  #bindings = new Map<string, TypeBindings>();
  #itemWrappers: ReadonlySet<string> | undefined;
  #scannedVersion = 0;

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

  /**
   * The paths the templates of a type bind (all its namespaces), scanned once per change of
   * the templates.
   */
  bindings(type: string): TypeBindings {
    this.#forgetScansIfChanged();
    let bindings = this.#bindings.get(type);
    if (bindings) return bindings;
    const templates = Object.values(this.forType(type));
    // Types without templates are not remembered: a value's type may come from user data.
    if (templates.length === 0) return NO_BINDINGS;
    bindings = new TypeBindings(templates);
    this.#bindings.set(type, bindings);
    return bindings;
  }

  /** Every `ui-item-wrapper` value of every template, scanned once per change of the templates. */
  itemWrappers(): ReadonlySet<string> {
    this.#forgetScansIfChanged();
    return this.#itemWrappers ??= itemWrappersOf(this.#templates.values());
  }

  #forgetScansIfChanged(): void {
    if (this.#scannedVersion === this.#version) return;
    this.#scannedVersion = this.#version;
    this.#bindings = new Map();
    this.#itemWrappers = undefined;
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
