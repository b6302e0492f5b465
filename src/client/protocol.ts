/// <reference lib="dom" />
/**
 * The wire shapes the browser client sends and receives (SPEC 4): every message is
 * `{type, data}`; the client sends `{userEvent, messages}` frames and receives arrays.
 *
 * @module
 */

/** A property map as it travels on the wire: names to strings. */
export type Properties = Record<string, string>;

/** A message the client sends. */
export type OutgoingMessage =
  | {
    type: "create";
    data: { id: number; parentId: number; properties: Properties };
  }
  | { type: "update"; data: { varId: number; value?: unknown; properties?: Properties } }
  | { type: "destroy" | "watch" | "unwatch"; data: { varId: number } };

/** A message the server sends, as far as the client reads it. */
export interface IncomingMessage {
  type: string;
  data: {
    varId?: number;
    value?: unknown;
    properties?: Properties;
    code?: string;
    description?: string;
    /** The development overlay's details of an error (`--hotload` servers only). */
    details?: unknown;
  };
}

/**
 * Parses a server frame: a JSON array of messages (a single message object is accepted too).
 * Items that are not `{type, data}` objects are dropped.
 *
 * @example
 * ```ts
 * import { parseServerFrame } from "./protocol.ts";
 * parseServerFrame('[{"type":"destroy","data":{"varId":4}}]'); // one destroy message
 * ```
 */
export function parseServerFrame(text: string): IncomingMessage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    console.warn("Ignoring a frame that is not JSON");
    return [];
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.filter((item): item is IncomingMessage =>
    item !== null && typeof item === "object" && typeof item.type === "string" &&
    item.data !== null && typeof item.data === "object"
  );
}
