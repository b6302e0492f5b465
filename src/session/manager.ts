/**
 * The session manager: sid → session, vended ids, one live connection per session (a newer one
 * takes over, the older is closed with 4000), and the idle timeout after the last connection.
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
import type { Site } from "../site/site.ts";
import { refreshSite } from "../site/refresh.ts";
import { LuaSession } from "./lua_session.ts";
import { reportLuaErrors } from "./lua_errors.ts";
import type { Persistence } from "./persistence.ts";
import { type AddressRateLimit, createAddressRateLimit, createRateLimit } from "./rate_limit.ts";

/** The transport side of a connection. */
export interface ConnectionSink {
  send(frame: string): void;
  close(code: number, reason: string): void;
  /** Bytes sent but not yet written to the network (a WebSocket's `bufferedAmount`). */
  bufferedAmount?(): number;
}

/** Who is connecting, as the edge saw it. */
export interface ConnectInfo {
  /** The client's address; new sessions are rate-limited per address. */
  address?: string;
}

/** A live connection, as the transport sees it. */
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

/** Close code sent to a connection replaced by a newer one for the same session. */
export const TAKEN_OVER = 4000;
/**
 * Close code for a connection that did not start over (its first frame has no `watch 1`) while
 * another window holds the session: ui-engine's frontend reconnecting after a takeover. The
 * older window stays out instead of taking the session back.
 */
export const OPEN_ELSEWHERE = 4001;
/** How long a dropped connection's variables are kept for a reconnect that continues. */
export const DEFAULT_RECONNECT_GRACE_MS = 30_000;
/** Connections one session may hold waiting for their first frame besides the live one. */
const MAX_WAITING = 8;
/** Close code sent when the server shuts down, so that clients reconnect. */
export const SERVICE_RESTART = 1012;
/** Close code sent to a connection that reads its output too slowly; it may reconnect later. */
export const TOO_SLOW = 1013;

/** Options of {@link SessionManager}. */
export type ManagerOptions =
  & Pick<
    Config,
    | "sessionTimeoutMs"
    | "maxSessions"
    | "maxFrameBytes"
    | "maxMessagesPerFrame"
    | "maxVariables"
    | "instructionBudget"
    | "inlineLua"
  >
  & Partial<
    Pick<
      Config,
      | "openPaths"
      | "dev"
      | "maxVariableDepth"
      | "maxClientValueBytes"
      | "maxValueBytes"
      | "maxFlushBytes"
      | "sessionsPerMinute"
      | "maxUnsentBytes"
    >
  >
  & {
    site: Site;
    log: Logger;
    /** Bytes one session's Lua may hold (`--max-session-memory`; default 64 MiB). */
    maxSessionMemory?: number;
    /** Longest wait before a background flush, in milliseconds. */
    flushDelayMs?: number;
    /** Frames one connection may send per second; more are refused with `limit`. */
    maxFramesPerSecond?: number;
    /** Where sessions are saved so that they outlive the process; none keeps them in memory. */
    persistence?: Persistence;
    /** How long a dropped connection's variables wait for a reconnect, in milliseconds. */
    reconnectGraceMs?: number;
  };

interface Entry {
  sid: string;
  /** The session once it is ready; undefined while it is claimed and restored. */
  session: LuaSession | undefined;
  ready: Promise<LuaSession>;
  connection: LiveConnection | undefined;
  expiry: ReturnType<typeof setTimeout> | undefined;
  /** Connections that wait for their first frame while another one is live. */
  waiting: Set<LiveConnection>;
  /** Drops the variables a dropped connection left, unless a reconnect continues first. */
  kept: ReturnType<typeof setTimeout> | undefined;
}

