/**
 * The connections of one session: at most one live, a few waiting for their first frame. A
 * waiting one whose first frame starts over takes the session (the older is closed with 4000);
 * one that continues is refused (4001) while another holds it. A dropped connection's variables
 * are kept for a grace period, for a reconnect that continues.
 *
 * The session table (src/session/manager.ts) reaches it through a {@link ConnectionHost}; each
 * connection (src/session/connection.ts) through its events.
 *
 * @module
 */
import type { Failure } from "../failure.ts";
import type { Logger } from "../log.ts";
import { errorOutgoing } from "../protocol/outgoing.ts";
import {
  type Connection,
  type ConnectionOptions,
  type ConnectionSink,
  createConnection,
  type LiveConnection,
} from "./connection.ts";
import type { LuaSession } from "./lua_session.ts";

/**
 * Close code sent to a connection replaced by a newer one for the same session.
 *
 * @example
 * ```ts
 * import { TAKEN_OVER } from "./session_connections.ts";
 * TAKEN_OVER; // 4000
 * ```
 */
export const TAKEN_OVER = 4000;
/**
 * Close code for a connection that did not start over (its first frame has no `watch 1`) while
 * another window holds the session: ui-engine's frontend reconnecting after a takeover. The
 * older window stays out instead of taking the session back.
 *
 * @example
 * ```ts
 * import { OPEN_ELSEWHERE } from "./session_connections.ts";
 * OPEN_ELSEWHERE; // 4001
 * ```
 */
export const OPEN_ELSEWHERE = 4001;
/**
 * Close code sent when the server shuts down, so that clients reconnect.
 *
 * @example
 * ```ts
 * import { SERVICE_RESTART } from "./session_connections.ts";
 * SERVICE_RESTART; // 1012
 * ```
 */
export const SERVICE_RESTART = 1012;
/**
 * How long a dropped connection's variables are kept for a reconnect that continues.
 *
 * @example
 * ```ts
 * import { DEFAULT_RECONNECT_GRACE_MS } from "./session_connections.ts";
 * DEFAULT_RECONNECT_GRACE_MS; // 30000
 * ```
 */
export const DEFAULT_RECONNECT_GRACE_MS = 30_000;
/**
 * How long a connection that found no variables of its page may stay silent before the server
 * asks its page to render again ({@link LuaSession.reannounce}): a page that starts sends
 * `watch 1` at once (ui-engine's frontend within its 50 ms batch), a reconnecting ui-engine
 * frontend sends nothing.
 *
 * @example
 * ```ts
 * import { REANNOUNCE_AFTER_MS } from "./session_connections.ts";
 * REANNOUNCE_AFTER_MS; // 500
 * ```
 */
export const REANNOUNCE_AFTER_MS = 500;
/** Connections one session may hold waiting for their first frame besides the live one. */
const MAX_WAITING = 8;

/**
 * The options of {@link SessionConnections}: each connection's, and the grace period.
 *
 * @example
 * ```ts
 * import type { SessionConnectionsOptions } from "./session_connections.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * const options: SessionConnectionsOptions = { ...DEFAULT_CONFIG, reconnectGraceMs: 0 };
 * ```
 */
export type SessionConnectionsOptions = ConnectionOptions & {
  /** How long a dropped connection's variables wait for a reconnect, in milliseconds. */
  reconnectGraceMs?: number;
};

/**
 * What {@link SessionConnections} needs from the session table: its entry's session, and what
 * to do when a connection is counted, closed as too slow, or the session is left idle.
 *
 * @example
 * ```ts
 * import type { ConnectionHost } from "./session_connections.ts";
 * import type { LuaSession } from "./lua_session.ts";
 * import { silentLogger } from "../log.ts";
 * declare const session: LuaSession;
 * let connections = 0;
 * const host: ConnectionHost = {
 *   session: () => session,
 *   ready: () => Promise.resolve(session),
 *   log: silentLogger,
 *   counted: (delta) => connections += delta,
 *   tooSlow: () => {},
 *   idle: () => {},
 * };
 * ```
 */
