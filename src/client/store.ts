/// <reference lib="dom" />
/**
 * The client's variable store: the variables this page created (ids vended from 2) plus
 * variable 1, each with its last known value and merged properties. It sends `create`,
 * `update` and `destroy`, applies the server's `update`, `destroy` and `error`, and after a
 * reconnect replays every live variable, since the server dropped them.
 *
 * @module
 */
import type { OutgoingBatcher } from "./batcher.ts";
import type { IncomingMessage, OutgoingMessage, Properties } from "./protocol.ts";

/** The app variable's id. */
export const APP_ID = 1;

/** What changed in one notification. */
export interface VariableChange {
  /** The value changed. */
  value: boolean;
  /** Names of properties the server sent. */
  properties: readonly string[];
}

/** Called when the server updates a variable. */
export type VariableListener = (variable: ClientVariable, change: VariableChange) => void;

/** A variable as the client knows it. */
export interface ClientVariable {
  readonly id: number;
  readonly parentId: number;
  /** Properties sent with `create`; sent again after a reconnect. */
  readonly createProperties: Readonly<Properties>;
  /** Every known property: the created ones merged with the server's. */
  readonly properties: Properties;
  /** The last value known (`undefined` until the server sent one). */
  value: unknown;
  /** The error the server reported for it, until the next update. */
  error: { code: string; description: string } | undefined;
  readonly children: Set<number>;
  readonly listeners: Set<VariableListener>;
}

/** How a write travels: with the next batch, or as a user event flushed now. */
export type WriteMode = "batch" | "user" | "user-soon";

/** Reactions of the page to what the server sends. */
export interface StoreHooks {
  /** Variable 1's `viewdefs` property arrived (a JSON string). */
  viewdefs(json: string): void;
  /**
   * An error arrived. `variable` is undefined when it concerns no variable, or one this page
   * already dropped (then `varId` says which).
   */
  error(
    variable: ClientVariable | undefined,
    code: string,
    description: string,
    varId: number | undefined,
    details?: unknown,
  ): void;
  /** A variable that had an error got a new update. */
  errorCleared(variable: ClientVariable): void;
}

/**
 * The store.
 *
 * @example
 * ```ts
 * import { OutgoingBatcher } from "./batcher.ts";
 * import { VariableStore } from "./store.ts";
 * const batcher = new OutgoingBatcher(() => true);
 * const store = new VariableStore(batcher, {
 *   viewdefs: () => {},
 *   error: () => {},
 *   errorCleared: () => {},
 * });
 * store.watchApp();
 * const name = store.create(1, { path: "name" });
 * store.write(name.id, "Ada", "user");
 * ```
 */
export class VariableStore {
  readonly #batcher: OutgoingBatcher;
  readonly #hooks: StoreHooks;
  readonly #variables = new Map<number, ClientVariable>();
  /** Actions waiting for their round trip's answer. */
  readonly #confirming = new Map<number, () => void>();
  #nextId = 2;

  /** Creates an empty store sending through `batcher`. */
  constructor(batcher: OutgoingBatcher, hooks: StoreHooks) {
    this.#batcher = batcher;
    this.#hooks = hooks;
  }

  /** A live variable. */
  get(id: number): ClientVariable | undefined {
    return this.#variables.get(id);
  }

  /** How many variables are live. */
  get size(): number {
    return this.#variables.size;
  }

  /** Starts following variable 1: sends `watch 1`. */
  watchApp(): ClientVariable {
    let app = this.#variables.get(APP_ID);
    if (!app) {
      app = newVariable(APP_ID, 0, {});
      this.#variables.set(APP_ID, app);
    }
    this.#batcher.add({ type: "watch", data: { varId: APP_ID } });
    return app;
  }

