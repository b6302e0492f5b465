/**
 * The per-session backend: applies client messages to the variable tree (create, update,
 * destroy, watch, unwatch), tracks watches and queues what to send; change detection after each
 * batch (the seed's AfterBatch) is the variable layer's.
 *
 * It reaches live values only through a {@link ValueWorld}, and knows nothing of sockets.
 *
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../config.ts";
import { type Failure, FailureError, newFailure, type Result } from "../failure.ts";
import { clientValueBytes, propertyBytes } from "../protocol/value_cost.ts";
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

/** What one session may hold from its client and build for it. */
export type BackendLimits = Pick<
  Config,
  "maxVariableDepth" | "maxClientValueBytes" | "maxValueBytes" | "maxFlushBytes"
>;

/**
 * The limits of {@link BackendOptions} by default: the server's defaults.
 *
 * @example
 * ```ts
 * import { DEFAULT_BACKEND_LIMITS } from "./backend.ts";
 * DEFAULT_BACKEND_LIMITS.maxVariableDepth; // 1000
 * ```
 */
export const DEFAULT_BACKEND_LIMITS: BackendLimits = {
  maxVariableDepth: DEFAULT_CONFIG.maxVariableDepth,
  maxClientValueBytes: DEFAULT_CONFIG.maxClientValueBytes,
  maxValueBytes: DEFAULT_CONFIG.maxValueBytes,
  maxFlushBytes: DEFAULT_CONFIG.maxFlushBytes,
};

/**
 * How much value JSON one batch may build, compared or sent, as a multiple of the flush limit:
 * change detection encodes every readable variable, so this bounds its work whatever the values.
 */
