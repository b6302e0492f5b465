/**
 * The wire protocol's message types (SPEC 4): parsing and validating a client frame, and the
 * messages the server sends.
 *
 * @module
 */
import { splitPriority } from "../variables/tree.ts";

/** The error codes of SPEC 12. */
export type ErrorCode =
  | "bad-message"
  | "unknown-type"
  | "not-found"
  | "duplicate-id"
  | "bad-access"
  | "path-failure"
  | "lua-error"
  | "lua-timeout"
  | "lua-memory"
  | "forbidden"
  | "too-large"
  | "limit";

/** A property map as sent on the wire. */
export type Properties = Record<string, string>;

/** `create`: the frontend binds a new variable. */
export interface CreateMessage {
  type: "create";
  data: {
    id: number;
    parentId: number;
    properties: Properties;
    /** Present when the frontend sent a value (any JSON). */
    value?: unknown;
    nowatch: boolean;
    unbound: boolean;
  };
}

/** `update` from the frontend: a value written through the path, and/or properties. */
export interface UpdateMessage {
  type: "update";
  data: { varId: number; value?: unknown; hasValue: boolean; properties?: Properties };
}

/** `destroy`, `watch` or `unwatch` of a variable. */
export interface VarMessage {
  type: "destroy" | "watch" | "unwatch";
  data: { varId: number };
}

/** A validated message from the client. */
export type ClientMessage = CreateMessage | UpdateMessage | VarMessage;

/** A message the server sends. */
export type ServerMessage =
  | { type: "update"; data: { varId: number; value?: unknown; properties?: Properties } }
  | { type: "destroy"; data: { varId: number } }
  | { type: "error"; data: ErrorData };

/** The body of an `error` message. */
export interface ErrorData {
  varId?: number;
  code: ErrorCode;
  description: string;
}

/** A frame's messages, each either valid or already turned into the error to answer. */
export interface ParsedFrame {
  userEvent: boolean;
  items: (ClientMessage | { error: ErrorData })[];
}

/** Limits applied while parsing. */
export interface ParseLimits {
  maxFrameBytes: number;
  maxMessagesPerFrame: number;
}

/**
 * A protocol error raised by the handlers; it becomes an `error` message and the session goes on.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "./messages.ts";
 * throw new ProtocolError("not-found", "Variable 7 does not exist", 7);
 * ```
 */
export class ProtocolError extends Error {
  /** The SPEC 12 code. */
  readonly code: ErrorCode;
  /** The variable concerned, if any. */
  readonly varId?: number;

  /** Creates an error with a code, a sentence-case description and an optional variable. */
  constructor(code: ErrorCode, description: string, varId?: number) {
    super(description);
    this.code = code;
    this.varId = varId;
  }

  /** The body of the `error` message that reports this error. */
  toData(): ErrorData {
    return errorData(this.code, this.message, this.varId);
  }
}

/**
 * Builds the body of an `error` message, leaving out `varId` when no variable is concerned.
 *
 * @example
 * ```ts
 * import { errorData } from "./messages.ts";
 * errorData("not-found", "Variable 7 does not exist", 7);
 * ```
 */
export function errorData(code: ErrorCode, description: string, varId?: number): ErrorData {
  return varId === undefined ? { code, description } : { varId, code, description };
}

const MESSAGE_TYPES = new Set(["create", "update", "destroy", "watch", "unwatch"]);

/**
 * Parses one client frame: a batch `{userEvent, messages}`, a bare message or a bare array.
 * Invalid messages become errors in place so that the valid ones still run.
 *
 * @example
 * ```ts
 * import { parseFrame } from "./messages.ts";
 * const frame = parseFrame('{"type":"watch","data":{"varId":1}}', {
 *   maxFrameBytes: 1 << 20,
 *   maxMessagesPerFrame: 1000,
 * });
 * // frame.items[0] is { type: "watch", data: { varId: 1 } }
 * ```
 */
