/**
 * One variable (SPEC 5): its identity, properties, path and access, and the state change
 * detection keeps about it. Every change goes through a method named for its intent, so the
 * variable is the one owner of its state; what hangs off it (property watchers, the value
 * world's handle) lives and dies with it.
 *
 * Values are the value world's (`V`, with `null` for nil): this module never looks inside them.
 *
 * @module
 */
import { FailureError } from "../failure.ts";
import { lastSegment, parsePath, type Path, PathSyntaxError } from "./path.ts";

/** Update priority: 0 high, 1 medium, 2 low. */
export type Priority = 0 | 1 | 2;
/** Variable access modes. */
export type Access = "r" | "w" | "rw" | "action";
/** Who created a variable: the frontend (ids >= 2, dropped on close) or Lua (1 and negative). */
export type Origin = "frontend" | "lua";
/** A property map as sent on the wire. */
export type Properties = Record<string, string>;

/** Priority names accepted in suffixes and the `priority` property. */
export const PRIORITY_NAMES: Record<string, Priority> = {
  high: 0,
  med: 1,
  medium: 1,
  low: 2,
};

/** No value recorded: unlike any value, `undefined` included. */
const NOTHING = Symbol("nothing");

// deno-lint-ignore no-explicit-any
const NO_CHILDREN: ReadonlySet<Variable<any>> = new Set();
// deno-lint-ignore no-explicit-any
const NO_CHILD_LIST: readonly Variable<any>[] = [];
const NO_WATCHERS: readonly never[] = [];

const ACCESS = new Set<Access>(["r", "w", "rw", "action"]);

/**
 * Splits a property name from its priority suffix (`name:high`).
 *
 * @example
 * ```ts
 * import { splitPriority } from "./variable.ts";
 * splitPriority("value:high"); // ["value", 0]
 * splitPriority("path"); // ["path", undefined]
 * ```
 */
export function splitPriority(name: string): [string, Priority | undefined] {
  const at = name.lastIndexOf(":");
  if (at < 0) return [name, undefined];
  const priority = PRIORITY_NAMES[name.slice(at + 1)];
  return priority === undefined ? [name, undefined] : [name.slice(0, at), priority];
}

/**
 * Parses a variable's `path` property; a syntax error is a `path-failure`.
 *
 * @example
 * ```ts
 * import { parseVariablePath } from "./variable.ts";
 * parseVariablePath("contacts.0.name").segments.length; // 3
 * ```
 */
export function parseVariablePath(text: string, varId?: number): Path {
  try {
    return parsePath(text);
  } catch (error) {
    if (error instanceof PathSyntaxError) {
      throw new FailureError("path-failure", error.message, varId);
    }
    throw error;
  }
}

/**
 * The access a variable gets: the given one, checked against its path (SPEC 5), or the default
 * (`action` for a `(_)` path, `rw` otherwise).
 *
 * @example
 * ```ts
 * import { accessFor } from "./variable.ts";
 * import { parsePath } from "./path.ts";
 * accessFor(undefined, parsePath("rename(_)")); // "action"
 * ```
 */
export function accessFor(raw: string | undefined, path: Path | undefined, varId?: number): Access {
  const last = path ? lastSegment(path) : undefined;
  const isSetter = last?.kind === "call" && last.withValue;
  const isGetter = last?.kind === "call" && !last.withValue;
  const access = (raw ?? (isSetter ? "action" : "rw")) as Access;
  if (!ACCESS.has(access)) {
    throw new FailureError("bad-access", `Unknown access '${raw}'`, varId);
  }
  if (isGetter && access === "w") {
    throw new FailureError("bad-access", "A path ending in '()' must be r, rw or action", varId);
  }
  if (isSetter && access !== "w" && access !== "action") {
    throw new FailureError("bad-access", "A path ending in '(_)' must be w or action", varId);
  }
  return access;
}

/** The fields needed to make a variable. */
export interface NewVariable<V> {
  id: number;
  parent: Variable<V> | undefined;
  origin: Origin;
  properties?: Map<string, string>;
  propertyPriority?: Map<string, Priority>;
  path?: Path;
  access?: Access;
  value?: V | null;
  /** Watched from the start (a frontend `create` without `nowatch`). */
  watched?: boolean;
}

/**
 * A variable of one session.
 *
 * @example
 * ```ts
 * import { Variable } from "./variable.ts";
 * const app = new Variable<string>({ id: 1, parent: undefined, origin: "lua", value: "hello" });
 * app.watch();
 * app.watched; // true
 * ```
 */
