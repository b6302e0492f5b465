/**
 * The per-session backend: applies client messages to the variable tree (create, update,
 * destroy, watch, unwatch), tracks watches and queues what to send; change detection after each
 * batch (the seed's AfterBatch) is the variable layer's.
 *
 * It reaches live values only through a {@link ValueWorld}, and knows nothing of sockets.
 *
 * @module
 */
import { type Failure, FailureError, type Result } from "../failure.ts";
import { emptyOutgoing, type Outgoing } from "../protocol/outgoing.ts";
import type { ClientMessage, CreateMessage, UpdateMessage } from "../protocol/messages.ts";
import { ChangeDetector, ignoredWrapper, pathBase } from "../variables/change_detection.ts";
import { lastSegment, type Path } from "../variables/path.ts";
import { VariableTree } from "../variables/tree.ts";
import type { ValueWorld } from "../variables/value_world.ts";
import {
  accessFor,
  parseVariablePath,
  type Priority,
  type Properties,
  splitPriority,
  Variable,
} from "../variables/variable.ts";
import { BackendBudget, type BackendLimits, DEFAULT_BACKEND_LIMITS } from "./backend_budget.ts";

/** Hooks the session supplies for property changes made by the client. */
export interface BackendHooks<V> {
  /** Called after the client set a property (after it is stored); may throw a FailureError. */
  propertyChanged(variable: Variable<V>, name: string, value: string): void;
  /** What the client may create and change (template-only paths); absent: anything. */
  policy?: BackendPolicy<V>;
}

/** What a create policy grants: the access as sent, or read-only whatever was asked. */
export type CreateGrant = "as-sent" | "read-only";

/** A frontend `create`, as a {@link BackendPolicy} sees it. */
export interface CreateRequest<V> {
  parent: Variable<V> | undefined;
  /** The parent's `type` (as sent, or as change detection will find it); `""` for none. */
  parentType: string;
  /** The `path` property as sent, query included; undefined for none (or `unbound`). */
  path: string | undefined;
  /** Every property, the path's query merged in. */
  properties: ReadonlyMap<string, string>;
}

/** Decides which variables a client may create and which properties it may change. */
export interface BackendPolicy<V> {
  /** Allows a create (and says how), or refuses it before anything is read or made. */
  mayCreate(request: CreateRequest<V>): Result<CreateGrant>;
  /** Refuses a client property change with a failure, or allows it (undefined). */
  maySetProperty(variable: Variable<V>, name: string, value: string): Failure | undefined;
}

/** Options of {@link Backend}; the limits left out take {@link DEFAULT_BACKEND_LIMITS}. */
export interface BackendOptions extends Partial<BackendLimits> {
  maxVariables: number;
}

/**
 * Applies messages to one session's variables and computes the updates to send.
 *
 * @example
 * ```ts ignore
 * // tests/session/backend_test.ts drives one through a LuaSession.
 * const backend = new Backend(world, { propertyChanged: () => {} }, { maxVariables: 1000 });
 * backend.handle({ type: "watch", data: { varId: 1 } });
 * const out = backend.afterBatch(new Set());
 * ```
 */
export class Backend<V> {
  /** The session's variables. */
  readonly tree = new VariableTree<V>();
  readonly #world: ValueWorld<V>;
  readonly #detector: ChangeDetector<V>;
  readonly #hooks: BackendHooks<V>;
  readonly #options: BackendOptions & BackendLimits;
  #pending = emptyOutgoing();
  #nextAppId = -1;
  readonly #budget: BackendBudget<V>;

  /** Creates a backend over a value world. */
  constructor(world: ValueWorld<V>, hooks: BackendHooks<V>, options: BackendOptions) {
    this.#world = world;
    this.#options = { ...DEFAULT_BACKEND_LIMITS, ...options };
    this.#budget = new BackendBudget(this.#options);
    this.#detector = new ChangeDetector(this.#budget.world(world));
    this.#hooks = hooks;
  }

  /** Estimated bytes of client values and properties this session holds. */
  get clientValueBytes(): number {
    return this.#budget.clientValueBytes;
  }