export function parseFrame(text: string, limits: ParseLimits): ParsedFrame {
  if (exceedsBytes(text, limits.maxFrameBytes)) {
    throw new ProtocolError("too-large", `Frame exceeds ${limits.maxFrameBytes} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProtocolError("bad-message", "Frame is not valid JSON");
  }
  let userEvent = false;
  let messages: unknown[];
  if (Array.isArray(json)) messages = json;
  else if (isRecord(json) && "messages" in json) {
    if (!Array.isArray(json.messages)) {
      throw new ProtocolError("bad-message", "Frame field 'messages' must be an array");
    }
    messages = json.messages;
    userEvent = json.userEvent === true;
  } else if (isRecord(json)) messages = [json];
  else throw new ProtocolError("bad-message", "Frame must be an object or an array");
  if (messages.length > limits.maxMessagesPerFrame) {
    throw new ProtocolError(
      "limit",
      `Frame has ${messages.length} messages; the limit is ${limits.maxMessagesPerFrame}`,
    );
  }
  const items = messages.map((message) => {
    try {
      return parseMessage(message);
    } catch (error) {
      if (error instanceof ProtocolError) return { error: error.toData() };
      throw error;
    }
  });
  return { userEvent, items };
}

/**
 * Validates one message object.
 *
 * @example
 * ```ts
 * import { parseMessage } from "./messages.ts";
 * parseMessage({ type: "destroy", data: { varId: 4 } });
 * ```
 */
export function parseMessage(message: unknown): ClientMessage {
  if (!isRecord(message)) throw new ProtocolError("bad-message", "Message must be an object");
  const { type, data } = message;
  if (typeof type !== "string") {
    throw new ProtocolError("bad-message", "Message field 'type' must be a string");
  }
  if (!MESSAGE_TYPES.has(type)) {
    throw new ProtocolError("unknown-type", `Unknown message type '${type.slice(0, 40)}'`);
  }
  if (!isRecord(data)) {
    throw new ProtocolError("bad-message", `Message '${type}' needs a 'data' object`);
  }
  if (type === "create") {
    const id = integerField(data, "id", type);
    if (id < 2) throw new ProtocolError("bad-message", "Created variable ids start at 2", id);
    const parentId = integerField(data, "parentId", type);
    const properties = data.properties === undefined ? {} : propertiesField(data.properties, id);
    const hasPath = Object.keys(properties).some((name) => splitPriority(name)[0] === "path");
    if (parentId !== 0 && !hasPath) {
      throw new ProtocolError("bad-message", "A child variable needs a 'path' property", id);
    }
    const create: CreateMessage = {
      type,
      data: {
        id,
        parentId,
        properties,
        nowatch: data.nowatch === true,
        unbound: data.unbound === true,
      },
    };
    if ("value" in data) create.data.value = data.value;
    return create;
  }
  const varId = integerField(data, "varId", type);
  if (type === "update") {
    const update: UpdateMessage = { type, data: { varId, hasValue: "value" in data } };
    if ("value" in data) update.data.value = data.value;
    if (data.properties !== undefined) {
      update.data.properties = propertiesField(data.properties, varId);
    }
    return update;
  }
  return { type: type as VarMessage["type"], data: { varId } };
}

/** True when the UTF-8 encoding of `text` is longer than `max` bytes. */
function exceedsBytes(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).length > max;
}

function integerField(data: Record<string, unknown>, name: string, type: string): number {
  const value = data[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new ProtocolError("bad-message", `Message '${type}' needs an integer '${name}'`);
  }
  return value;
}

function propertiesField(value: unknown, varId: number): Properties {
  if (!isRecord(value)) {
    throw new ProtocolError("bad-message", "Field 'properties' must be an object", varId);
  }
  const properties: Properties = {};
  for (const [name, property] of Object.entries(value)) {
    // The ui-engine frontend sends strings; plain scalars are accepted as their text.
    if (typeof property === "string") properties[name] = property;
    else if (typeof property === "number" || typeof property === "boolean") {
      properties[name] = String(property);
    } else {
      throw new ProtocolError("bad-message", `Property '${name}' must be a string`, varId);
    }
  }
  return properties;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