export class Variable<V> {
  // Fields in the order change detection reads them on every batch, the hot ones first: they
  // share the object's first cache lines. Sets and maps most variables never fill are made on
  // first use: fewer objects per variable keep that walk in cache.
  #inactive = false;
  #access: Access;
  #hasWrapper = false;
  #path: Path | undefined;
  /** The path's leading `..` steps, kept here: the path itself need not be reached for them. */
  #up = 0;
  readonly parent: Variable<V> | undefined;
  /** The value world's cache of reads of this variable's path (opaque here; see `peek`). */
  readMemo: unknown = undefined;
  #value: V | null;
  /** The value last encoded, its value JSON and `type`: an identical value needs no encoding. */
  #shown: unknown = NOTHING;
  #shownType = "";
  #shownJson: string | undefined;
  #lastError: string | undefined;
  #watchers = 0;
  #resendAll = false;
  #changedProperties: Set<string> | undefined;
  /** Value JSON last sent (or written by the client); `undefined` before the first send. */
  #json: string | undefined;
  #sentType: string | undefined;
  /** The children as an array, for change detection's walk; made again after a change. */
  #childList: readonly Variable<V>[] | undefined;
  #wrapper: V | null = null;
  #priority: Priority = 1;
  readonly id: number;
  #children: Set<Variable<V>> | undefined;
  readonly origin: Origin;
  /**
   * Current properties, names without priority suffixes; changed only through the methods below,
   * which keep the flags change detection reads on every batch.
   */
  readonly properties: ReadonlyMap<string, string>;
  /** Priorities given with a property's suffix. */
  readonly propertyPriority: Map<string, Priority>;
  /** Value JSON of the value the wrapper was made for; a change re-runs the factory. */
  #wrapperSource: string | undefined;
  #propertyWatchers: Map<string, V[]> | undefined;
  /** The value world's handle for this variable (wrapper factories get it), made on demand. */
  handle: V | null = null;

  /** Makes a variable; it joins no tree until {@link VariableTree.add}. */
  constructor(spec: NewVariable<V>) {
    this.#access = spec.access ?? "rw";
    this.#path = spec.path;
    this.#up = spec.path?.up ?? 0;
    this.parent = spec.parent;
    this.#value = spec.value ?? null;
    this.id = spec.id;
    this.origin = spec.origin;
    this.properties = spec.properties ?? new Map();
    this.propertyPriority = spec.propertyPriority ?? new Map();
    if (spec.watched) this.#watchers = 1;
    this.#noteFlags();
  }

