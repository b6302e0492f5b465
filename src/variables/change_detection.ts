/**
 * Change detection (SPEC 8, the seed's AfterBatch): after each batch, every active variable is
 * recomputed through its path, parents before children; a watched variable whose value JSON,
 * `type` or server-set properties changed gets an update, grouped by priority. Wrappers are
 * re-made here when their variable's value changed (SPEC 9).
 *
 * It reaches values only through a {@link ValueWorld}, and walks the tree iteratively.
 *
 * @module
 */
import { type Failure, FailureError, onVariable } from "../failure.ts";
import type { ValueWorld } from "./value_world.ts";
import type { Priority, Properties, Variable } from "./variable.ts";

/** One `update` to send: the value JSON text when the value is sent, and properties. */
export interface VariableUpdate {
  varId: number;
  /** Value JSON text, when the value is sent. */
  json?: string;
  properties?: Properties;
}

/** What change detection produced: updates by priority (high, medium, low) and errors. */
export interface Changes {
  /** Updates by priority: high, medium, low; parents before children within each. */
  updates: [VariableUpdate[], VariableUpdate[], VariableUpdate[]];
  errors: Failure[];
}

const RESERVED_WIRE_PROPERTIES = new Set(["path"]);
const TOO_LARGE_SOURCE = "\u0000too-large";

/**
 * Recomputes variables and decides what to send.
 *
 * @example
 * ```ts ignore
 * // tests/variables/change_detection_test.ts runs it over a world of plain objects.
 * const detector = new ChangeDetector(world);
 * detector.detect(tree.roots(), changes, sentTypes);
 * ```
 */
export class ChangeDetector<V> {
  readonly #world: ValueWorld<V>;
  /** While refreshing one variable: whether it failed, and whether its errors are muted. */
  #failed = false;
  #quiet = false;
  /** The walk's stacks: variables, and whether each one's errors are muted. */
  readonly #stack: (Variable<V> | undefined)[] = [];
  readonly #quietStack: boolean[] = [];
  #top = 0;

  /** Creates a detector over a value world. */
  constructor(world: ValueWorld<V>) {
    this.#world = world;
  }

  /**
   * Recomputes every active variable, parents before children, and queues into `out` an update
   * for each watched one whose value, type or server-set properties changed. `sentTypes`
   * collects the types sent.
   */
  detect(roots: Iterable<Variable<V>>, out: Changes, sentTypes: Set<string>): void {
    // Below a variable whose type just changed, the client is about to replace its views:
    // errors of the old children's paths on the new value are not worth reporting.
    // Two flat stacks, reused from batch to batch and indexed, never shortened (a shortened
    // array gives back its storage, to be grown again next batch): nothing is allocated per
    // variable.
    const stack = this.#stack;
    const quietStack = this.#quietStack;
    const base = this.#top;
    let top = pushReversed(stack, quietStack, base, [...roots], false);
    try {
      while (top > base) {
        top--;
        const variable = stack[top] as Variable<V>;
        const quiet = quietStack[top] as boolean;
        stack[top] = undefined;
        if (variable.inactive) continue;
        // A refresh can run Lua that reaches change detection again: it stacks above ours.
        this.#top = top;
        const typeChanged = this.#refresh(variable, out, sentTypes, quiet);
        const children = variable.childList;
        if (children.length > 0) {
          top = pushReversed(stack, quietStack, top, children, quiet || typeChanged);
        }
      }
    } finally {
      for (let i = base; i < top; i++) stack[i] = undefined;
      this.#top = base;
    }
  }

  /** Recomputes one variable and queues its update; true when its `type` changed. */
  #refresh(variable: Variable<V>, out: Changes, sentTypes: Set<string>, quiet: boolean): boolean {
    const world = this.#world;
    let json: string | undefined;
    let type = "";
    this.#quiet = quiet;
    this.#failed = false;
    if (variable.readable) {
      // Each variable's getters and wrapper calls are one entry: a runaway getter must not
      // spend the budget of the variables refreshed after it.
      world.beginEntry();
      const path = variable.path;
      const quick = path && world.peek ? world.peek(pathBase(variable), path, variable) : undefined;
      if (quick !== undefined) variable.recordRead(quick);
      else if (path) {
        const read = world.read(pathBase(variable), path);
        if (read.ok) {
          variable.recordRead(read.value);
        } else {
          variable.recordRead(null);
          this.#noteError(variable, read.failure, out);
        }
      }
      let shown = variable.value;
      if (variable.hasWrapper && !ignoredWrapper(variable)) {
        const wrapperName = variable.properties.get("wrapper") as string;
        shown = this.#refreshWrapper(variable, wrapperName, out);
        type = variable.wrapper === null ? "" : world.wrapperType(variable.wrapper, wrapperName);
        json = this.#encode(variable, shown, out);
      } else {
        if (variable.wrapper !== null) this.disposeWrapper(variable);
        const primitive = shown === null || typeof shown !== "object";
        type = primitive ? "" : world.typeOf(shown);
        // The common case: the very value encoded last time, whose JSON cannot have changed
        // (a primitive, or a typed object, sent as a reference). No JSON is built for it.
        json = variable.knownJson(shown, type);
        if (json === undefined) {
          json = this.#encode(variable, shown, out, type);
          variable.recordShown(shown, type, json, primitive || type !== "");
        }
      }
      if (!this.#failed) variable.clearError();
    }
    if (!variable.watched) return false;
    // Nothing is allocated for the common case, a variable that did not change.
    const resend = variable.takeResend();
    const sendJson = json !== undefined && (json !== variable.sentJson || resend);
    if (sendJson) variable.markSentJson(json as string);
    let properties = resend || variable.propertiesChanged
      ? variable.takeProperties(resend, RESERVED_WIRE_PROPERTIES)
      : undefined;
    const typeChanged = json !== undefined && type !== (variable.sentType ?? "");
    if (json !== undefined && (typeChanged || (resend && type !== ""))) {
      properties ??= {};
      properties.type = type;
      variable.markSentType(type);
      if (type !== "") sentTypes.add(type);
    }
    if (!sendJson && properties === undefined) return typeChanged;
    const update: VariableUpdate = { varId: variable.id };
    if (sendJson) update.json = json;
    if (properties !== undefined) update.properties = properties;
    out.updates[updatePriority(variable, properties)].push(update);
    return typeChanged;
  }

