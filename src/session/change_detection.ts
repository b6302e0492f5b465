/**
 * Change detection (SPEC 8, the seed's AfterBatch): after each batch, every active variable is
 * recomputed through its path, parents before children; a watched variable whose value JSON,
 * `type` or server-set properties changed gets an update, grouped by priority. Wrappers are
 * re-made here when their variable's value changed (SPEC 9).
 *
 * @module
 */
import { type NavigationFailure, readSegments } from "../lua/navigate.ts";
import type { LuaValue, LuaVm } from "../lua/vm.ts";
import type { WrapperHost } from "../lua/wrappers.ts";
import type { Outgoing, OutgoingUpdate } from "../protocol/batcher.ts";
import { errorData, type Properties } from "../protocol/messages.ts";
import { type Priority, PRIORITY_NAMES, type Variable } from "../variables/tree.ts";
import { typeOf, valueJson } from "../variables/value_json.ts";

const RESERVED_WIRE_PROPERTIES = new Set(["path"]);

/**
 * Recomputes variables and decides what to send.
 *
 * @example
 * ```ts
 * // const detector = new ChangeDetector(vm, wrapperHost);
 * // detector.detect(tree.roots(), out, sentTypes);
 * ```
 */
export class ChangeDetector {
  readonly #vm: LuaVm;
  readonly #wrappers: WrapperHost;
  /** While refreshing one variable: whether it failed, and whether its errors are muted. */
  #failed = false;
  #quiet = false;

  /** Creates a detector over a VM and the session's wrappers. */
  constructor(vm: LuaVm, wrappers: WrapperHost) {
    this.#vm = vm;
    this.#wrappers = wrappers;
  }

  /** The value that child paths start from: the wrapper when there is one, else the value. */
  navigationValue(variable: Variable): LuaValue {
    return variable.properties.has("wrapper") && !ignoredWrapper(variable)
      ? variable.wrapper
      : variable.value;
  }

  /** The navigation value a variable's path starts from (its parent's, or further up with `..`). */
  base(variable: Variable): LuaValue {
    let anchor = variable.parent;
    for (let i = 0; i < (variable.path?.up ?? 0) && anchor; i++) anchor = anchor.parent;
    return anchor ? this.navigationValue(anchor) : null;
  }

  /**
   * Recomputes every active variable, parents before children, and queues into `out` an update
   * for each watched one whose value, type or server-set properties changed. `sentTypes`
   * collects the types sent.
   */
  detect(roots: Iterable<Variable>, out: Outgoing, sentTypes: Set<string>): void {
    // Below a variable whose type just changed, the client is about to replace its views:
    // errors of the old children's paths on the new value are not worth reporting.
    const visit = (variable: Variable, quiet: boolean): void => {
      if (isInactive(variable)) return;
      const typeChanged = this.#refresh(variable, out, sentTypes, quiet);
      for (const child of variable.children) visit(child, quiet || typeChanged);
    };
    for (const root of [...roots]) visit(root, false);
  }

