/**
 * What one session may hold from its client and build for it: the variable count, their
 * nesting depth, the client values and properties held (estimated before anything is decoded),
 * and the value JSON one batch may build, whose excess cuts the batch with one error.
 *
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../config.ts";
import { FailureError, newFailure } from "../failure.ts";
import type { Outgoing } from "../protocol/outgoing.ts";
import { clientValueBytes, propertyBytes } from "../protocol/value_cost.ts";
import type { ValueWorld } from "../variables/value_world.ts";
import { type Properties, splitPriority, type Variable } from "../variables/variable.ts";

/**
 * What one session may hold from its client and build for it.
 *
 * @example
 * ```ts
 * import type { BackendLimits } from "./backend_budget.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * const limits: BackendLimits = { ...DEFAULT_CONFIG, maxVariableDepth: 50 };
 * ```
 */
export type BackendLimits = Pick<
  Config,
  "maxVariableDepth" | "maxClientValueBytes" | "maxValueBytes" | "maxFlushBytes"
>;

/**
 * The limits of a backend by default: the server's defaults.
 *
 * @example
 * ```ts
 * import { DEFAULT_BACKEND_LIMITS } from "./backend_budget.ts";
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

const BATCH_CUT = "The values of this update passed the limit of one batch; the rest were not sent";

/** Estimated bytes of a client value and of properties one variable holds. */
interface Held {
  value: number;
  properties: number;
}

/**
 * Keeps one session's variables within its {@link BackendLimits} and variable count; every
 * check throws a {@link FailureError} with code `limit` (or `too-large` for a cut batch).
 *
 * @example
 * ```ts
 * import { BackendBudget, DEFAULT_BACKEND_LIMITS } from "./backend_budget.ts";
 * const budget = new BackendBudget<unknown>({ ...DEFAULT_BACKEND_LIMITS, maxVariables: 10 });
 * budget.checkCapacity(3); // fine: 3 of 10
 * budget.hold(1, 0, 400);
 * budget.clientValueBytes; // 400
 * ```
 */
export class BackendBudget<V> {
  readonly #limits: BackendLimits & { maxVariables: number };
  /** Depth of each variable: 0 for a root. */
  readonly #depth = new WeakMap<Variable<V>, number>();
  /** Estimated bytes of client values and properties each variable holds, by id. */
  readonly #held = new Map<number, Held>();
  #heldTotal = 0;
  /** Value JSON the current batch may still build. */
  #batchJsonLeft = Infinity;
  /** Each table's JSON (or failure) by type during a batch, keyed by the table itself. */
  #encoded: Map<unknown, Map<string | undefined, string | FailureError>> | undefined;

  /** Creates an empty budget. */
  constructor(limits: BackendLimits & { maxVariables: number }) {
    this.#limits = limits;
  }

  /** Estimated bytes of client values and properties this session holds. */
  get clientValueBytes(): number {
    return this.#heldTotal;
  }

  /** Throws `limit` when a session of `size` variables may not have one more. */
  checkCapacity(size: number, id?: number): void {
    if (size >= this.#limits.maxVariables) {
      throw new FailureError(
        "limit",
        `Session has ${size} variables; the limit is ${this.#limits.maxVariables}`,
        id,
      );
    }
  }

