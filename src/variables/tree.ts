/**
 * The per-session variable tree (SPEC 5): variables by id, linked parent to child, with the
 * roots kept in creation order. Walks are iterative, so a deep chain cannot overflow the stack.
 *
 * @module
 */
import { type NewVariable, Variable } from "./variable.ts";

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
export class VariableTree<V = unknown> {
  readonly #byId = new Map<number, Variable<V>>();
  readonly #roots = new Set<Variable<V>>();

  /** Number of variables. */
  get size(): number {
    return this.#byId.size;
  }

  /** The variable with this id. */
  get(id: number): Variable<V> | undefined {
    return this.#byId.get(id);
  }

  /** Makes and adds a variable; the caller has checked that the id is free. */
  add(spec: NewVariable<V>): Variable<V> {
    return this.insert(new Variable(spec));
  }

  /** Adds a variable made (and validated) beforehand; the caller has checked that the id is free. */
  insert(variable: Variable<V>): Variable<V> {
    this.#byId.set(variable.id, variable);
    if (variable.parent) variable.parent.addChild(variable);
    else this.#roots.add(variable);
    return variable;
  }

  /** Removes a variable and its subtree; returns them children before parents. */
  remove(variable: Variable<V>): Variable<V>[] {
    // Parents before children, reversed: children before parents.
    const removed: Variable<V>[] = [];
    const stack = [variable];
    while (stack.length > 0) {
      const next = stack.pop() as Variable<V>;
      removed.push(next);
      this.#byId.delete(next.id);
      for (const child of next.children) stack.push(child);
    }
    removed.reverse();
    if (variable.parent) variable.parent.removeChild(variable);
    else this.#roots.delete(variable);
    return removed;
  }

  /** Every variable, parents before children. */
  *walk(): IterableIterator<Variable<V>> {
    const stack = [...this.#roots].reverse();
    while (stack.length > 0) {
      const variable = stack.pop() as Variable<V>;
      yield variable;
      const children = [...variable.children];
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Variable<V>);
    }
  }

  /** The variables without a parent, in creation order. */
  roots(): IterableIterator<Variable<V>> {
    return this.#roots.values();
  }

  /** Every variable, in no particular order. */
  values(): IterableIterator<Variable<V>> {
    return this.#byId.values();
  }
}