  /** Creates a child variable of `parentId` with a vended id; the server watches it. */
  create(parentId: number, properties: Properties): ClientVariable {
    const variable = newVariable(this.#nextId++, parentId, properties);
    this.#variables.set(variable.id, variable);
    this.#variables.get(parentId)?.children.add(variable.id);
    this.#batcher.add({
      type: "create",
      data: { id: variable.id, parentId, properties: { ...properties } },
    });
    return variable;
  }

  /** Listens to a variable's updates; returns the function that stops listening. */
  listen(id: number, listener: VariableListener): () => void {
    const variable = this.#variables.get(id);
    variable?.listeners.add(listener);
    return () => variable?.listeners.delete(listener);
  }

  /** Writes a value: `user` flushes now as a user event, `user-soon` within the delay. */
  write(id: number, value: unknown, mode: WriteMode): void {
    const variable = this.#variables.get(id);
    if (!variable) return;
    variable.value = value;
    const message: OutgoingMessage = { type: "update", data: { varId: id, value } };
    if (mode === "user") this.#batcher.addAndFlush(message);
    else this.#batcher.add(message, mode === "user-soon");
  }

  /**
   * Writes an action's value and asks the server to resend the variable in the same frame
   * (`watch`, then `unwatch` to keep one watcher): that answer comes after Lua ran, so
   * `done` runs when the round trip is over. Returns false when the variable is gone.
   */
  writeAndConfirm(id: number, value: unknown, done: () => void): boolean {
    if (!this.#variables.has(id)) return false;
    this.write(id, value, "batch");
    this.#confirming.set(id, done);
    this.#batcher.add({ type: "watch", data: { varId: id } });
    this.#batcher.addAndFlush({ type: "unwatch", data: { varId: id } });
    return true;
  }

  /** Ends every round trip in flight (the connection dropped; answers will not come). */
  abandonConfirmations(): void {
    const pending = [...this.#confirming.values()];
    this.#confirming.clear();
    for (const done of pending) done();
  }

  /** Sends properties of a variable (no value), e.g. the viewdef a view rendered. */
  setProperties(id: number, properties: Properties): void {
    const variable = this.#variables.get(id);
    if (!variable) return;
    Object.assign(variable.properties, properties);
    this.#batcher.add({ type: "update", data: { varId: id, properties: { ...properties } } });
  }

  /** Destroys a variable and forgets its local subtree (the server drops the subtree too). */
  destroy(id: number): void {
    if (!this.#variables.has(id)) return;
    this.#forget(id);
    this.#batcher.add({ type: "destroy", data: { varId: id } });
  }

  #forget(id: number): void {
    const variable = this.#variables.get(id);
    if (!variable) return;
    this.#confirming.get(id)?.();
    this.#confirming.delete(id);
    for (const child of variable.children) this.#forget(child);
    variable.listeners.clear();
    this.#variables.delete(id);
    this.#variables.get(variable.parentId)?.children.delete(id);
  }

  /** Applies the messages of one server frame. */
  receive(messages: readonly IncomingMessage[]): void {
    for (const message of messages) {
      try {
        this.#receiveOne(message);
      } catch (error) {
        console.error("Handling a server message failed", message, error);
      }
    }
  }

  #receiveOne(message: IncomingMessage): void {
    const { varId } = message.data;
    switch (message.type) {
      case "update": {
        if (typeof varId !== "number") return;
        const properties = { ...message.data.properties };
        if (varId === APP_ID && typeof properties.viewdefs === "string") {
          this.#hooks.viewdefs(properties.viewdefs);
          delete properties.viewdefs;
        }
        const variable = this.#variables.get(varId);
        if (!variable) return;
        const done = this.#confirming.get(varId);
        if (done) {
          // The resend that ends an action's round trip.
          this.#confirming.delete(varId);
          done();
          if (!("value" in message.data)) return;
        }
        const names = Object.keys(properties);
        Object.assign(variable.properties, properties);
        const hasValue = "value" in message.data;
        if (hasValue) variable.value = message.data.value;
        if (!hasValue && names.length === 0) return;
        if (variable.error) {
          variable.error = undefined;
          this.#hooks.errorCleared(variable);
        }
        const change: VariableChange = { value: hasValue, properties: names };
        for (const listener of [...variable.listeners]) listener(variable, change);
        return;
      }
      case "destroy": {
        if (typeof varId === "number") this.#forget(varId);
        return;
      }
      case "error": {
        const code = String(message.data.code ?? "error");
        const description = String(message.data.description ?? code);
        const variable = typeof varId === "number" ? this.#variables.get(varId) : undefined;
        if (variable) variable.error = { code, description };
        this.#hooks.error(
          variable,
          code,
          description,
          typeof varId === "number" ? varId : undefined,
          message.data.details,
        );
        return;
      }
    }
  }

  /**
   * The messages that rebuild this page's state on a fresh connection: `watch 1`, then a
   * `create` for every live variable, parents before children.
   */
  replay(): OutgoingMessage[] {
    const messages: OutgoingMessage[] = [{ type: "watch", data: { varId: APP_ID } }];
    const ids = [...this.#variables.keys()].filter((id) => id !== APP_ID).sort((a, b) => a - b);
    for (const id of ids) {
      const variable = this.#variables.get(id) as ClientVariable;
      variable.error = undefined;
      messages.push({
        type: "create",
        data: { id, parentId: variable.parentId, properties: { ...variable.createProperties } },
      });
    }
    return messages;
  }
}

function newVariable(id: number, parentId: number, properties: Properties): ClientVariable {
  return {
    id,
    parentId,
    createProperties: { ...properties },
    properties: { ...properties },
    value: undefined,
    error: undefined,
    children: new Set(),
    listeners: new Set(),
  };
}