  /** Queues an error for the next flush. */
  reportError(error: Failure): void {
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
          return this.destroyVariable(this.#requireFrontend(message.data.varId));
        case "watch":
          return this.#require(message.data.varId).watch();
        case "unwatch":
          return this.#require(message.data.varId).unwatch();
      }
    } catch (error) {
      if (!(error instanceof FailureError)) throw error;
      this.reportError(error.failure);
    }
  }

  #require(id: number): Variable<V> {
    const variable = this.tree.get(id);
    if (!variable) throw new FailureError("not-found", `Variable ${id} does not exist`, id);
    return variable;
  }

  /** Lua's own variables (the app variable, `createVariable`) are Lua's to destroy. */
  #requireFrontend(id: number): Variable<V> {
    const variable = this.#require(id);
    if (variable.origin === "lua") {
      throw new FailureError("bad-access", `Variable ${id} belongs to Lua`, id);
    }
    return variable;
  }

  /** A frontend `create`: everything is validated (and a `create=` instance made) first. */
  #create(message: CreateMessage): void {
    const { id, parentId, nowatch, unbound } = message.data;
    const existing = this.tree.get(id);
    if (existing) {
      // A re-create with identical properties (a client continuing after a reconnect whose
      // variables were kept) is a no-op, so replaying its creates is safe.
      if (!sameCreate(existing, parentId, message.data.properties)) {
        throw new FailureError("duplicate-id", `Variable ${id} exists`, id);
      }
      if (!nowatch && !existing.watched) existing.watch();
      return;
    }
    const budget = this.#budget;
    budget.checkCapacity(this.tree.size, id);
    const parent = parentId === 0 ? undefined : this.tree.get(parentId);
    if (parentId !== 0 && !parent) {
      throw new FailureError("not-found", `Parent variable ${parentId} does not exist`, id);
    }
    const depth = budget.childDepth(parent, id);
    const heldProperties = budget.propertiesCost(message.data.properties);
    const heldValue =
      message.data.value === undefined || message.data.properties.create !== undefined
        ? 0
        : budget.valueCost(message.data.value);
    // Counted before anything is decoded: a refused value is never built.
    budget.checkHeld(heldProperties + heldValue, id);
    const { properties, priorities } = splitProperties(message.data.properties);
    let path: Path | undefined;
    const pathText = properties.get("path");
    if (pathText !== undefined && !unbound) {
      path = parseVariablePath(pathText, id);
      for (const [name, value] of Object.entries(path.properties)) {
        if (!properties.has(name)) properties.set(name, value);
      }
    }
    let asked = properties.get("access");
    const policy = this.#hooks.policy;
    if (policy) {
      const grant = FailureError.unwrap(
        policy.mayCreate({
          parent,
          parentType: parent ? this.#typeOf(parent) : "",
          path: unbound ? undefined : pathText,
          properties,
        }),
        id,
      );
      if (grant === "read-only") asked = "r";
    }
    const access = accessFor(asked, path, id);
    const presenter = properties.get("create");
    let value: V | null = null;
    if (presenter !== undefined) {
      // The new instance is the variable's value; its path, if any, is not read.
      value = FailureError.unwrap(this.#world.instantiate(presenter), id);
      path = undefined;
    } else if (message.data.value !== undefined) {
      value = this.#world.decode(message.data.value);
    }
    const variable = new Variable<V>({
      id,
      parent,
      origin: "frontend",
      properties,
      propertyPriority: priorities,
      path,
      access,
      value,
      watched: !nowatch,
    });
    this.tree.insert(variable);
    budget.placed(variable, depth);
    budget.hold(id, heldValue, heldProperties);
  }

  #update(message: UpdateMessage): void {
    const variable = this.#require(message.data.varId);
    const id = variable.id;
    const budget = this.#budget;
    const held = budget.held(id);
    if (message.data.properties) {
      const more = budget.propertiesDelta(variable, message.data.properties);
      budget.checkHeld(more, id);
      this.#setClientProperties(variable, message.data.properties);
      budget.hold(id, held.value, Math.max(0, held.properties + more));
    }
    if (!message.data.hasValue) return;
    if (variable.access === "r") {
      throw new FailureError("bad-access", `Variable ${id} is read-only`, id);
    }
    const cost = budget.valueCost(message.data.value);
    // A variable without a path keeps the value; through a path it goes to the world, which
    // answers for it, but it is built now and must fit what is left.
    budget.checkHeld(cost - (variable.path ? 0 : held.value), id);
    const world = this.#world;
    const value = world.decode(message.data.value);
    if (!variable.path) {
      variable.assign(value);
      budget.hold(id, cost, budget.held(id).properties);
    } else {
      const last = lastSegment(variable.path);
      const callOnly = variable.access === "action" && last?.kind === "call" && !last.withValue;
      const written = world.write(pathBase(variable), variable.path, value, callOnly);
      FailureError.unwrap(written, variable.id);
    }
    // No echo: the writer already shows this value (one too large to send is left to change
    // detection, which reports it).
    if (variable.readable && variable.wrapper === null) {
      try {
        variable.recordClientWrite(world.encode(value, undefined, this.#options.maxValueBytes));
      } catch (error) {
        if (!(error instanceof FailureError)) throw error;
      }
    }
  }

  #setClientProperties(variable: Variable<V>, properties: Properties): void {
    const policy = this.#hooks.policy;
    if (policy) {
      // Checked before any is stored: a refused update changes nothing.
      for (const [raw, value] of Object.entries(properties)) {
        const refused = policy.maySetProperty(variable, splitPriority(raw)[0], value);
        if (refused) throw new FailureError(refused.code, refused.description, variable.id);
      }
    }
    for (const [raw, value] of Object.entries(properties)) {
      const [name, priority] = splitPriority(raw);
      variable.setClientProperty(name, value, priority);
      this.#hooks.propertyChanged(variable, name, value);
    }
  }

  /**
   * A parent's `type` for the create policy: the one sent, or for a parent not sent yet (made
   * earlier in the same frame, as a reconnect replays a page) the one change detection will
   * find, reading its path and making its wrapper now as detection would.
   */
  #typeOf(parent: Variable<V>): string {
    if (parent.sentType !== undefined) return parent.sentType;
    const world = this.#world;
    if (parent.readable && parent.path) {
      const read = world.read(pathBase(parent), parent.path);
      parent.recordRead(read.ok ? read.value : null);
    }
    const name = parent.properties.get("wrapper");
    if (name === undefined || ignoredWrapper(parent)) return world.typeOf(parent.value);
    const source = world.encode(parent.value);
    if (parent.wrapperStale(source)) {
      const made = world.wrap(parent, name);
      if (!made.ok) return "";
      if (made.value !== parent.wrapper && parent.wrapper !== null) {
        world.dispose(parent, parent.wrapper);
      }
      parent.recordWrapper(made.value, source);
    }
    return parent.wrapper === null ? "" : world.wrapperType(parent.wrapper, name);
  }

  /** Removes a variable and its subtree, telling the client. */
  destroyVariable(variable: Variable<V>): void {
    for (const removed of this.tree.remove(variable)) {
      this.#detector.disposeWrapper(removed);
      this.#budget.released(removed);
      this.#pending.destroys.push(removed.id);
    }
  }

  /** Creates a variable for Lua: id 1 for the app, else the next negative id. */
  createAppVariable(
    parent: Variable<V> | undefined,
    value: V | null,
    props: Map<string, string>,
    id?: number,
  ): Variable<V> {
    this.#budget.checkCapacity(this.tree.size);
    const depth = this.#budget.childDepth(parent, id);
    const pathText = props.get("path");
    const path = pathText === undefined ? undefined : parseVariablePath(pathText);
    // Without a path the value is Lua's to set: read-only for the client unless props say so.
    const access = accessFor(props.get("access") ?? (path ? undefined : "r"), path);
    const variable = new Variable<V>({
      id: id ?? this.#nextAppId--,
      parent,
      origin: "lua",
      properties: props,
      path,
      access,
      value,
    });
    this.#budget.placed(variable, depth);
    return this.tree.insert(variable);
  }

  /**
   * Forgets the connection: drops frontend-created variables without notices and resets what
   * was sent, so that a reconnect receives everything again.
   */
  connectionClosed(): void {
    for (const variable of [...this.tree.values()]) {
      if (variable.origin === "frontend" && this.tree.get(variable.id) === variable) {
        for (const removed of this.tree.remove(variable)) {
          this.#detector.disposeWrapper(removed);
          this.#budget.released(removed);
        }
      }
    }
    for (const variable of this.tree.values()) variable.forgetConnection();
    this.#pending = emptyOutgoing();
  }

  /**
   * The same client continues on a new connection with the variables it had: they stay (and
   * stay watched), and everything is sent again, since output of the gap was lost.
   */
  connectionResumed(): void {
    for (const variable of this.tree.values()) {
      const watchers = variable.watchCount;
      variable.forgetConnection();
      for (let i = 0; i < watchers; i++) variable.watch();
    }
    this.#pending = emptyOutgoing();
  }

  /**
   * Change detection (AfterBatch): returns what to send, the destroys and errors queued since
   * the last call first. `sentTypes` collects the types sent for the first time.
   */
  afterBatch(sentTypes: Set<string>): Outgoing {
    const out = this.#pending;
    this.#pending = emptyOutgoing();
    this.#budget.batch(out, () => this.#detector.detect(this.tree.roots(), out, sentTypes));
    return out;
  }
}

/** True when a frontend variable was made by a `create` with this parent and these properties. */
function sameCreate<V>(variable: Variable<V>, parentId: number, raw: Properties): boolean {
  if (variable.origin !== "frontend" || (variable.parent?.id ?? 0) !== parentId) return false;
  const { properties } = splitProperties(raw);
  return [...properties].every(([name, value]) => variable.properties.get(name) === value);
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