  #refreshWrapper(variable: Variable<V>, name: string, out: Changes): V | null {
    const world = this.#world;
    // A value too large to send still gets a source: its wrapper is made once, not each time.
    const source = this.#encode(variable, variable.value, undefined) ?? TOO_LARGE_SOURCE;
    if (variable.wrapperStale(source)) {
      const made = world.wrap(variable, name);
      if (!made.ok) {
        variable.recordWrapper(variable.wrapper, source);
        this.#noteError(variable, made.failure, out);
      } else {
        if (made.value !== variable.wrapper && variable.wrapper !== null) {
          world.dispose(variable, variable.wrapper);
        }
        variable.recordWrapper(made.value, source);
      }
    }
    return variable.wrapper === null ? null : world.wireValue(variable.wrapper);
  }

  /**
   * Value JSON, or undefined when the world refuses it as `too-large` (the value is then not
   * sent and the error is reported once, to `out` when given).
   */
  #encode(
    variable: Variable<V>,
    value: V | null,
    out: Changes | undefined,
    type?: string,
  ): string | undefined {
    try {
      return this.#world.encode(value, type);
    } catch (error) {
      if (!(error instanceof FailureError)) throw error;
      if (out) this.#noteError(variable, error.failure, out);
      else this.#failed = true;
      return undefined;
    }
  }

  #noteError(variable: Variable<V>, cause: Failure, out: Changes): void {
    this.#failed = true;
    if (this.#quiet || !variable.noteError(cause.description)) return;
    out.errors.push(onVariable(cause, variable.id));
  }

  /** Runs a variable's wrapper's `destroy` and forgets it. */
  disposeWrapper(variable: Variable<V>): void {
    if (variable.wrapper !== null) this.#world.dispose(variable, variable.wrapper);
    variable.dropWrapper();
  }
}

/**
 * The value that child paths start from: the wrapper when there is one, else the value.
 *
 * @example
 * ```ts
 * import { navigationValue } from "./change_detection.ts";
 * import { Variable } from "./variable.ts";
 * navigationValue(new Variable({ id: 1, parent: undefined, origin: "lua", value: 5 })); // 5
 * ```
 */
export function navigationValue<V>(variable: Variable<V>): V | null {
  return variable.hasWrapper && !ignoredWrapper(variable) ? variable.wrapper : variable.value;
}

/**
 * The value a variable's path starts from: its parent's navigation value, or further up with `..`.
 *
 * @example
 * ```ts
 * import { pathBase } from "./change_detection.ts";
 * import { Variable } from "./variable.ts";
 * const app = new Variable({ id: 1, parent: undefined, origin: "lua", value: "app" });
 * pathBase(new Variable({ id: 2, parent: app, origin: "frontend" })); // "app"
 * ```
 */
export function pathBase<V>(variable: Variable<V>): V | null {
  let anchor = variable.parent;
  for (let i = variable.pathUp; i > 0 && anchor; i--) anchor = anchor.parent;
  return anchor ? navigationValue(anchor) : null;
}

/** Pushes variables in reverse order at `top`, so that they pop in order; the new top. */
function pushReversed<V>(
  stack: (Variable<V> | undefined)[],
  quietStack: boolean[],
  top: number,
  variables: readonly Variable<V>[],
  quiet: boolean,
): number {
  for (let i = variables.length - 1; i >= 0; i--, top++) {
    stack[top] = variables[i];
    quietStack[top] = quiet;
  }
  return top;
}

/** The variable's priority, raised by the suffix priority of any property the update carries. */
function updatePriority<V>(variable: Variable<V>, properties: Properties | undefined): Priority {
  let priority = variable.priority;
  if (properties && variable.propertyPriority.size > 0) {
    for (const name in properties) {
      const own = variable.propertyPriority.get(name);
      if (own !== undefined && own < priority) priority = own;
    }
  }
  return priority;
}

/**
 * True when a variable's `wrapper` is ignored: list index variables repeat the list's
 * `itemWrapper` as `wrapper` (ui-engine's frontend does), and that one is not made.
 *
 * @example
 * ```ts
 * import { ignoredWrapper } from "./change_detection.ts";
 * import { Variable } from "./variable.ts";
 * const list = new Variable({ id: 2, parent: undefined, origin: "frontend",
 *   properties: new Map([["itemWrapper", "Row"]]) });
 * const item = new Variable({ id: 3, parent: list, origin: "frontend",
 *   properties: new Map([["wrapper", "Row"]]) });
 * ignoredWrapper(item); // true
 * ```
 */
export function ignoredWrapper<V>(variable: Variable<V>): boolean {
  const wrapper = variable.properties.get("wrapper");
  const parent = variable.parent;
  if (wrapper === undefined || !parent) return false;
  return parent.properties.get("itemWrapper") === wrapper ||
    parent.parent?.properties.get("itemWrapper") === wrapper;
}