  /** Recomputes the flags kept from the properties. */
  #noteFlags(): void {
    const properties = this.properties;
    const inactive = properties.get("inactive");
    this.#inactive = inactive !== undefined && inactive !== "false" && inactive !== "";
    this.#priority = PRIORITY_NAMES[properties.get("priority") ?? "medium"] ?? 1;
    this.#hasWrapper = properties.has("wrapper");
  }

  #setProperty(name: string, value: string): void {
    (this.properties as Map<string, string>).set(name, value);
    if (name === "inactive" || name === "priority" || name === "wrapper") this.#noteFlags();
  }

  /** The variables made under this one, in creation order. */
  get children(): ReadonlySet<Variable<V>> {
    return this.#children ?? NO_CHILDREN;
  }

  /** {@link children} as an array (iterating a set on every batch costs more than an index). */
  get childList(): readonly Variable<V>[] {
    return this.#childList ??= this.#children ? [...this.#children] : NO_CHILD_LIST;
  }

  /** Joins a child to this variable (see {@link VariableTree.add}). */
  addChild(child: Variable<V>): void {
    (this.#children ??= new Set()).add(child);
    this.#childList = undefined;
  }

  /** Removes a child (see {@link VariableTree.remove}). */
  removeChild(child: Variable<V>): void {
    this.#children?.delete(child);
    this.#childList = undefined;
  }

  /** Parsed `path` property, when the value comes through a path. */
  get path(): Path | undefined {
    return this.#path;
  }

  /** How many `..` steps lead the path (0 without a path). */
  get pathUp(): number {
    return this.#up;
  }

  /** How the client may use the variable. */
  get access(): Access {
    return this.#access;
  }

  /** The value at the path, or the value the app or client gave. */
  get value(): V | null {
    return this.#value;
  }

  /** The wrapper standing in for the value, if any. */
  get wrapper(): V | null {
    return this.#wrapper;
  }

  /** Value JSON last sent to (or written by) the client. */
  get sentJson(): string | undefined {
    return this.#json;
  }

  /** `type` last sent. */
  get sentType(): string | undefined {
    return this.#sentType;
  }

  /** True while the connection watches it. */
  get watched(): boolean {
    return this.#watchers > 0;
  }

  /** How many watches the connection holds on it. */
  get watchCount(): number {
    return this.#watchers;
  }

  /** The error last reported for it, while its refreshes keep failing. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** True unless the variable is write-only (`w`) or an `action`. */
  get readable(): boolean {
    return this.#access !== "w" && this.#access !== "action";
  }

  /** True while an `inactive` property holds: no updates for it or its subtree. */
  get inactive(): boolean {
    return this.#inactive;
  }

  /** The update priority from the `priority` property. */
  get priority(): Priority {
    return this.#priority;
  }

  /** True when a `wrapper` property is set (whether or not it is ignored). */
  get hasWrapper(): boolean {
    return this.#hasWrapper;
  }

  /** True when the server changed properties since the last flush. */
  get propertiesChanged(): boolean {
    return this.#changedProperties !== undefined && this.#changedProperties.size > 0;
  }

  /**
   * The value JSON last encoded for `value` with this `type`, when `value` is the very value
   * encoded then (a primitive, or a typed object, whose JSON is its reference); else undefined.
   */
  knownJson(value: V | null, type: string): string | undefined {
    if (value !== this.#shown || type !== this.#shownType) return undefined;
    return this.#shownJson;
  }

  /**
   * Records the value JSON of a value for {@link knownJson}; `reusable` is false for a value
   * whose JSON may change while it stays the same object (an untyped table).
   */
  recordShown(value: V | null, type: string, json: string | undefined, reusable: boolean): void {
    this.#shown = reusable && json !== undefined ? value : NOTHING;
    this.#shownType = type;
    this.#shownJson = json;
  }

  /** A `watch`: counts it and resends value and properties with the next flush. */
  watch(): void {
    this.#watchers++;
    this.#resendAll = true;
  }

  /** An `unwatch`. */
  unwatch(): void {
    this.#watchers = Math.max(0, this.#watchers - 1);
  }

  /** A new value from outside a path (the app re-pointing it, a presenter instance). */
  assign(value: V | null): void {
    this.#value = value;
  }

  /** The value just read through the path. */
  recordRead(value: V | null): void {
    this.#value = value;
  }

  /** The client wrote this value (value JSON): it is not echoed back. */
  recordClientWrite(json: string): void {
    this.#json = json;
  }

  /**
   * A property set by the client; `path` and `access` are validated first, so a bad one
   * changes nothing.
   */
  setClientProperty(name: string, value: string, priority: Priority | undefined): void {
    if (name === "path") {
      this.#path = parseVariablePath(value, this.id);
      this.#up = this.#path.up;
      this.#json = undefined;
      this.readMemo = undefined;
    } else if (name === "access") {
      this.#access = accessFor(value, this.#path, this.id);
    }
    if (priority !== undefined) this.propertyPriority.set(name, priority);
    this.#setProperty(name, value);
  }

  /** A property set by the server; sent with the next flush when it changed. */
  setServerProperty(name: string, value: string): void {
    if (this.properties.get(name) === value) return;
    this.#setProperty(name, value);
    (this.#changedProperties ??= new Set()).add(name);
  }

  /** Makes the value come from `create=`: the path is no longer read. */
  holdInstance(value: V | null): void {
    this.#path = undefined;
    this.#up = 0;
    this.readMemo = undefined;
    this.#value = value;
  }

  /**
   * What to send of the properties: all of them after a `watch`, else those the server changed
   * since the last flush; `undefined` when nothing. Clears the record of changes.
   */
  takeProperties(resend: boolean, reserved: ReadonlySet<string>): Properties | undefined {
    let properties: Properties | undefined;
    if (resend) {
      for (const [name, value] of this.properties) {
        if (!reserved.has(name)) (properties ??= {})[name] = value;
      }
    } else if (this.#changedProperties !== undefined && this.#changedProperties.size > 0) {
      properties = {};
      for (const name of this.#changedProperties) {
        properties[name] = this.properties.get(name) ?? "";
      }
    }
    if (this.#changedProperties !== undefined) this.#changedProperties = undefined;
    return properties;
  }

  /** True once after a `watch`: the next flush resends everything. */
  takeResend(): boolean {
    const resend = this.#resendAll;
    this.#resendAll = false;
    return resend;
  }

  /** Records the value JSON sent. */
  markSentJson(json: string): void {
    this.#json = json;
  }

  /** Records the `type` sent. */
  markSentType(type: string): void {
    this.#sentType = type;
  }

  /** True when this wrapper source differs from the one the wrapper was made for. */
  wrapperStale(source: string): boolean {
    return this.#wrapperSource !== source || this.#wrapper === null;
  }

  /** The wrapper was (re)made for a value whose value JSON is `source`. */
  recordWrapper(wrapper: V | null, source: string): void {
    this.#wrapper = wrapper;
    this.#wrapperSource = source;
  }

  /** The wrapper went away (replaced, disposed, or no longer wanted). */
  dropWrapper(): V | null {
    const wrapper = this.#wrapper;
    this.#wrapper = null;
    return wrapper;
  }

  /** Notes an error; true when it is new (a failing getter is reported once per message). */
  noteError(description: string): boolean {
    if (this.#lastError === description) return false;
    this.#lastError = description;
    return true;
  }

  /** The variable refreshed without an error. */
  clearError(): void {
    this.#lastError = undefined;
  }

  /** `session:watchProperty`: `fn` runs when the client changes the property. */
  watchProperty(name: string, fn: V): void {
    this.#propertyWatchers ??= new Map();
    const list = this.#propertyWatchers.get(name) ?? [];
    list.push(fn);
    this.#propertyWatchers.set(name, list);
  }

  /** The watchers of a property. */
  propertyWatchers(name: string): readonly V[] {
    return this.#propertyWatchers?.get(name) ?? NO_WATCHERS;
  }

  /** The connection went away: forget what it was sent and what it watched. */
  forgetConnection(): void {
    this.#watchers = 0;
    this.#json = undefined;
    this.#sentType = undefined;
    this.#lastError = undefined;
  }
}
