/**
 * The session manager: the session table. sid → session, vended ids, sessions made, restored
 * or reclaimed from the store, idle ones evicted to make room or expired after the timeout,
 * drain and hot reload for the edge, shutdown.
 *
 * Each session's connections (takeover, backpressure, the reconnect grace period) are
 * {@link SessionConnections} (src/session/session_connections.ts), each made of connections
 * (src/session/connection.ts).
 *
 * @module
 */
import type { SessionHost } from "./host_builtins/session_host.ts";
import { type Config, DEFAULT_CONFIG } from "../config.ts";
import type { Logger } from "../log.ts";
import { FailureError, newFailure } from "../failure.ts";
import type { Site } from "../site/site.ts";
import type { Connection, ConnectionSink } from "./connection.ts";
import type { LuaSession } from "./lua_session.ts";
import type { Persistence } from "./persistence.ts";
import { SessionConnections } from "./session_connections.ts";
import { type AddressRateLimit, createAddressRateLimit } from "./rate_limit.ts";
import { createMemoryCeiling, type MemoryCeiling } from "./memory_ceiling.ts";
import type { MemoryCeilingOptions } from "./memory_ceiling.ts";
import { createSessionFactory, type SessionFactory } from "./spare_sessions.ts";

/**
 * Who is connecting, as the edge saw it.
 *
 * @example
 * ```ts
 * import type { ConnectInfo } from "./manager.ts";
 * const info: ConnectInfo = { address: "203.0.113.7" };
 * ```
 */
export interface ConnectInfo {
  /** The client's address; new sessions are rate-limited per address. */
  address?: string;
}

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
      | "hostCallTimeoutMs"
      | "maxBytesPerSecond"
      | "maxProcessMemory"
    >
  >
  & {
    /** The host functions Lua gets in each session (`host_builtins/session_host.ts`). */
    hostTables?: SessionHost;
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
    /** The process-wide memory ceiling's timings and measure (`maxProcessMemory` sets it). */
    memoryCeiling?: Partial<MemoryCeilingOptions>;
    /** Fresh sessions kept made ahead (`spare_sessions.ts`; default 1, 0 for none). */
    spareSessions?: number;
  };

interface Entry {
  sid: string;
  /** The session once it is ready; undefined while it is claimed and restored. */
  session: LuaSession | undefined;
  ready: Promise<LuaSession>;
  expiry: ReturnType<typeof setTimeout> | undefined;
  /** The live connection, those waiting for their first frame, and kept variables. */
  connections: SessionConnections;
}