interface LiveConnection extends Connection {
  readonly sink: ConnectionSink;
  readonly batcher: Batcher;
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

/** A first frame with `watch 1`: a page starting over (ui-engine's reconnects never send it). */
function startsOver(frame: ParsedFrame): boolean {
  return frame.items.some((item) =>
    "type" in item && item.type === "watch" && item.data.varId === 1
  );
}

/** Frames per second one connection may send, unless configured otherwise. */
export const DEFAULT_MAX_FRAMES_PER_SECOND = 1000;

/**
 * How many frames' worth of text (in `--max-frame-bytes`) one connection may have waiting to be
 * handled; a frame beyond is dropped with `limit`.
 */
export const WAITING_FRAMES = 4;

/** Counts of what the manager refused or shed, for `/healthz` and tests. */
export interface ManagerStats {
  /** New sessions refused because their address started too many. */
  sessionsRateLimited: number;
  /** Idle sessions dropped to make room for new ones. */
  sessionsEvicted: number;
  /** Connections closed because they left too much output unsent. */
  slowReadersClosed: number;
}

/** A well-formed session id: 32 lowercase hex characters. */
export const SID_PATTERN = /^[0-9a-f]{32}$/;

/**
 * Makes a fresh session id from a CSPRNG.
 *
 * @example
 * ```ts
 * import { newSid } from "./manager.ts";
 * newSid(); // e.g. "3f2a...": 32 lowercase hex characters
 * ```
 */
export function newSid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Owns every live session of the process.
 *
 * @example
 * ```ts
 * import { newSid, SessionManager } from "./manager.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * import { EMBEDDED_SITE, loadSite } from "../site/site.ts";
 * import { silentLogger } from "../log.ts";
 * const manager = new SessionManager({
 *   ...DEFAULT_CONFIG,
 *   site: await loadSite(EMBEDDED_SITE),
 *   log: silentLogger,
 * });
 * const connection = manager.connect(newSid(), { send: (frame) => console.log(frame), close() {} });
 * await connection.receive('{"type":"watch","data":{"varId":1}}');
 * manager.shutdown();
 * ```
 */
export class SessionManager {
  readonly #options: ManagerOptions;
  readonly #entries = new Map<string, Entry>();
  /** Sessions without a connection, the longest idle first (a Map keeps insertion order). */
  readonly #idle = new Map<string, Entry>();
  readonly #newSessions: AddressRateLimit;
  readonly #stats: ManagerStats = {
    sessionsRateLimited: 0,
    sessionsEvicted: 0,
    slowReadersClosed: 0,
  };
  #nextVendedId = 1;
  #connections = 0;
  #closing = false;

