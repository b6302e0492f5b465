/**
 * The per-session variable tree (SPEC 5): variables with their properties, priorities, watch
 * tallies and last-sent state, linked parent to child.
 *
 * @module
 */
import type { LuaValue } from "../lua/vm.ts";
import type { Path } from "./path.ts";

/** Update priority: 0 high, 1 medium, 2 low. */
export type Priority = 0 | 1 | 2;
/** Variable access modes. */
export type Access = "r" | "w" | "rw" | "action";
/** Who created a variable: the frontend (ids >= 2, dropped on close) or Lua (1 and negative). */
export type Origin = "frontend" | "lua";

/** One variable. */
export interface Variable {
  readonly id: number;
  readonly parent: Variable | undefined;
  readonly children: Set<Variable>;
  readonly origin: Origin;
  /** Current properties, names without priority suffixes. */
  readonly properties: Map<string, string>;
  /** Priorities given with a property's suffix. */
  readonly propertyPriority: Map<string, Priority>;
  /** Parsed `path` property, when the value comes through a path. */
  path: Path | undefined;
  access: Access;
  /** The value at the path, or the value Lua gave. */
  value: LuaValue;
  /** The wrapper standing in for the value, if any. */
  wrapper: LuaValue;
  /** Value JSON of the value the wrapper was made for; a change re-runs the factory. */
  wrapperSource: string | undefined;
  /** Value JSON last sent (or written by the client); `undefined` before the first send. */
  json: string | undefined;
  /** `type` last sent. */
  sentType: string | undefined;
  /** How many watches the connection holds on it. */
  watchers: number;
  /** Server-side property changes not yet sent. */
  readonly changedProperties: Set<string>;
  /** Set by `watch`: the next flush sends the value and every property. */
  resendAll: boolean;
  /** The error last reported for it, so a failing getter is not reported after every batch. */
  lastError: string | undefined;
}

/** The fields needed to make a variable. */
export interface NewVariable {
  id: number;
  parent: Variable | undefined;
  origin: Origin;
  properties?: Map<string, string>;
  propertyPriority?: Map<string, Priority>;
  path?: Path;
  access?: Access;
  value?: LuaValue;
}

/** Priority names accepted in suffixes and the `priority` property. */
export const PRIORITY_NAMES: Record<string, Priority> = {
  high: 0,
  med: 1,
  medium: 1,
  low: 2,
};

/**
 * Splits a property name from its priority suffix (`name:high`).
 *
 * @example
 * ```ts
 * import { splitPriority } from "./tree.ts";
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
 * The variables of one session, by id, with the roots kept in creation order.
 *
 * @example
 * ```ts
 * import { VariableTree } from "./tree.ts";
 * const tree = new VariableTree();
 * const app = tree.add({ id: 1, parent: undefined, origin: "lua" });
 * tree.add({ id: 2, parent: app, origin: "frontend" });
 * [...tree.walk()].map((v) => v.id); // [1, 2]
 * ```
 */
export class VariableTree {
  readonly #byId = new Map<number, Variable>();
  readonly #roots = new Set<Variable>();

  /** Number of variables. */
  get size(): number {
    return this.#byId.size;
  }

  /** The variable with this id. */
  get(id: number): Variable | undefined {
    return this.#byId.get(id);
  }

  /** Adds a variable; the caller has checked that the id is free. */
  add(spec: NewVariable): Variable {
    const variable: Variable = {
      id: spec.id,
      parent: spec.parent,
      children: new Set(),
      origin: spec.origin,
      properties: spec.properties ?? new Map(),
      propertyPriority: spec.propertyPriority ?? new Map(),
      path: spec.path,
      access: spec.access ?? "rw",
      value: spec.value ?? null,
      wrapper: null,
      wrapperSource: undefined,
      json: undefined,
      sentType: undefined,
      watchers: 0,
      changedProperties: new Set(),
      resendAll: false,
      lastError: undefined,
    };
    this.#byId.set(variable.id, variable);
    if (variable.parent) variable.parent.children.add(variable);
    else this.#roots.add(variable);
    return variable;
  }

  /** Removes a variable and its subtree; returns them children before parents. */
  remove(variable: Variable): Variable[] {
    const removed: Variable[] = [];
    const visit = (v: Variable) => {
      for (const child of v.children) visit(child);
      removed.push(v);
      this.#byId.delete(v.id);
    };
    visit(variable);
    if (variable.parent) variable.parent.children.delete(variable);
    else this.#roots.delete(variable);
    return removed;
  }

  /** Every variable, parents before children. */
  *walk(): IterableIterator<Variable> {
    const stack = [...this.#roots].reverse();
    while (stack.length > 0) {
      const variable = stack.pop() as Variable;
      yield variable;
      const children = [...variable.children];
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Variable);
    }
  }

  /** The variables without a parent, in creation order. */
  roots(): IterableIterator<Variable> {
    return this.#roots.values();
  }

  /** Every variable, in no particular order. */
  values(): IterableIterator<Variable> {
    return this.#byId.values();
  }
}