  /** Recomputes one variable and queues its update; true when its `type` changed. */
  #refresh(variable: Variable, out: Outgoing, sentTypes: Set<string>, quiet: boolean): boolean {
    let json: string | undefined;
    let type = "";
    this.#quiet = quiet;
    this.#failed = false;
    if (readable(variable)) {
      // Each variable's getters and wrapper calls are one entry into Lua: a runaway getter
      // must not spend the instruction budget of the variables refreshed after it.
      this.#vm.beginEntry();
      if (variable.path) {
        const read = readSegments(this.#vm, this.base(variable), variable.path.segments);
        if (read.ok) {
          variable.value = read.value;
        } else {
          variable.value = null;
          this.#noteError(variable, read.failure, out);
        }
      }
      let shown = variable.value;
      const wrapperName = variable.properties.get("wrapper");
      if (wrapperName !== undefined && !ignoredWrapper(variable)) {
        shown = this.#refreshWrapper(variable, wrapperName, out);
        type = variable.wrapper === null
          ? ""
          : this.#wrappers.wrapperType(variable.wrapper, wrapperName);
      } else {
        if (variable.wrapper !== null) this.disposeWrapper(variable);
        type = typeOf(this.#vm, shown);
        json = valueJson(this.#vm, shown, type);
      }
      json ??= valueJson(this.#vm, shown);
      if (!this.#failed) variable.lastError = undefined;
    }
    if (variable.watchers === 0) return false;
    // Nothing is allocated for the common case, a variable that did not change.
    const resend = variable.resendAll;
    const sendJson = json !== undefined && (json !== variable.json || resend);
    if (sendJson) variable.json = json;
    let properties: Properties | undefined;
    let hasProperties = false;
    if (resend) {
      properties = {};
      for (const [name, value] of variable.properties) {
        if (!RESERVED_WIRE_PROPERTIES.has(name)) properties[name] = value;
      }
      hasProperties = Object.keys(properties).length > 0;
    } else if (variable.changedProperties.size > 0) {
      properties = {};
      for (const name of variable.changedProperties) {
        properties[name] = variable.properties.get(name) ?? "";
      }
      hasProperties = true;
    }
    if (variable.changedProperties.size > 0) variable.changedProperties.clear();
    const typeChanged = json !== undefined && type !== (variable.sentType ?? "");
    if (json !== undefined && (typeChanged || (resend && type !== ""))) {
      properties ??= {};
      properties.type = type;
      hasProperties = true;
      variable.sentType = type;
      if (type !== "") sentTypes.add(type);
    }
    variable.resendAll = false;
    if (!sendJson && !hasProperties) return typeChanged;
    const update: OutgoingUpdate = { varId: variable.id };
    if (sendJson) update.json = json;
    if (hasProperties) update.properties = properties;
    out.updates[updatePriority(variable, properties)].push(update);
    return typeChanged;
  }

  #refreshWrapper(variable: Variable, name: string, out: Outgoing): LuaValue {
    const rawJson = valueJson(this.#vm, variable.value);
    const stale = variable.wrapperSource !== rawJson || variable.wrapper === null;
    if (stale) {
      variable.wrapperSource = rawJson;
      const made = this.#wrappers.wrap(variable, name);
      if (!made.ok) {
        this.#noteError(variable, made.failure, out);
      } else if (made.value !== variable.wrapper) {
        if (variable.wrapper !== null) this.#wrappers.dispose(variable, variable.wrapper);
        variable.wrapper = made.value;
      }
    }
    return variable.wrapper === null ? null : this.#wrappers.wireValue(variable.wrapper);
  }

  #noteError(variable: Variable, failure: NavigationFailure, out: Outgoing): void {
    this.#failed = true;
    if (this.#quiet || variable.lastError === failure.description) return;
    variable.lastError = failure.description;
    out.errors.push(errorData(failure.code, failure.description, variable.id));
  }

  /** Runs a variable's wrapper's `destroy` and forgets it. */
  disposeWrapper(variable: Variable): void {
    if (variable.wrapper !== null) this.#wrappers.dispose(variable, variable.wrapper);
    variable.wrapper = null;
  }
}

/** True unless the variable is write-only (`w`) or an `action`. */
export function readable(variable: Variable): boolean {
  return variable.access !== "w" && variable.access !== "action";
}

function isInactive(variable: Variable): boolean {
  const inactive = variable.properties.get("inactive");
  return inactive !== undefined && inactive !== "false" && inactive !== "";
}

function priorityOf(variable: Variable): Priority {
  return PRIORITY_NAMES[variable.properties.get("priority") ?? "medium"] ?? 1;
}

/** The variable's priority, raised by the suffix priority of any property the update carries. */
function updatePriority(variable: Variable, properties: Properties | undefined): Priority {
  let priority = priorityOf(variable);
  if (properties && variable.propertyPriority.size > 0) {
    for (const name in properties) {
      const own = variable.propertyPriority.get(name);
      if (own !== undefined && own < priority) priority = own;
    }
  }
  return priority;
}

/** List index variables repeat the list's `itemWrapper` as `wrapper`; that one is ignored. */
function ignoredWrapper(variable: Variable): boolean {
  const wrapper = variable.properties.get("wrapper");
  const parent = variable.parent;
  if (wrapper === undefined || !parent) return false;
  return parent.properties.get("itemWrapper") === wrapper ||
    parent.parent?.properties.get("itemWrapper") === wrapper;
}