  /** Creates a manager with no sessions. */
  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#newSessions = createAddressRateLimit(
      options.sessionsPerMinute ?? DEFAULT_CONFIG.sessionsPerMinute,
    );
  }

  /** What was refused or shed so far. */
  get stats(): Readonly<ManagerStats> {
    return { ...this.#stats };
  }

  /** Live sessions. */
  get sessionCount(): number {
    return this.#entries.size;
  }

  /** Live connections. */
  get connectionCount(): number {
    return this.#connections;
  }

  /** The session of a sid, if live (and ready). */
  session(sid: string): LuaSession | undefined {
    return this.#entries.get(sid)?.session;
  }

  /** Every ready session. */
  #sessions(): LuaSession[] {
    return [...this.#entries.values()].flatMap((entry) => entry.session ?? []);
  }

  /**
   * Resolves once every session's queued work has run and, with a store, every changed session
   * is saved (for a graceful shutdown, before the sockets close).
   */
  async drain(): Promise<void> {
    await Promise.all(this.#entries.values().map((entry) => entry.ready));
    await Promise.all(this.#sessions().map((session) => session.idle()));
    await this.#options.persistence?.saveAll();
  }

  /** Hot reload: re-runs a changed site Lua file in every session that had run it. */
  async reloadFile(file: string): Promise<void> {
    for (const session of this.#sessions()) await session.reloadFile(file);
  }

  /** Hot reload: sends a changed viewdef to every session whose connection has its type. */
  async resendViewdef(key: string): Promise<void> {
    for (const session of this.#sessions()) await session.resendViewdef(key);
  }

  /** Another instance owns the session now: drop this copy and close its socket. */
  lost(sid: string): void {
    const entry = this.#entries.get(sid);
    if (!entry) return;
    this.#entries.delete(sid);
    this.#idle.delete(sid);
    if (entry.expiry !== undefined) clearTimeout(entry.expiry);
    this.#closeAll(entry, "Session moved to another instance");
    entry.ready.then((session) => session.shutdown());
  }

  /** Every live sid. */
  sids(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Attaches a transport to a session, creating the session (and running `main.lua`) for an
   * unknown sid. A full table makes room by dropping the longest idle session. Throws a
   * {@link FailureError} with code `limit` when the address started too many sessions this
   * minute, or when every session is connected and the process is full.
   */
  connect(sid: string, sink: ConnectionSink, info: ConnectInfo = {}): Connection {
    if (!SID_PATTERN.test(sid)) throw new FailureError("bad-message", "Malformed session id");
    if (this.#closing) throw new FailureError("limit", "Server is shutting down");
    let entry = this.#entries.get(sid);
    if (!entry) {
      if (info.address !== undefined && !this.#newSessions(info.address)) {
        this.#stats.sessionsRateLimited++;
        throw new FailureError(
          "limit",
          "Too many new sessions from this address; try again in a minute",
        );
      }
      if (this.#entries.size >= this.#options.maxSessions && !this.#evictIdle()) {
        throw new FailureError(
          "limit",
          `Server has ${this.#entries.size} connected sessions; the limit is ` +
            `${this.#options.maxSessions}`,
        );
      }
      entry = this.#newEntry(sid);
      this.#entries.set(sid, entry);
    } else if (this.#options.persistence) {
      this.#reclaim(entry);
    }
    if (entry.expiry !== undefined) clearTimeout(entry.expiry);
    entry.expiry = undefined;
    this.#idle.delete(sid);
    const connection = this.#makeConnection(entry, sink);
    this.#connections++;
    if (!entry.connection) {
      this.#goLive(entry, connection);
      return connection;
    }
    // Another window holds the session: this one takes it over only when its first frame
    // starts over (`watch 1`), so a reconnecting ui-engine tab cannot take it back.
    if (entry.waiting.size >= MAX_WAITING) {
      this.#refuse(entry, connection);
    } else {
      entry.waiting.add(connection);
    }
    return connection;
  }

  /** Makes a connection the session's live one; it continues with kept variables, if any. */
  #goLive(entry: Entry, connection: LiveConnection): void {
    entry.waiting.delete(connection);
    entry.connection = connection;
    connection.live = true;
    const log = entry.session?.log ?? this.#options.log;
    if (entry.kept !== undefined) {
      clearTimeout(entry.kept);
      entry.kept = undefined;
      connection.resumed = true;
      entry.ready.then((session) => session.connectionResumed());
    }
    log.info(connection.resumed ? "Reconnected" : "Connected");
    if (entry.session) connection.attach(entry.session);
    else entry.ready.then((session) => connection.attach(session));
  }

  /** A waiting connection started over: it takes the session from the live one (4000). */
  #takeOver(entry: Entry, connection: LiveConnection): void {
    const previous = entry.connection;
    if (previous) {
      this.#detach(entry, previous, false);
      try {
        previous.sink.close(TAKEN_OVER, "Session taken over by a newer connection");
      } catch (error) {
        this.#options.log.debug(`Closing a taken-over socket failed: ${error}`);
      }
    }
    this.#goLive(entry, connection);
    (entry.session?.log ?? this.#options.log).info("Connection taken over");
  }

  /** Closes a connection that may not have the session (another window holds it). */
  #refuse(entry: Entry, connection: LiveConnection): void {
    entry.waiting.delete(connection);
    connection.active = false;
    connection.batcher.close();
    this.#connections--;
    (entry.session?.log ?? this.#options.log).info("Connection refused: open in another window");
    try {
      connection.sink.close(OPEN_ELSEWHERE, "Session is open in another window");
    } catch {
      // The socket is already gone.
    }
  }

  /** Closes the live and the waiting connections of a session (1012) and drops kept ones. */
  #closeAll(entry: Entry, reason: string): void {
    if (entry.kept !== undefined) clearTimeout(entry.kept);
    entry.kept = undefined;
    for (const connection of [...entry.waiting, ...(entry.connection ? [entry.connection] : [])]) {
      if (connection.live) connection.batcher.flush();
      entry.waiting.delete(connection);
      this.#detach(entry, connection, false);
      try {
        connection.sink.close(SERVICE_RESTART, reason);
      } catch {
        // The socket is already gone.
      }
    }
  }

  /** Drops the longest idle session (saved first, when there is a store); false if none. */
  #evictIdle(): boolean {
    const oldest = this.#idle.values().next();
    if (oldest.done) return false;
    const entry = oldest.value;
    this.#drop(entry, false);
    this.#stats.sessionsEvicted++;
    entry.ready.then((session) => session.log.info("Idle session evicted to make room"));
    return true;
  }

  /** Removes an entry without a connection and shuts its session down. */
  #drop(entry: Entry, ended: boolean): void {
    this.#entries.delete(entry.sid);
    this.#idle.delete(entry.sid);
    if (entry.expiry !== undefined) clearTimeout(entry.expiry);
    this.#closeAll(entry, ended ? "Session expired" : "Session evicted");
    const persistence = this.#options.persistence;
    const saved = !ended && persistence ? persistence.save(entry.sid) : Promise.resolve();
    saved.catch(() => {}).finally(() => {
      persistence?.forget(entry.sid, ended);
      entry.ready.then((session) => session.shutdown());
    });
  }

  /** A new entry: its session made now, or claimed from the store and restored first. */
  #newEntry(sid: string): Entry {
    const persistence = this.#options.persistence;
    const entry: Entry = {
      sid,
      session: undefined,
      ready: Promise.resolve() as unknown as Promise<LuaSession>,
      connection: undefined,
      expiry: undefined,
      waiting: new Set(),
      kept: undefined,
    };
    if (!persistence) {
      const session = this.#createSession(undefined);
      entry.session = session;
      entry.ready = Promise.resolve(session);
      return entry;
    }
    entry.ready = persistence.claim(sid).then(({ snapshot }) => {
      const session = this.#createSession(snapshot);
      entry.session = session;
      if (this.#entries.get(sid) === entry && !this.#closing) persistence.track(sid, session);
      return session;
    });
    return entry;
  }

  /**
   * A reconnect to a session this process holds: claim it again, and if another instance owned
   * it meanwhile, replace this stale copy with the session restored from the newer snapshot.
   */
  #reclaim(entry: Entry): void {
    const persistence = this.#options.persistence as Persistence;
    const held = entry.ready;
    entry.session = undefined;
    entry.ready = held.then(async (session) => {
      const { stale, snapshot } = await persistence.reclaim(entry.sid);
      if (!stale) {
        entry.session = session;
        return session;
      }
      session.log.info("Session changed on another instance; restoring its newer copy");
      session.shutdown();
      const fresh = this.#createSession(snapshot);
      entry.session = fresh;
      if (this.#entries.get(entry.sid) === entry && !this.#closing) {
        persistence.track(entry.sid, fresh);
      }
      return fresh;
    });
  }

  #createSession(snapshot: Uint8Array | undefined): LuaSession {
    const vendedId = String(this.#nextVendedId++);
    const log = this.#options.log.forSession(vendedId);
    // New sessions see the current files, with or without --hotload (one stat per site file).
    const changed = refreshSite(this.#options.site);
    if (changed.length > 0) log.info(`Read again for new sessions: ${changed.join(", ")}`);
    const session = LuaSession.create({
      vendedId,
      site: this.#options.site,
      log,
      instructionBudget: this.#options.instructionBudget,
      maxSessionMemory: this.#options.maxSessionMemory,
      maxVariables: this.#options.maxVariables,
      inlineLua: this.#options.inlineLua,
      openPaths: this.#options.openPaths,
      restoreFrom: snapshot,
      limits: {
        maxVariableDepth: this.#options.maxVariableDepth,
        maxClientValueBytes: this.#options.maxClientValueBytes,
        maxValueBytes: this.#options.maxValueBytes,
        maxFlushBytes: this.#options.maxFlushBytes,
      },
      dev: this.#options.dev,
    });
    log.info("Session created");
    return session;
  }

  #makeConnection(entry: Entry, sink: ConnectionSink): LiveConnection {
    const log = () => entry.session?.log ?? this.#options.log;
    const maxUnsent = this.#options.maxUnsentBytes ?? DEFAULT_CONFIG.maxUnsentBytes;
    const batcher = createBatcher({
      send: (frame) => {
        try {
          sink.send(frame);
        } catch (error) {
          log().debug(`Send failed: ${error}`);
        }
        const unsent = sink.bufferedAmount?.() ?? 0;
        if (unsent > maxUnsent && connection.active) this.#tooSlow(entry, connection, unsent);
      },
      delayMs: this.#options.flushDelayMs ?? 10,
      maxFrameBytes: this.#options.maxFlushBytes ?? DEFAULT_CONFIG.maxFlushBytes,
    });
    const limits = this.#options;
    const rate = createRateLimit(limits.maxFramesPerSecond ?? DEFAULT_MAX_FRAMES_PER_SECOND);
    const maxWaiting = WAITING_FRAMES * limits.maxFrameBytes;
    let waiting = 0;
    const connection: LiveConnection = {
      get session(): LuaSession {
        if (!entry.session) throw new Error("Session is still being restored");
        return entry.session;
      },
      ready: entry.ready,
      sink,
      batcher,
      active: true,
      live: false,
      first: true,
      resumed: false,
      attach: (session) => {
        if (!connection.active) return;
        session.attach((out, immediate) => {
          reportLuaErrors(session.log, out, this.#options.dev ?? false);
          if (connection.active) batcher.add(out, immediate);
        });
      },
      receive: async (text) => {
        if (!connection.active) return;
        // Frames arrive faster than a session may handle them: what waits is bounded, so a
        // client cannot queue up memory (each parsed frame can be several times its text).
        if (waiting + text.length > maxWaiting) {
          const failure = newFailure(
            "limit",
            `This connection's earlier frames are still being handled (${waiting} bytes); ` +
              "this frame was dropped",
          );
          batcher.add(errorOutgoing(failure), true);
          return;
        }
        waiting += text.length;
        const session = entry.session ?? await entry.ready;
        try {
          if (!rate()) {
            throw new FailureError("limit", "Too many frames per second; this frame was dropped");
          }
          const frame = parseFrame(text, limits);
          if (connection.first && connection.active) {
            connection.first = false;
            const over = startsOver(frame);
            const tookOver = over && !connection.live;
            if (tookOver) this.#takeOver(entry, connection);
            else if (!connection.live && entry.connection) return this.#refuse(entry, connection);
            else if (!connection.live) this.#goLive(entry, connection);
            // A page starting over re-creates what it needs: the variables of the connection
            // before (taken over, or kept after a drop) go, before this frame runs.
            if (tookOver || (over && connection.resumed)) await session.connectionClosed();
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
        if (!connection.live) return this.#refuseQuietly(entry, connection);
        // Keep the variables for a reconnect that continues (ui-engine's frontend re-creates
        // nothing), unless another window waits for the session.
        this.#detach(entry, connection, entry.waiting.size === 0);
        if (entry.connection !== undefined) return;
        this.#scheduleExpiry(entry);
        this.#options.persistence?.save(entry.sid);
      },
    };
    return connection;
  }

  /**
   * A reader too slow for its output: the connection is closed and its queued output dropped;
   * the session stays for a reconnect.
   */
  #tooSlow(entry: Entry, connection: LiveConnection, unsent: number): void {
    this.#stats.slowReadersClosed++;
    (entry.session?.log ?? this.#options.log).warn(
      `Connection closed: ${unsent} bytes unsent, the limit is ${
        this.#options.maxUnsentBytes ?? DEFAULT_CONFIG.maxUnsentBytes
      }`,
    );
    connection.closed();
    try {
      connection.sink.close(TOO_SLOW, "Too much unsent output; reconnect later");
    } catch {
      // The socket is already gone.
    }
  }

  /** A waiting connection's transport closed. */
  #refuseQuietly(entry: Entry, connection: LiveConnection): void {
    entry.waiting.delete(connection);
    connection.active = false;
    connection.batcher.close();
    this.#connections--;
  }

  #detach(entry: Entry, connection: LiveConnection, keep: boolean): void {
    if (!connection.active) return;
    connection.active = false;
    connection.batcher.close();
    this.#connections--;
    entry.waiting.delete(connection);
    if (entry.connection !== connection) return;
    entry.connection = undefined;
    const grace = this.#options.reconnectGraceMs ?? DEFAULT_RECONNECT_GRACE_MS;
    if (keep && grace > 0) {
      entry.ready.then((session) => session.log.info("Connection closed; variables kept"));
      entry.kept = setTimeout(() => {
        entry.kept = undefined;
        entry.ready.then((session) => session.connectionClosed());
      }, grace);
      return;
    }
    // Queued behind any frame still running, so the frame sees the variables it expects.
    entry.ready.then((session) => {
      session.connectionClosed();
      session.log.info("Connection closed");
    });
  }

  #scheduleExpiry(entry: Entry): void {
    this.#idle.delete(entry.sid);
    this.#idle.set(entry.sid, entry);
    if (this.#options.sessionTimeoutMs === 0) return; // 0 is forever, as in ui-engine
    entry.expiry = setTimeout(() => {
      if (entry.connection || this.#entries.get(entry.sid) !== entry) return;
      this.#drop(entry, true);
      entry.ready.then((session) => session.log.info("Session expired"));
    }, this.#options.sessionTimeoutMs);
  }

  /** Closes every connection with 1012 and shuts every session down. */
  shutdown(): void {
    this.#closing = true;
    for (const entry of this.#entries.values()) {
      if (entry.expiry !== undefined) clearTimeout(entry.expiry);
      this.#closeAll(entry, "Server restarting");
      entry.ready.then((session) => session.shutdown());
    }
    this.#entries.clear();
    this.#idle.clear();
  }
}
