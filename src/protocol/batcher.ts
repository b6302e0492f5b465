/**
 * Outgoing flush rules (SPEC 8): what one batch of work produced, merged until the flush, then
 * written as one frame: viewdefs first, then destroys, then updates high, medium, low, then
 * errors. A user event flushes at once; anything else waits up to 10 ms to coalesce.
 *
 * @module
 */
import type { ErrorData, Properties, ServerMessage } from "./messages.ts";
import type { Priority } from "../variables/tree.ts";

/** One `update` the server sends. */
export interface OutgoingUpdate {
  varId: number;
  /** Value JSON text, when the value is sent. */
  json?: string;
  properties?: Properties;
}

/** What one batch of work produced for a connection. */
export interface Outgoing {
  /** New viewdefs as `{key: template}`, sent as variable 1's `viewdefs` property. */
  viewdefs?: Record<string, string>;
  destroys: number[];
  /** Updates by priority: high, medium, low; parents before children within each. */
  updates: [OutgoingUpdate[], OutgoingUpdate[], OutgoingUpdate[]];
  errors: ErrorData[];
}

/**
 * An empty {@link Outgoing}.
 *
 * @example
 * ```ts
 * import { emptyOutgoing } from "./batcher.ts";
 * const out = emptyOutgoing();
 * out.destroys.push(5);
 * ```
 */
export function emptyOutgoing(): Outgoing {
  return { destroys: [], updates: [[], [], []], errors: [] };
}

/** True when there is nothing to send. */
export function isEmpty(out: Outgoing): boolean {
  return out.viewdefs === undefined && out.destroys.length === 0 && out.errors.length === 0 &&
    out.updates.every((group) => group.length === 0);
}

/** Options of {@link createBatcher}. */
export interface BatcherOptions {
  /** Writes one frame (a JSON array of messages). */
  send: (frame: string) => void;
  /** Longest wait before a background flush, in milliseconds. */
  delayMs: number;
}

/** Collects outgoing work for one connection and writes it as frames. */
export interface Batcher {
  /** Adds a batch's results; `immediate` (a user event) flushes now. */
  add(out: Outgoing, immediate: boolean): void;
  /** Writes whatever is pending now. */
  flush(): void;
  /** Drops pending work and stops the timer. */
  close(): void;
}

/**
 * Creates a batcher.
 *
 * @example
 * ```ts
 * import { createBatcher, emptyOutgoing } from "./batcher.ts";
 * const frames: string[] = [];
 * const batcher = createBatcher({ send: (f) => frames.push(f), delayMs: 10 });
 * const out = emptyOutgoing();
 * out.destroys.push(3);
 * batcher.add(out, true); // frames is ['[{"type":"destroy","data":{"varId":3}}]']
 * ```
 */
export function createBatcher(options: BatcherOptions): Batcher {
  let pending = emptyOutgoing();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopTimer = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const flush = () => {
    stopTimer();
    if (isEmpty(pending)) return;
    const frame = encodeFrame(pending);
    pending = emptyOutgoing();
    options.send(frame);
  };
  return {
    add(out, immediate) {
      merge(pending, out);
      if (immediate) flush();
      else if (timer === undefined && !isEmpty(pending)) timer = setTimeout(flush, options.delayMs);
    },
    flush,
    close() {
      stopTimer();
      pending = emptyOutgoing();
    },
  };
}

/** Merges `from` into `into`; a later update of the same variable replaces the earlier one's value. */
export function merge(into: Outgoing, from: Outgoing): void {
  if (from.viewdefs) into.viewdefs = { ...into.viewdefs, ...from.viewdefs };
  into.destroys.push(...from.destroys);
  into.errors.push(...from.errors);
  const destroyed = new Set(from.destroys);
  const known = new Map<number, OutgoingUpdate>();
  for (const group of into.updates) for (const update of group) known.set(update.varId, update);
  from.updates.forEach((group, priority) => {
    for (const update of group) {
      const existing = known.get(update.varId);
      if (existing) {
        if (update.json !== undefined) existing.json = update.json;
        if (update.properties) {
          existing.properties = { ...existing.properties, ...update.properties };
        }
      } else {
        const copy = { ...update };
        known.set(copy.varId, copy);
        into.updates[priority as Priority].push(copy);
      }
    }
  });
  if (destroyed.size > 0) {
    into.updates = into.updates.map((group) =>
      group.filter((update) => !destroyed.has(update.varId))
    ) as Outgoing["updates"];
  }
}

/**
 * Writes a batch as one frame: a JSON array of messages in the order of SPEC 8.
 *
 * @example
 * ```ts
 * import { emptyOutgoing, encodeFrame } from "./batcher.ts";
 * const out = emptyOutgoing();
 * out.updates[1].push({ varId: 2, json: "5" });
 * encodeFrame(out); // '[{"type":"update","data":{"varId":2,"value":5}}]'
 * ```
 */
export function encodeFrame(out: Outgoing): string {
  const parts: string[] = [];
  if (out.viewdefs) {
    const message: ServerMessage = {
      type: "update",
      data: { varId: 1, properties: { viewdefs: JSON.stringify(out.viewdefs) } },
    };
    parts.push(JSON.stringify(message));
  }
  for (const varId of out.destroys) {
    parts.push(JSON.stringify({ type: "destroy", data: { varId } }));
  }
  for (const group of out.updates) {
    for (const update of group) parts.push(encodeUpdate(update));
  }
  for (const error of out.errors) parts.push(JSON.stringify({ type: "error", data: error }));
  return `[${parts.join(",")}]`;
}

function encodeUpdate(update: OutgoingUpdate): string {
  // The value is already value JSON text; splice it in rather than parse and re-encode it.
  let data = `{"varId":${update.varId}`;
  if (update.json !== undefined) data += `,"value":${update.json}`;
  if (update.properties) data += `,"properties":${JSON.stringify(update.properties)}`;
  return `{"type":"update","data":${data}}}`;
}