export interface ConnectionHost {
  /** The session once it is ready; undefined while it is restored. */
  session(): LuaSession | undefined;
  /** Resolves with the session once it is ready (the current promise: a reclaim replaces it). */
  ready(): Promise<LuaSession>;
  /** Where to log while the session is not ready yet. */
  readonly log: Logger;
  /** A connection was opened (+1) or ended (-1). */
  counted(delta: number): void;
  /** A connection was closed for leaving too much output unsent. */
  tooSlow(): void;
  /** The live connection closed and no other took its place: the session has none now. */
  idle(): void;
}

/**
 * One session's connections: at most one live, a few waiting for their first frame, and the
 * variables a dropped one left, kept for a grace period.
 *
 * @example
 * ```ts ignore
 * // `host` wires it to the manager's entry (see ConnectionHost).
 * const connections = new SessionConnections(host, DEFAULT_CONFIG);
 * const connection = connections.open(sink);
 * connections.closeAll("Server restarting");
 * ```
 */
export class SessionConnections {
  readonly #host: ConnectionHost;
  readonly #options: SessionConnectionsOptions;
  #live: LiveConnection | undefined;
  /** Connections that wait for their first frame while another one is live. */
  readonly #waiting = new Set<LiveConnection>();
  /** Drops the variables a dropped connection left, unless a reconnect continues first. */
  #kept: ReturnType<typeof setTimeout> | undefined;
  /** A live connection with no variables of its page, silent so far: when to re-announce. */
  #silent: { connection: LiveConnection; timer: ReturnType<typeof setTimeout> } | undefined;

  /** Creates the (empty) connections of one session. */
  constructor(host: ConnectionHost, options: SessionConnectionsOptions) {
    this.#host = host;
    this.#options = options;
  }

  /** True while the session has a live connection. */
  get connected(): boolean {
    return this.#live !== undefined;
  }

