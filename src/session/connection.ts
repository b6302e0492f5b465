/**
 * One connection of a session, as the transport sees it: its batcher and the backpressure that
 * closes a reader too slow for its output (1013), its frame rate, the bound on text waiting to
 * be handled, and the handling of each frame. Which connection holds the session (takeover,
 * refusal, the reconnect grace period) is src/session/session_connections.ts's, reached through
 * {@link ConnectionEvents}.
 *
 * Transport-agnostic: a connection is anything that can send a text frame and be closed.
 *
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../config.ts";
import type { Logger } from "../log.ts";
import { FailureError, newFailure } from "../failure.ts";
import { type Batcher, createBatcher } from "../protocol/batcher.ts";
import { errorOutgoing } from "../protocol/outgoing.ts";
import { type ParsedFrame, parseFrame } from "../protocol/messages.ts";
import type { LuaSession } from "./lua_session.ts";
import { reportLuaErrors } from "./lua_errors.ts";
import { createByteRate, createRateLimit } from "./rate_limit.ts";

/**
 * The transport side of a connection.
 *
 * @example
 * ```ts
 * import type { ConnectionSink } from "./connection.ts";
 * const frames: string[] = [];
 * const sink: ConnectionSink = { send: (frame) => frames.push(frame), close() {} };
 * sink.send("[]");
 * ```
 */
export interface ConnectionSink {
  /** Sends one text frame. */
  send(frame: string): void;
  /** Closes the transport with a WebSocket close code. */
  close(code: number, reason: string): void;
  /** Bytes sent but not yet written to the network (a WebSocket's `bufferedAmount`). */
  bufferedAmount?(): number;
}

/**
 * A live connection, as the transport sees it.
 *
 * @example
 * ```ts ignore
 * // `manager` is a SessionManager; the edge hands every text frame to `receive`.
 * const connection: Connection = manager.connect(sid, sink);
 * await connection.receive('{"type":"watch","data":{"varId":1}}');
 * connection.closed();
 * ```
 */
export interface Connection {
  /** The session this connection belongs to; throws while it is still being restored. */
  readonly session: LuaSession;
  /** Resolves with the session once it is ready (restored from the store, or new). */
  readonly ready: Promise<LuaSession>;
  /** Handles one text frame from the client; never rejects. */
  receive(text: string): Promise<void>;
  /** The transport closed; safe to call more than once. */
  closed(): void;
}

/**
 * Close code sent to a connection that reads its output too slowly; it may reconnect later.
 *
 * @example
 * ```ts
 * import { TOO_SLOW } from "./connection.ts";
 * TOO_SLOW; // 1013
 * ```
 */
export const TOO_SLOW = 1013;
/**
 * Frames per second one connection may send, unless configured otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_FRAMES_PER_SECOND } from "./connection.ts";
 * DEFAULT_MAX_FRAMES_PER_SECOND; // 1000
 * ```
 */
export const DEFAULT_MAX_FRAMES_PER_SECOND = 1000;
/**
 * How many frames' worth of text (in `--max-frame-bytes`) one connection may have waiting to be
 * handled; a frame beyond is dropped with `limit`.
 *
 * @example
 * ```ts
 * import { WAITING_FRAMES } from "./connection.ts";
 * const maxWaitingBytes = WAITING_FRAMES * 1_000_000; // with --max-frame-bytes 1000000
 * ```
 */
export const WAITING_FRAMES = 4;

/**
 * The limits and timings of one connection: a part of the manager's options.
 *
 * @example
 * ```ts
 * import type { ConnectionOptions } from "./connection.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * const options: ConnectionOptions = { ...DEFAULT_CONFIG, maxFramesPerSecond: 100 };
 * ```
 */
export type ConnectionOptions =
  & Pick<Config, "maxFrameBytes" | "maxMessagesPerFrame">
  & Partial<Pick<Config, "dev" | "maxFlushBytes" | "maxUnsentBytes" | "maxBytesPerSecond">>
  & {
    /** Longest wait before a background flush, in milliseconds. */
    flushDelayMs?: number;
    /** Frames one connection may send per second; more are refused with `limit`. */
    maxFramesPerSecond?: number;
  };

/**
 * A connection with the state its session's connections keep of it.
 *
 * @example
 * ```ts ignore
 * const connection: LiveConnection = createConnection(sink, events, DEFAULT_CONFIG);
 * connection.live; // false until it holds the session
 * ```
 */
export interface LiveConnection extends Connection {
  /** The transport. */
  readonly sink: ConnectionSink;
  /** Its output, batched. */
  readonly batcher: Batcher;
  /** Not closed yet. */
  active: boolean;
  /** The session's connection (not waiting for its first frame). */
  live: boolean;
  /** Its first frame has not arrived yet. */
  first: boolean;
  /** It went live with a dropped connection's variables still kept. */
  resumed: boolean;
  /** Sends the session's output to this connection. */
  attach(session: LuaSession): void;
}

/**
 * What a connection asks of its session's connections (src/session/session_connections.ts).
 *
 * @example
 * ```ts
 * import type { ConnectionEvents } from "./connection.ts";
 * import type { LuaSession } from "./lua_session.ts";
 * import { silentLogger } from "../log.ts";
 * declare const session: LuaSession;
 * const events: ConnectionEvents = {
 *   session: () => session,
 *   ready: () => Promise.resolve(session),
 *   log: () => silentLogger,
 *   firstFrame: (_connection, startsOver) => startsOver ? "starts-over" : "continues",
 *   closed: () => {},
 *   tooSlow: () => {},
 * };
 * ```
 */
