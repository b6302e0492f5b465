/**
 * The per-session backend: applies client messages to the variable tree (create, update,
 * destroy, watch, unwatch) and detects what changed after each batch (the seed's AfterBatch).
 *
 * It knows Lua values only through the VM and the navigation helpers; it knows nothing of
 * sockets. Wrapper creation is delegated to a {@link WrapperHost}.
 *
 * @module
 */
import { jsonToLua } from "../lua/json.ts";
import { type NavigationFailure, readSegments, writeSegments } from "../lua/navigate.ts";
import type { LuaValue, LuaVm } from "../lua/vm.ts";
import { emptyOutgoing, type Outgoing, type OutgoingUpdate } from "../protocol/batcher.ts";
import {
  type ClientMessage,
  type CreateMessage,
  type ErrorData,
  errorData,
  type Properties,
  ProtocolError,
  type UpdateMessage,
} from "../protocol/messages.ts";
import { lastSegment, parsePath, type Path, PathSyntaxError } from "../variables/path.ts";
import {
  type Access,
  type Priority,
  PRIORITY_NAMES,
  splitPriority,
  type Variable,
  VariableTree,
} from "../variables/tree.ts";
import { typeOf, valueJson } from "../variables/value_json.ts";

/** Makes and disposes of wrappers; implemented by the session, which owns the Lua side. */
export interface WrapperHost {
  /** The wrapper for a variable whose value changed (may return the existing one). */
  wrap(variable: Variable, name: string): { ok: true; value: LuaValue } | {
    ok: false;
    failure: NavigationFailure;
  };
  /** Runs a replaced or destroyed wrapper's `destroy` method, if any. */
  dispose(variable: Variable, wrapper: LuaValue): void;
  /** The value a wrapper shows on the wire (the wrapper itself unless it is a list). */
  wireValue(wrapper: LuaValue): LuaValue;
  /** The `type` a wrapper reports. */
  wrapperType(wrapper: LuaValue, name: string): string;
}

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
const RESERVED_WIRE_PROPERTIES = new Set(["path"]);

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
  readonly #wrappers: WrapperHost;
  readonly #hooks: BackendHooks;
  readonly #options: BackendOptions;
  #pending = emptyOutgoing();
  /** While refreshing one variable: whether it failed, and whether its errors are muted. */
  #failed = false;
  #quiet = false;
  #nextLuaId = -1;

  /** Creates a backend over a VM. */
  constructor(vm: LuaVm, wrappers: WrapperHost, hooks: BackendHooks, options: BackendOptions) {
    this.#vm = vm;
    this.#wrappers = wrappers;
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
        this.#base(variable),
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
      this.#disposeWrapper(removed);
      this.#pending.destroys.push(removed.id);
    }
  }

  #disposeWrapper(variable: Variable): void {
    if (variable.wrapper !== null) this.#wrappers.dispose(variable, variable.wrapper);
    variable.wrapper = null;
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
        for (const removed of this.tree.remove(variable)) this.#disposeWrapper(removed);
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
    return variable.properties.has("wrapper") && !ignoredWrapper(variable)
      ? variable.wrapper
      : variable.value;
  }

  #base(variable: Variable): LuaValue {
    let anchor = variable.parent;
    for (let i = 0; i < (variable.path?.up ?? 0) && anchor; i++) anchor = anchor.parent;
    return anchor ? this.navigationValue(anchor) : null;
  }

  /**
   * Change detection: recomputes every active variable (parents first), and returns what to
   * send: destroys and errors queued since the last call, and updates for watched variables
   * whose value, type or server-set properties changed. `sentTypes` collects newly sent types.
   */
  afterBatch(sentTypes: Set<string>): Outgoing {
    const out = this.#pending;
    this.#pending = emptyOutgoing();
    // Below a variable whose type just changed, the client is about to replace its views:
    // errors of the old children's paths on the new value are not worth reporting.
    const visit = (variable: Variable, quiet: boolean): void => {
      if (isInactive(variable)) return;
      const typeChanged = this.#refresh(variable, out, sentTypes, quiet);
      for (const child of variable.children) visit(child, quiet || typeChanged);
    };
    for (const root of [...this.tree.roots()]) visit(root, false);
    return out;
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
        const read = readSegments(this.#vm, this.#base(variable), variable.path.segments);
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
        if (variable.wrapper !== null) this.#disposeWrapper(variable);
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

function readable(variable: Variable): boolean {
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

function failureError(failure: NavigationFailure, varId: number): ProtocolError {
  return new ProtocolError(failure.code, failure.description, varId);
}