  /** The depth a child of `parent` would have; throws `limit` past the cap. */
  childDepth(parent: Variable<V> | undefined, id?: number): number {
    const depth = parent ? (this.#depth.get(parent) ?? 0) + 1 : 0;
    if (depth > this.#limits.maxVariableDepth) {
      throw new FailureError(
        "limit",
        `Variables nest ${depth} deep here; the limit is ${this.#limits.maxVariableDepth}`,
        id,
      );
    }
    return depth;
  }

  /** Records the depth of a variable made (from {@link childDepth}). */
  placed(variable: Variable<V>, depth: number): void {
    this.#depth.set(variable, depth);
  }

  /** Bytes a client value would hold, counted up to just past the session's budget. */
  valueCost(json: unknown): number {
    return clientValueBytes(json, this.#limits.maxClientValueBytes);
  }

  /** Bytes held by properties, as sent. */
  propertiesCost(properties: Properties): number {
    return propertyBytes(properties);
  }

  /** How many more bytes a variable's properties would hold after setting these. */
  propertiesDelta(variable: Variable<V>, properties: Properties): number {
    let more = 0;
    for (const [raw, value] of Object.entries(properties)) {
      const name = splitPriority(raw)[0];
      const before = variable.properties.get(name);
      more += propertyBytes({ [name]: value }) -
        (before === undefined ? 0 : propertyBytes({ [name]: before }));
    }
    return more;
  }

  /** Throws `limit` when `more` bytes of client values would pass the session's budget. */
  checkHeld(more: number, id: number): void {
    const max = this.#limits.maxClientValueBytes;
    if (more > 0 && this.#heldTotal + more > max) {
      throw new FailureError(
        "limit",
        `This session would hold about ${this.#heldTotal + more} bytes of client values; ` +
          `the limit is ${max}, so the message was refused`,
        id,
      );
    }
  }

  /** What a variable holds now (nothing for one not counted). */
  held(id: number): Held {
    return this.#held.get(id) ?? { value: 0, properties: 0 };
  }

  /** Records what a variable holds now. */
  hold(id: number, value: number, properties: number): void {
    const before = this.#held.get(id);
    this.#heldTotal += value + properties - (before ? before.value + before.properties : 0);
    this.#held.set(id, { value, properties });
  }

  /** Forgets what a removed variable held. */
  released(removed: Variable<V>): void {
    const held = this.#held.get(removed.id);
    if (!held) return;
    this.#heldTotal -= held.value + held.properties;
    this.#held.delete(removed.id);
  }

  /**
   * The world as change detection sees it: every value JSON is bounded by the per-variable limit
   * and by what is left of the batch's. Within a batch a table is encoded once per type, however
   * many variables show it (its JSON is still charged to the batch each time it is sent): one
   * batch is one snapshot of the session's values.
   */
  world(world: ValueWorld<V>): ValueWorld<V> {
    const { maxValueBytes } = this.#limits;
    return {
      ...world,
      encode: (value, type) => {
        if (this.#batchJsonLeft <= 0) throw new FailureError("too-large", BATCH_CUT);
        const limit = Math.min(maxValueBytes, this.#batchJsonLeft);
        const memo = typeof value === "object" && value !== null
          ? this.#encoded?.get(value)
          : undefined;
        const known = memo?.get(type);
        if (known instanceof FailureError) throw known;
        let json: string;
        if (typeof known === "string" && known.length <= limit) json = known;
        else {
          try {
            json = world.encode(value, type, limit);
          } catch (error) {
            if (!(error instanceof FailureError)) throw error;
            if (limit === maxValueBytes) {
              this.#remember(value, type, error);
              throw error;
            }
            this.#batchJsonLeft = 0;
            throw new FailureError("too-large", BATCH_CUT);
          }
          this.#remember(value, type, json);
        }
        this.#batchJsonLeft -= json.length;
        return json;
      },
    };
  }

  /** Keeps a table's JSON (or its per-variable failure) for the rest of the batch. */
  #remember(value: V | null, type: string | undefined, result: string | FailureError): void {
    if (!this.#encoded || typeof value !== "object" || value === null) return;
    let byType = this.#encoded.get(value);
    if (!byType) this.#encoded.set(value, byType = new Map());
    byType.set(type, result);
  }

  /**
   * Runs one batch's change detection within the batch's JSON budget; a cut batch reports one
   * error in `out`, not one per variable left out.
   */
  batch(out: Outgoing, detect: () => void): void {
    this.#batchJsonLeft = BATCH_JSON_FACTOR * this.#limits.maxFlushBytes;
    this.#encoded = new Map();
    try {
      detect();
    } finally {
      this.#batchJsonLeft = Infinity;
      this.#encoded = undefined;
    }
    const cut = out.errors.filter((error) => error.description === BATCH_CUT);
    if (cut.length > 0) {
      out.errors = out.errors.filter((error) => error.description !== BATCH_CUT);
      out.errors.push(
        newFailure("too-large", `${BATCH_CUT} (${cut.length} variables)`),
      );
    }
  }
}