export interface ConnectionEvents {
  /** The session once it is ready; undefined while it is restored. */
  session(): LuaSession | undefined;
  /** Resolves with the session once it is ready. */
  ready(): Promise<LuaSession>;
  /** The session's log, or the server's while the session is not ready. */
  log(): Logger;
  /**
   * The first frame arrived (`startsOver`: it has `watch 1`): the connection is refused, or it
   * holds the session and, when it starts over, the variables of the connection before go
   * before this frame runs.
   */
  firstFrame(
    connection: LiveConnection,
    startsOver: boolean,
  ): "refused" | "starts-over" | "continues";
  /** The transport of an active connection closed. */
  closed(connection: LiveConnection): void;
  /** The connection is being closed for leaving too much output unsent. */
  tooSlow(): void;
}

/** A first frame with `watch 1`: a page starting over (ui-engine's reconnects never send it). */
function startsOver(frame: ParsedFrame): boolean {
  return frame.items.some((item) =>
    "type" in item && item.type === "watch" && item.data.varId === 1
  );
}

/**
 * Makes a connection over a transport; it waits for its session's connections to make it live.
 *
 * @example
 * ```ts ignore
 * // src/session/session_connections.ts makes every connection; `events` are its answers.
 * const connection = createConnection(sink, events, DEFAULT_CONFIG);
 * await connection.receive('{"type":"watch","data":{"varId":1}}');
 * ```
 */
export function createConnection(
  sink: ConnectionSink,
  events: ConnectionEvents,
  options: ConnectionOptions,
): LiveConnection {
  const log = events.log;
  const maxUnsent = options.maxUnsentBytes ?? DEFAULT_CONFIG.maxUnsentBytes;
  const batcher = createBatcher({
    send: (frame) => {
      try {
        sink.send(frame);
      } catch (error) {
        log().debug(`Send failed: ${error}`);
      }
      const unsent = sink.bufferedAmount?.() ?? 0;
      if (unsent > maxUnsent && connection.active) tooSlow(unsent);
    },
    delayMs: options.flushDelayMs ?? 10,
    maxFrameBytes: options.maxFlushBytes ?? DEFAULT_CONFIG.maxFlushBytes,
  });
  const rate = createRateLimit(options.maxFramesPerSecond ?? DEFAULT_MAX_FRAMES_PER_SECOND);
  const maxWaiting = WAITING_FRAMES * options.maxFrameBytes;
  const bytes = createByteRate(
    options.maxBytesPerSecond ?? DEFAULT_CONFIG.maxBytesPerSecond,
    maxWaiting,
  );
  let waiting = 0;
  const connection: LiveConnection = {
    get session(): LuaSession {
      const session = events.session();
      if (!session) throw new Error("Session is still being restored");
      return session;
    },
    ready: events.ready(),
    sink,
    batcher,
    active: true,
    live: false,
    first: true,
    resumed: false,
    attach: (session) => {
      if (!connection.active) return;
      session.attach((out, immediate) => {
        reportLuaErrors(session.log, out, options.dev ?? false);
        if (connection.active) batcher.add(out, immediate);
      });
    },
    receive: async (text) => {
      if (!connection.active) return;
      // Frames arrive faster than a session may handle them: what waits is bounded, so a
      // client cannot queue up memory (each parsed frame can be several times its text).
      // Parsing is the one cost a frame has before any budget applies, so what a connection
      // sends is bounded in bytes per second too: the excess is dropped unparsed.
      const refusal = waiting + text.length > maxWaiting
        ? `This connection's earlier frames are still being handled (${waiting} bytes); ` +
          "this frame was dropped"
        : !bytes(text.length)
        ? "This connection sent too many bytes per second; this frame was dropped"
        : undefined;
      if (refusal !== undefined) {
        batcher.add(errorOutgoing(newFailure("limit", refusal)), true);
        return;
      }
      waiting += text.length;
      const session = events.session() ?? await events.ready();
      try {
        if (!rate()) {
          throw new FailureError("limit", "Too many frames per second; this frame was dropped");
        }
        const frame = parseFrame(text, options);
        if (connection.first && connection.active) {
          connection.first = false;
          const first = events.firstFrame(connection, startsOver(frame));
          if (first === "refused") return;
          // A page starting over re-creates what it needs: the variables of the connection
          // before (taken over, or kept after a drop) go, before this frame runs.
          if (first === "starts-over") await session.connectionClosed();
        }
        if (!connection.active) return;
        await session.handleFrame(frame);
      } catch (error) {
        if (!connection.active) return;
        if (error instanceof FailureError) {
          session.log.debug(`Frame refused (${error.code}): ${error.message}`);
          batcher.add(errorOutgoing(error.failure), true);
        } else {
          session.log.error(`Frame failed: ${(error as Error)?.stack ?? error}`);
          const failure = newFailure("bad-message", "The server could not handle this frame");
          batcher.add(errorOutgoing(failure), true);
        }
      } finally {
        waiting -= text.length;
      }
    },
    closed: () => {
      if (!connection.active) return;
      events.closed(connection);
    },
  };

  /**
   * A reader too slow for its output: the connection is closed and its queued output dropped;
   * the session stays for a reconnect.
   */
  function tooSlow(unsent: number): void {
    events.tooSlow();
    log().warn(`Connection closed: ${unsent} bytes unsent, the limit is ${maxUnsent}`);
    connection.closed();
    try {
      sink.close(TOO_SLOW, "Too much unsent output; reconnect later");
    } catch {
      // The socket is already gone.
    }
  }
  return connection;
}