const BATCH_JSON_FACTOR = 2;

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
  /** Depth of each variable: 0 for a root. */
  readonly #depth = new WeakMap<Variable<V>, number>();
  /** Estimated bytes of client values and properties each variable holds, by id. */
  readonly #held = new Map<number, { value: number; properties: number }>();
  #heldTotal = 0;
  /** Value JSON the current batch may still build. */
  #batchJsonLeft = Infinity;

  /** Creates a backend over a value world. */
  constructor(world: ValueWorld<V>, hooks: BackendHooks<V>, options: BackendOptions) {
    this.#world = world;
    this.#options = { ...DEFAULT_BACKEND_LIMITS, ...options };
    this.#detector = new ChangeDetector(this.#budgetedWorld(world));
    this.#hooks = hooks;
  }

  /** Estimated bytes of client values and properties this session holds. */
  get clientValueBytes(): number {
    return this.#heldTotal;
  }

  /**
   * The world as change detection sees it: every value JSON is bounded by the per-variable limit
   * and by what is left of the batch's.
   */
  #budgetedWorld(world: ValueWorld<V>): ValueWorld<V> {
    const { maxValueBytes } = this.#options;
    return {
      ...world,
      encode: (value, type) => {
        if (this.#batchJsonLeft <= 0) throw new FailureError("too-large", BATCH_CUT);
        const limit = Math.min(maxValueBytes, this.#batchJsonLeft);
        let json: string;
        try {
          json = world.encode(value, type, limit);
        } catch (error) {
          if (!(error instanceof FailureError) || limit === maxValueBytes) throw error;
          this.#batchJsonLeft = 0;
          throw new FailureError("too-large", BATCH_CUT);
        }
        this.#batchJsonLeft -= json.length;
        return json;
      },
    };
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

  /** The depth a child of `parent` would have; throws `limit` past the cap. */
  #childDepth(parent: Variable<V> | undefined, id?: number): number {
    const depth = parent ? (this.#depth.get(parent) ?? 0) + 1 : 0;
    if (depth > this.#options.maxVariableDepth) {
      throw new FailureError(
        "limit",
        `Variables nest ${depth} deep here; the limit is ${this.#options.maxVariableDepth}`,
        id,
      );
    }
    return depth;
  }

  /** Throws `limit` when `more` bytes of client values would pass the session's budget. */
  #checkHeld(more: number, id: number): void {
    const max = this.#options.maxClientValueBytes;
    if (more > 0 && this.#heldTotal + more > max) {
      throw new FailureError(
        "limit",
        `This session would hold about ${this.#heldTotal + more} bytes of client values; ` +
          `the limit is ${max}, so the message was refused`,
        id,
      );
    }
  }

  #hold(id: number, value: number, properties: number): void {
    const before = this.#held.get(id);
    this.#heldTotal += value + properties - (before ? before.value + before.properties : 0);
    this.#held.set(id, { value, properties });
  }

  /** Forgets what removed variables held. */
  #released(removed: Variable<V>): void {
    const held = this.#held.get(removed.id);
    if (!held) return;
    this.#heldTotal -= held.value + held.properties;
    this.#held.delete(removed.id);
  }

  #checkCapacity(id?: number): void {
    if (this.tree.size >= this.#options.maxVariables) {
      throw new FailureError(
        "limit",
        `Session has ${this.tree.size} variables; the limit is ${this.#options.maxVariables}`,
        id,
      );
    }
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
    this.#checkCapacity(id);
    const parent = parentId === 0 ? undefined : this.tree.get(parentId);
    if (parentId !== 0 && !parent) {
      throw new FailureError("not-found", `Parent variable ${parentId} does not exist`, id);
    }
    const depth = this.#childDepth(parent, id);
    const max = this.#options.maxClientValueBytes;
    const heldProperties = propertyBytes(message.data.properties);
    const heldValue =
      message.data.value === undefined || message.data.properties.create !== undefined
        ? 0
        : clientValueBytes(message.data.value, max);
    // Counted before anything is decoded: a refused value is never built.
    this.#checkHeld(heldProperties + heldValue, id);
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
    this.#depth.set(variable, depth);
    this.#hold(id, heldValue, heldProperties);
  }

  #update(message: UpdateMessage): void {
    const variable = this.#require(message.data.varId);
    const id = variable.id;
    const held = this.#held.get(id) ?? { value: 0, properties: 0 };
    if (message.data.properties) {
      let more = 0;
      for (const [raw, value] of Object.entries(message.data.properties)) {
        const name = splitPriority(raw)[0];
        const before = variable.properties.get(name);
        more += propertyBytes({ [name]: value }) -
          (before === undefined ? 0 : propertyBytes({ [name]: before }));
      }
      this.#checkHeld(more, id);
      this.#setClientProperties(variable, message.data.properties);
      this.#hold(id, held.value, Math.max(0, held.properties + more));
    }
    if (!message.data.hasValue) return;
    if (variable.access === "r") {
      throw new FailureError("bad-access", `Variable ${id} is read-only`, id);
    }
    const max = this.#options.maxClientValueBytes;
    const cost = clientValueBytes(message.data.value, max);
    // A variable without a path keeps the value; through a path it goes to the world, which
    // answers for it, but it is built now and must fit what is left.
    this.#checkHeld(cost - (variable.path ? 0 : held.value), id);
    const world = this.#world;
    const value = world.decode(message.data.value);
    if (!variable.path) {
      variable.assign(value);
      this.#hold(id, cost, this.#held.get(id)?.properties ?? 0);
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
      this.#released(removed);
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
    this.#checkCapacity();
    const depth = this.#childDepth(parent, id);
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
    this.#depth.set(variable, depth);
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
          this.#released(removed);
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
    this.#batchJsonLeft = BATCH_JSON_FACTOR * this.#options.maxFlushBytes;
    try {
      this.#detector.detect(this.tree.roots(), out, sentTypes);
    } finally {
      this.#batchJsonLeft = Infinity;
    }
    // One error for a cut batch, not one per variable left out.
    const cut = out.errors.filter((error) => error.description === BATCH_CUT);
    if (cut.length > 0) {
      out.errors = out.errors.filter((error) => error.description !== BATCH_CUT);
      out.errors.push(
        newFailure("too-large", `${BATCH_CUT} (${cut.length} variables)`),
      );
    }
    return out;
  }
}

/** True when a frontend variable was made by a `create` with this parent and these properties. */
function sameCreate<V>(variable: Variable<V>, parentId: number, raw: Properties): boolean {
  if (variable.origin !== "frontend" || (variable.parent?.id ?? 0) !== parentId) return false;
  const { properties } = splitProperties(raw);
  return [...properties].every(([name, value]) => variable.properties.get(name) === value);
}

const BATCH_CUT = "The values of this update passed the limit of one batch; the rest were not sent";

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