  #log(): Logger {
    return this.#host.session()?.log ?? this.#host.log;
  }

  /**
   * Attaches a transport: it goes live at once when the session has no connection, else it
   * waits for its first frame (or is refused when too many wait already).
   */
  open(sink: ConnectionSink): Connection {
    const host = this.#host;
    const connection = createConnection(sink, {
      session: () => host.session(),
      ready: () => host.ready(),
      log: () => this.#log(),
      firstFrame: (connection, over) => this.#firstFrame(connection, over),
      closed: (connection) => this.#closed(connection),
      tooSlow: () => host.tooSlow(),
    }, this.#options);
    host.counted(1);
    if (!this.#live) {
      this.#goLive(connection);
      if (!connection.resumed) this.#awaitStart(connection);
      return connection;
    }
    // Another window holds the session: this one takes it over only when its first frame
    // starts over (`watch 1`), so a reconnecting ui-engine tab cannot take it back.
    if (this.#waiting.size >= MAX_WAITING) {
      this.#refuse(connection);
    } else {
      this.#waiting.add(connection);
    }
    return connection;
  }

  /**
   * A connection that went live without kept variables: a page that starts sends `watch 1`
   * first; one that stays silent, or whose first frame continues, kept a page this session has
   * no variables of (a ui-engine frontend after a restart), so it is asked to render again.
   */
  #awaitStart(connection: LiveConnection): void {
    const timer = setTimeout(() => {
      if (this.#silent?.connection !== connection) return;
      this.#silent = undefined;
      if (!connection.active || !connection.first) return;
      this.#host.ready().then((session) => {
        if (connection.active && connection.first) return session.reannounce();
      }).catch(() => {});
    }, REANNOUNCE_AFTER_MS);
    this.#silent = { connection, timer };
  }

  /** Stops waiting for a connection's first frame; true if it was still awaited. */
  #stopAwaiting(connection: LiveConnection): boolean {
    if (this.#silent?.connection !== connection) return false;
    clearTimeout(this.#silent.timer);
    this.#silent = undefined;
    return true;
  }

  /** The takeover rules, on a connection's first frame. */
  #firstFrame(
    connection: LiveConnection,
    over: boolean,
  ): "refused" | "starts-over" | "continues" {
    // Queued now, so it runs before this frame does.
    if (this.#stopAwaiting(connection) && !over) this.#host.session()?.reannounce();
    const tookOver = over && !connection.live;
    if (tookOver) this.#takeOver(connection);
    else if (!connection.live && this.#live) {
      this.#refuse(connection);
      return "refused";
    } else if (!connection.live) this.#goLive(connection);
    return tookOver || (over && connection.resumed) ? "starts-over" : "continues";
  }

  /** Makes a connection the session's live one; it continues with kept variables, if any. */
  #goLive(connection: LiveConnection): void {
    this.#waiting.delete(connection);
    this.#live = connection;
    connection.live = true;
    const log = this.#log();
    if (this.#kept !== undefined) {
      clearTimeout(this.#kept);
      this.#kept = undefined;
      connection.resumed = true;
      this.#host.ready().then((session) => session.connectionResumed());
    }
    log.info(connection.resumed ? "Reconnected" : "Connected");
    const session = this.#host.session();
    if (session) connection.attach(session);
    else this.#host.ready().then((session) => connection.attach(session));
  }

  /** A waiting connection started over: it takes the session from the live one (4000). */
  #takeOver(connection: LiveConnection): void {
    const previous = this.#live;
    if (previous) {
      this.#detach(previous, false);
      try {
        previous.sink.close(TAKEN_OVER, "Session taken over by a newer connection");
      } catch (error) {
        this.#host.log.debug(`Closing a taken-over socket failed: ${error}`);
      }
    }
    this.#goLive(connection);
    this.#log().info("Connection taken over");
  }

  /** Closes a connection that may not have the session (another window holds it). */
  #refuse(connection: LiveConnection): void {
    this.#waiting.delete(connection);
    connection.active = false;
    connection.batcher.close();
    this.#host.counted(-1);
    this.#log().info("Connection refused: open in another window");
    try {
      connection.sink.close(OPEN_ELSEWHERE, "Session is open in another window");
    } catch {
      // The socket is already gone.
    }
  }

  /**
   * Closes the live and the waiting connections (1012) and drops kept variables' timer; a
   * `notice` goes to each first, as an `error` message.
   */
  closeAll(reason: string, notice?: Failure): void {
    if (this.#silent) this.#stopAwaiting(this.#silent.connection);
    if (this.#kept !== undefined) clearTimeout(this.#kept);
    this.#kept = undefined;
    for (const connection of [...this.#waiting, ...(this.#live ? [this.#live] : [])]) {
      if (notice) connection.batcher.add(errorOutgoing(notice), false);
      if (connection.live || notice) connection.batcher.flush();
      this.#waiting.delete(connection);
      this.#detach(connection, false);
      try {
        connection.sink.close(SERVICE_RESTART, reason);
      } catch {
        // The socket is already gone.
      }
    }
  }

  /** An active connection's transport closed. */
  #closed(connection: LiveConnection): void {
    if (!connection.live) {
      // A waiting connection goes quietly.
      this.#waiting.delete(connection);
      connection.active = false;
      connection.batcher.close();
      this.#host.counted(-1);
      return;
    }
    // Keep the variables for a reconnect that continues (ui-engine's frontend re-creates
    // nothing), unless another window waits for the session.
    this.#detach(connection, this.#waiting.size === 0);
    if (this.#live !== undefined) return;
    this.#host.idle();
  }

  #detach(connection: LiveConnection, keep: boolean): void {
    this.#stopAwaiting(connection);
    if (!connection.active) return;
    connection.active = false;
    connection.batcher.close();
    this.#host.counted(-1);
    this.#waiting.delete(connection);
    if (this.#live !== connection) return;
    this.#live = undefined;
    const grace = this.#options.reconnectGraceMs ?? DEFAULT_RECONNECT_GRACE_MS;
    if (keep && grace > 0) {
      this.#host.ready().then((session) => session.log.info("Connection closed; variables kept"));
      this.#kept = setTimeout(() => {
        this.#kept = undefined;
        this.#host.ready().then((session) => session.connectionClosed());
      }, grace);
      return;
    }
    // Queued behind any frame still running, so the frame sees the variables it expects.
    this.#host.ready().then((session) => {
      session.connectionClosed();
      session.log.info("Connection closed");
    });
  }
}
