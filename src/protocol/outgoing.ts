/**
 * What one batch of work produced for a connection, and how it is written (SPEC 8): viewdefs
 * first, then destroys, then updates high, medium, low, then errors, as one frame.
 *
 * @module
 */
import type { Failure } from "../failure.ts";
import type { Changes, VariableUpdate } from "../variables/change_detection.ts";
import type { Priority } from "../variables/variable.ts";
import type { ServerMessage } from "./messages.ts";

/** One `update` the server sends. */
export type OutgoingUpdate = VariableUpdate;

/** What one batch of work produced for a connection. */
export interface Outgoing extends Changes {
  /** New viewdefs as `{key: template}`, sent as variable 1's `viewdefs` property. */
  viewdefs?: Record<string, string>;
  destroys: number[];
}

/**
 * An empty {@link Outgoing}.
 *
 * @example
 * ```ts
 * import { emptyOutgoing } from "./outgoing.ts";
 * const out = emptyOutgoing();
 * out.destroys.push(5);
 * ```
 */
export function emptyOutgoing(): Outgoing {
  return { destroys: [], updates: [[], [], []], errors: [] };
}

/**
 * An {@link Outgoing} holding one error.
 *
 * @example
 * ```ts
 * import { errorOutgoing } from "./outgoing.ts";
 * errorOutgoing({ code: "limit", description: "Too many frames" }).errors.length; // 1
 * ```
 */
export function errorOutgoing(error: Failure): Outgoing {
  const out = emptyOutgoing();
  out.errors.push(error);
  return out;
}

/**
 * True when there is nothing to send.
 *
 * @example
 * ```ts
 * import { emptyOutgoing, isEmpty } from "./outgoing.ts";
 * isEmpty(emptyOutgoing()); // true
 * ```
 */
export function isEmpty(out: Outgoing): boolean {
  if (out.viewdefs !== undefined || out.destroys.length > 0 || out.errors.length > 0) return false;
  for (const group of out.updates) if (group.length > 0) return false;
  return true;
}

/**
 * Merges `from` into `into`; a later update of the same variable replaces the earlier one's value.
 *
 * @example
 * ```ts
 * import { emptyOutgoing, merge } from "./outgoing.ts";
 * const into = emptyOutgoing();
 * const from = emptyOutgoing();
 * from.destroys.push(4);
 * merge(into, from); // into.destroys is [4]
 * ```
 */
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
 * Writes a batch as one frame: a JSON array of messages in the order of SPEC 8. With `limit`,
 * updates that would take the frame past `limit` characters are left out and one `too-large`
 * error says so (viewdefs, destroys and errors are always written).
 *
 * @example
 * ```ts
 * import { emptyOutgoing, encodeFrame } from "./outgoing.ts";
 * const out = emptyOutgoing();
 * out.updates[1].push({ varId: 2, json: "5" });
 * encodeFrame(out); // '[{"type":"update","data":{"varId":2,"value":5}}]'
 * ```
 */
export function encodeFrame(out: Outgoing, limit = Infinity): string {
  const parts: string[] = [];
  let size = 0;
  let cut = 0;
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
  for (const part of parts) size += part.length + 1;
  for (const group of out.updates) {
    for (const update of group) {
      const part = encodeUpdate(update);
      if (size + part.length + 1 > limit) {
        cut++;
        continue;
      }
      size += part.length + 1;
      parts.push(part);
    }
  }
  const errors = cut === 0 ? out.errors : [
    ...out.errors,
    {
      code: "too-large",
      description: `This flush passed the limit of ${limit} bytes; ${cut} updates were not sent`,
    } satisfies Failure,
  ];
  for (const error of errors) parts.push(JSON.stringify({ type: "error", data: error }));
  return `[${parts.join(",")}]`;
}

/**
 * A frame holding one error (for refusals made before a session is reached).
 *
 * @example
 * ```ts
 * import { errorFrame } from "./outgoing.ts";
 * errorFrame({ code: "bad-message", description: "Frames must be text, not binary" });
 * // '[{"type":"error","data":{"code":"bad-message","description":"Frames must be text, not binary"}}]'
 * ```
 */
export function errorFrame(error: Failure): string {
  return encodeFrame(errorOutgoing(error));
}

function encodeUpdate(update: OutgoingUpdate): string {
  // The value is already value JSON text; splice it in rather than parse and re-encode it.
  let data = `{"varId":${update.varId}`;
  if (update.json !== undefined) data += `,"value":${update.json}`;
  if (update.properties) data += `,"properties":${JSON.stringify(update.properties)}`;
  return `{"type":"update","data":${data}}}`;
}
