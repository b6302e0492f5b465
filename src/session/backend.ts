/**
 * The per-session backend: applies client messages to the variable tree (create, update,
 * destroy, watch, unwatch), tracks watches and queues what to send; change detection after each
 * batch (the seed's AfterBatch) is delegated to `change_detection.ts`.
 *
 * It knows Lua values only through the VM and the navigation helpers; it knows nothing of
 * sockets.
 *
 * @module
 */
import { jsonToLua } from "../lua/json.ts";
import { type NavigationFailure, writeSegments } from "../lua/navigate.ts";
import type { LuaValue, LuaVm } from "../lua/vm.ts";
import { emptyOutgoing, type Outgoing } from "../protocol/batcher.ts";
import {
  type ClientMessage,
  type CreateMessage,
  type ErrorData,
  type Properties,
  ProtocolError,
  type UpdateMessage,
} from "../protocol/messages.ts";
import { lastSegment, parsePath, type Path, PathSyntaxError } from "../variables/path.ts";
import {
  type Access,
  type Priority,
  splitPriority,
  type Variable,
  VariableTree,
} from "../variables/tree.ts";
import { valueJson } from "../variables/value_json.ts";
import type { WrapperHost } from "../lua/wrappers.ts";
import { ChangeDetector, readable } from "./change_detection.ts";

/** Hooks the session supplies for property changes made by the client. */
export interface BackendHooks {
  /** Called after the client set a property (after it is stored). */
  propertyChanged(variable: Variable, name: string, value: string): void;
  /** `create=NAME`: a new instance of a presenter type. */
  instantiate(name: string): { ok: true; value: LuaValue } | {
    ok: false;
    failure: NavigationFailure;
  };
}

/** Options of {@link Backend}. */
export interface BackendOptions {
  maxVariables: number;
}

const ACCESS = new Set<Access>(["r", "w", "rw", "action"]);

/**
 * Applies messages to one session's variables and computes the updates to send.
 *
 * @example
 * ```ts
 * // See tests/session/backend_test.ts: a Backend is made by the LuaSession.
 * ```
 */
export class Backend {
  /** The session's variables. */
  readonly tree = new VariableTree();
  readonly #vm: LuaVm;
  readonly #detector: ChangeDetector;
  readonly #hooks: BackendHooks;
  readonly #options: BackendOptions;
  #pending = emptyOutgoing();
  #nextLuaId = -1;

  /** Creates a backend over a VM. */
  constructor(vm: LuaVm, wrappers: WrapperHost, hooks: BackendHooks, options: BackendOptions) {
    this.#vm = vm;
    this.#detector = new ChangeDetector(vm, wrappers);
    this.#hooks = hooks;
    this.#options = options;
  }

  /** Queues an error for the next flush. */
  reportError(error: ErrorData): void {
    this.#pending.errors.push(error);
  }

  /** Applies one client message; failures are queued as `error` messages. */
  handle(message: ClientMessage): void {
    try {
      switch (message.type) {
        case "create":
          return this.#create(message);
        case "update":
          return this.#update(message);
        case "destroy":
          return this.#destroy(this.#requireFrontend(message.data.varId));
        case "watch": {
          const variable = this.#require(message.data.varId);
          variable.watchers++;
          variable.resendAll = true;
          return;
        }
        case "unwatch": {
          const variable = this.#require(message.data.varId);
          variable.watchers = Math.max(0, variable.watchers - 1);
          return;
        }
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.reportError(error.toData());
    }
  }

  #require(id: number): Variable {
    const variable = this.tree.get(id);
    if (!variable) throw new ProtocolError("not-found", `Variable ${id} does not exist`, id);
    return variable;
  }