/** Counts of what the manager refused or shed, for `/healthz` and tests. */
export interface ManagerStats {
  /** New sessions refused because their address started too many. */
  sessionsRateLimited: number;
  /** Idle sessions dropped to make room for new ones. */
  sessionsEvicted: number;
  /** Connections closed because they left too much output unsent. */
  slowReadersClosed: number;
  /** Sessions shed because the process passed its memory ceiling. */
  sessionsShed: number;
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
  readonly #ceiling: MemoryCeiling;
  readonly #stats: ManagerStats = {
    sessionsRateLimited: 0,
    sessionsEvicted: 0,
    slowReadersClosed: 0,
    sessionsShed: 0,
  };
  readonly #factory: SessionFactory;
  #connections = 0;
  #closing = false;

  /** Creates a manager with no sessions. */
  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#newSessions = createAddressRateLimit(
      options.sessionsPerMinute ?? DEFAULT_CONFIG.sessionsPerMinute,
    );
    this.#ceiling = createMemoryCeiling({
      entries: () => this.#entries.values(),
      shed: (sid, why) => this.#shed(sid, why),
      log: options.log,
    }, { ...options.memoryCeiling, maxBytes: options.maxProcessMemory });
    this.#factory = createSessionFactory({
      site: options.site,
      log: options.log,
      hostTables: options.hostTables,
      spares: options.spareSessions,
      session: {
        instructionBudget: options.instructionBudget,
        maxSessionMemory: options.maxSessionMemory,
        maxVariables: options.maxVariables,
        inlineLua: options.inlineLua,
        openPaths: options.openPaths,
        limits: {
          maxVariableDepth: options.maxVariableDepth,
          maxClientValueBytes: options.maxClientValueBytes,
          maxValueBytes: options.maxValueBytes,
          maxFlushBytes: options.maxFlushBytes,
        },
        dev: options.dev,
        hostCallTimeoutMs: options.hostCallTimeoutMs,
      },
    });
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
    this.#factory.discard();
    for (const session of this.#sessions()) await session.reloadFile(file);
  }

  /** Hot reload: sends a changed viewdef to every session whose connection has its type. */
  async resendViewdef(key: string): Promise<void> {
    this.#factory.discard();
    for (const session of this.#sessions()) await session.resendViewdef(key);
  }

  /** Another instance owns the session now: drop this copy and close its socket. */
  lost(sid: string): void {
    const entry = this.#entries.get(sid);
    if (!entry) return;
    this.#entries.delete(sid);
    this.#idle.delete(sid);
    if (entry.expiry !== undefined) clearTimeout(entry.expiry);
    entry.connections.closeAll("Session moved to another instance");
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
      if (!this.#ceiling.admit()) {
        throw new FailureError("limit", "Server is low on memory; try again in a minute");
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
    return entry.connections.open(sink);
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

  /** Over the memory ceiling: the session is saved (with a store) and dropped, its client told. */
  #shed(sid: string, why: string): void {
    const entry = this.#entries.get(sid);
    if (!entry) return;
    this.#stats.sessionsShed++;
    this.#drop(entry, false, newFailure("limit", `${why}; this session was closed`));
    entry.ready.then((session) => session.log.warn(`Session shed: ${why}`));
  }

  /** Removes an entry (closing any connection) and shuts its session down. */
  #drop(entry: Entry, ended: boolean, shed?: ReturnType<typeof newFailure>): void {
    this.#entries.delete(entry.sid);
    this.#idle.delete(entry.sid);
    if (entry.expiry !== undefined) clearTimeout(entry.expiry);
    const reason = ended ? "Session expired" : shed ? "Server is low on memory" : "Session evicted";
    entry.connections.closeAll(reason, shed);
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
      expiry: undefined,
      connections: new SessionConnections({
        session: () => entry.session,
        ready: () => entry.ready,
        log: this.#options.log,
        counted: (delta) => this.#connections += delta,
        tooSlow: () => this.#stats.slowReadersClosed++,
        idle: () => {
          this.#scheduleExpiry(entry);
          this.#options.persistence?.save(entry.sid);
        },
      }, this.#options),
    };
    if (!persistence) {
      const session = this.#createSession(sid, undefined);
      entry.session = session;
      entry.ready = Promise.resolve(session);
      return entry;
    }
    entry.ready = persistence.claim(sid).then(({ snapshot }) => {
      const session = this.#createSession(sid, snapshot);
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
      const fresh = this.#createSession(entry.sid, snapshot);
      entry.session = fresh;
      if (this.#entries.get(entry.sid) === entry && !this.#closing) {
        persistence.track(entry.sid, fresh);
      }
      return fresh;
    });
  }

  #createSession(sid: string, snapshot: Uint8Array | undefined): LuaSession {
    return this.#factory.make(sid, snapshot);
  }

  #scheduleExpiry(entry: Entry): void {
    this.#idle.delete(entry.sid);
    this.#idle.set(entry.sid, entry);
    if (this.#options.sessionTimeoutMs === 0) return; // 0 is forever, as in ui-engine
    entry.expiry = setTimeout(() => {
      if (entry.connections.connected || this.#entries.get(entry.sid) !== entry) return;
      this.#drop(entry, true);
      entry.ready.then((session) => session.log.info("Session expired"));
    }, this.#options.sessionTimeoutMs);
  }

  /** Closes every connection with 1012 and shuts every session down. */
  shutdown(): void {
    this.#closing = true;
    this.#ceiling.stop();
    this.#factory.close();
    for (const entry of this.#entries.values()) {
      if (entry.expiry !== undefined) clearTimeout(entry.expiry);
      entry.connections.closeAll("Server restarting");
      entry.ready.then((session) => session.shutdown());
    }
    this.#entries.clear();
    this.#idle.clear();
  }
}