  /** Lua's own variables (the app variable, `createVariable`) are Lua's to destroy. */
  #requireFrontend(id: number): Variable {
    const variable = this.#require(id);
    if (variable.origin === "lua") {
      throw new ProtocolError("bad-access", `Variable ${id} belongs to Lua`, id);
    }
    return variable;
  }

  #checkCapacity(id?: number): void {
    if (this.tree.size >= this.#options.maxVariables) {
      throw new ProtocolError(
        "limit",
        `Session has ${this.tree.size} variables; the limit is ${this.#options.maxVariables}`,
        id,
      );
    }
  }

  #create(message: CreateMessage): void {
    const { id, parentId, nowatch, unbound } = message.data;
    if (this.tree.get(id)) throw new ProtocolError("duplicate-id", `Variable ${id} exists`, id);
    this.#checkCapacity(id);
    const parent = parentId === 0 ? undefined : this.tree.get(parentId);
    if (parentId !== 0 && !parent) {
      throw new ProtocolError("not-found", `Parent variable ${parentId} does not exist`, id);
    }
    const { properties, priorities } = splitProperties(message.data.properties);
    let path: Path | undefined;
    const pathText = properties.get("path");
    if (pathText !== undefined && !unbound) {
      path = parseVariablePath(pathText, id);
      for (const [name, value] of Object.entries(path.properties)) {
        if (!properties.has(name)) properties.set(name, value);
      }
    }
    const access = accessFor(properties.get("access"), path, id);
    const variable = this.tree.add({
      id,
      parent,
      origin: "frontend",
      properties,
      propertyPriority: priorities,
      path,
      access,
      value: message.data.value === undefined ? null : jsonToLua(this.#vm, message.data.value),
    });
    if (!nowatch) variable.watchers = 1;
    const presenter = properties.get("create");
    if (presenter !== undefined) {
      // The new instance is the variable's value; its path, if any, is not read.
      variable.path = undefined;
      const made = this.#hooks.instantiate(presenter);
      if (!made.ok) throw failureError(made.failure, id);
      variable.value = made.value;
    }
  }

  #update(message: UpdateMessage): void {
    const variable = this.#require(message.data.varId);
    if (message.data.properties) this.#setClientProperties(variable, message.data.properties);
    if (!message.data.hasValue) return;
    if (variable.access === "r") {
      throw new ProtocolError("bad-access", `Variable ${variable.id} is read-only`, variable.id);
    }
    const value = jsonToLua(this.#vm, message.data.value);
    if (!variable.path) {
      variable.value = value;
    } else {
      const last = lastSegment(variable.path);
      const callOnly = variable.access === "action" && last?.kind === "call" && !last.withValue;
      const written = writeSegments(
        this.#vm,
        this.#detector.base(variable),
        variable.path.segments,
        value,
        callOnly,
      );
      if (!written.ok) throw failureError(written.failure, variable.id);
    }
    // No echo: the writer already shows this value.
    if (readable(variable) && !variable.wrapper) variable.json = valueJson(this.#vm, value);
  }

  #setClientProperties(variable: Variable, properties: Properties): void {
    for (const [raw, value] of Object.entries(properties)) {
      const [name, priority] = splitPriority(raw);
      if (priority !== undefined) variable.propertyPriority.set(name, priority);
      if (name === "path") {
        variable.path = parseVariablePath(value, variable.id);
        variable.json = undefined;
      } else if (name === "access") {
        variable.access = accessFor(value, variable.path, variable.id);
      }
      variable.properties.set(name, value);
      this.#hooks.propertyChanged(variable, name, value);
    }
  }

  #destroy(variable: Variable): void {
    for (const removed of this.tree.remove(variable)) {
      this.#detector.disposeWrapper(removed);
      this.#pending.destroys.push(removed.id);
    }
  }

  /** Creates a variable from Lua: id 1 for the app, else the next negative id. */
  createLuaVariable(
    parent: Variable | undefined,
    value: LuaValue,
    props: Map<string, string>,
    id?: number,
  ): Variable {
    this.#checkCapacity();
    const variableId = id ?? this.#nextLuaId--;
    const path = props.has("path") ? parseVariablePath(props.get("path") as string) : undefined;
    return this.tree.add({
      id: variableId,
      parent,
      origin: "lua",
      properties: props,
      path,
      // Without a path the value is Lua's to set: read-only for the client unless props say so.
      access: accessFor(props.get("access") ?? (path ? undefined : "r"), path),
      value,
    });
  }

  /** Removes a variable and its subtree, telling the client. */
  destroyVariable(variable: Variable): void {
    this.#destroy(variable);
  }

  /** Sets a property from the server side; it is sent with the next flush. */
  setProperty(variable: Variable, name: string, value: string): void {
    if (variable.properties.get(name) === value) return;
    variable.properties.set(name, value);
    variable.changedProperties.add(name);
  }

  /**
   * Forgets the connection: drops frontend-created variables without notices and resets what
   * was sent, so that a reconnect receives everything again.
   */
  connectionClosed(): void {
    for (const variable of [...this.tree.values()]) {
      if (variable.origin === "frontend" && this.tree.get(variable.id)) {
        for (const removed of this.tree.remove(variable)) this.#detector.disposeWrapper(removed);
      }
    }
    for (const variable of this.tree.values()) {
      variable.watchers = 0;
      variable.json = undefined;
      variable.sentType = undefined;
      variable.lastError = undefined;
    }
    this.#pending = emptyOutgoing();
  }

  /** The value that child paths start from: the wrapper when there is one, else the value. */
  navigationValue(variable: Variable): LuaValue {
    return this.#detector.navigationValue(variable);
  }

  /**
   * Change detection (AfterBatch): returns what to send, the destroys and errors queued since
   * the last call first. `sentTypes` collects the types sent for the first time.
   */
  afterBatch(sentTypes: Set<string>): Outgoing {
    const out = this.#pending;
    this.#pending = emptyOutgoing();
    this.#detector.detect(this.tree.roots(), out, sentTypes);
    return out;
  }
}

function splitProperties(raw: Properties): {
  properties: Map<string, string>;
  priorities: Map<string, Priority>;
} {
  const properties = new Map<string, string>();
  const priorities = new Map<string, Priority>();
  for (const [name, value] of Object.entries(raw)) {
    const [bare, priority] = splitPriority(name);
    properties.set(bare, value);
    if (priority !== undefined) priorities.set(bare, priority);
  }
  return { properties, priorities };
}

function parseVariablePath(text: string, id?: number): Path {
  try {
    return parsePath(text);
  } catch (error) {
    if (error instanceof PathSyntaxError) {
      throw new ProtocolError("path-failure", error.message, id);
    }
    throw error;
  }
}

function accessFor(raw: string | undefined, path: Path | undefined, id?: number): Access {
  const last = path ? lastSegment(path) : undefined;
  const isSetter = last?.kind === "call" && last.withValue;
  const isGetter = last?.kind === "call" && !last.withValue;
  const access = (raw ?? (isSetter ? "action" : "rw")) as Access;
  if (!ACCESS.has(access)) {
    throw new ProtocolError("bad-access", `Unknown access '${raw}'`, id);
  }
  if (isGetter && access === "w") {
    throw new ProtocolError("bad-access", "A path ending in '()' must be r, rw or action", id);
  }
  if (isSetter && access !== "w" && access !== "action") {
    throw new ProtocolError("bad-access", "A path ending in '(_)' must be w or action", id);
  }
  return access;
}

function failureError(failure: NavigationFailure, varId: number): ProtocolError {
  return new ProtocolError(failure.code, failure.description, varId);
}
