/**
 * Session persistence: keeps each session's snapshot in a {@link SessionStore} so that a restart,
 * a redeploy or a reconnect that lands on another instance finds the session again.
 *
 * - A session this process does not hold is claimed from the store: the claim makes this
 *   instance its owner and hands back the last snapshot, if any, to restore from.
 * - A reconnect to a session this process holds claims it again: if another instance owned it
 *   meanwhile, this copy is stale and the session is restored from the newer snapshot.
 * - A session that ran Lua is saved at most once per `delayMs` (debounced), when its last
 *   connection closes, and by {@link Persistence.saveAll} on shutdown before sockets close.
 * - A connected session that is idle is touched, so the store does not expire it.
 * - A save or touch the store refuses (another instance claimed the session since) gives the
 *   session up: `lost(sid)` tells the manager to drop its copy and close its socket, so two
 *   instances never both write one session.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Lease, SessionStore } from "../store/session_store.ts";
import type { LuaSession } from "./lua_session.ts";

/** Options of {@link createPersistence}. */
export interface PersistenceOptions {
  store: SessionStore;
  /** This process's id as an owner in the store. */
  instanceId: string;
  log: Logger;
  /** Longest time a change waits before it is saved, in milliseconds. */
  delayMs: number;
  /** How often an idle, connected session's record is renewed, in milliseconds. */
  touchMs: number;
  /** The store refused a write: another instance owns the session now. */
  lost(sid: string): void;
}

/** What a claim found. */
export interface ClaimedSession {
  /** The snapshot to restore from; undefined for a new session (or an unreadable record). */
  snapshot: Uint8Array | undefined;
}

/** A process's session persistence. */
export interface Persistence {
  /** Claims a session for this instance; never rejects (a store failure means a fresh session). */
  claim(sid: string): Promise<ClaimedSession>;
  /**
   * Claims a session this process holds again (a reconnect): `stale` when another instance
   * claimed it since, with the snapshot to restore from; the lease is renewed either way.
   */
  reclaim(sid: string): Promise<{ stale: boolean; snapshot: Uint8Array | undefined }>;
  /** Starts saving a claimed session. */
  track(sid: string, session: LuaSession): void;
  /** Saves now if it changed (a connection closed); resolves when done. */
  save(sid: string): Promise<void>;
  /** Saves every changed session (shutdown). */
  saveAll(): Promise<void>;
  /** Stops saving a session; `ended` (it expired here) also deletes its record. */
  forget(sid: string, ended: boolean): void;
  /** Stops the timers and closes the store. */
  close(): Promise<void>;
}

interface Tracked {
  session: LuaSession;
  lease: Lease;
  lastWrite: number;
  saving: Promise<void> | undefined;
}

/**
 * Creates the persistence of one process.
 *
 * @example
 * ```ts
 * import { createPersistence } from "./persistence.ts";
 * import { openSessionStore } from "../store/open_session_store.ts";
 * import { silentLogger } from "../log.ts";
 * const persistence = createPersistence({
 *   store: await openSessionStore("memory", { ttlMs: 60_000 }),
 *   instanceId: crypto.randomUUID(),
 *   log: silentLogger,
 *   delayMs: 1000,
 *   touchMs: 20_000,
 *   lost: (sid) => console.log(`${sid} moved`),
 * });
 * const { snapshot } = await persistence.claim("0123456789abcdef0123456789abcdef");
 * await persistence.close();
 * ```
 */
export function createPersistence(options: PersistenceOptions): Persistence {
  const { store, instanceId, log } = options;
  const leases = new Map<string, Lease>();
  const tracked = new Map<string, Tracked>();
  /** Sessions a reconnect is claiming again now: a write refused meanwhile proves nothing. */
  const claiming = new Set<string>();

  const write = (sid: string, entry: Tracked, force: boolean): Promise<void> => {
    // A save in flight may have started before the latest change: write again after it.
    if (entry.saving) return entry.saving.then(() => write(sid, entry, force));
    const idle = Date.now() - entry.lastWrite >= options.touchMs;
    if (!entry.session.dirty && !force && !idle) return Promise.resolve();
    entry.saving = (async () => {
      try {
        let result;
        let lease = entry.lease;
        if (entry.session.dirty || force) {
          const saved = await entry.session.snapshot();
          if (!saved.ok) {
            entry.session.log.error(`Snapshot failed: ${saved.failure.description}`);
            return;
          }
          lease = entry.lease;
          result = await store.save(lease, saved.value.bytes);
        } else {
          result = await store.touch(lease);
        }
        entry.lastWrite = Date.now();
        // A write refused for a lease that a reconnect has renewed since, or is renewing now, says
        // nothing: only a refusal of the current lease means another instance owns the session
        // (and a claim in flight finds that out itself).
        if (
          result === "lost" && tracked.get(sid) === entry && entry.lease === lease &&
          !claiming.has(sid)
        ) {
          entry.session.log.info("Session claimed by another instance; giving it up");
          tracked.delete(sid);
          options.lost(sid);
        }
      } catch (error) {
        // The session shut down meanwhile, or the store failed: the next tick tries again.
        if (!entry.session.closed) log.warn(`Saving a session failed: ${error}`);
      } finally {
        entry.saving = undefined;
      }
    })();
    return entry.saving;
  };

  const tick = setInterval(() => {
    for (const [sid, entry] of tracked) write(sid, entry, false);
  }, options.delayMs);
  Deno.unrefTimer(tick);

  return {
    async claim(sid) {
      try {
        const { lease, previous } = await store.claim(sid, instanceId);
        leases.set(sid, lease);
        if (previous?.corrupt) log.error(`Stored session is unreadable: ${previous.corrupt}`);
        return { snapshot: previous?.snapshot ?? undefined };
      } catch (error) {
        log.error(`Session store claim failed; starting a fresh session: ${error}`);
        return { snapshot: undefined };
      }
    },
    async reclaim(sid) {
      const entry = tracked.get(sid);
      claiming.add(sid);
      try {
        const { lease, previous } = await store.claim(sid, instanceId);
        const ours = entry !== undefined && previous !== null &&
          previous.owner === instanceId && previous.generation === entry.lease.generation;
        if (ours) {
          entry.lease = lease;
          return { stale: false, snapshot: undefined };
        }
        // This copy is stale: the session restored from the snapshot is tracked instead.
        tracked.delete(sid);
        leases.set(sid, lease);
        if (previous?.corrupt) log.error(`Stored session is unreadable: ${previous.corrupt}`);
        return { stale: true, snapshot: previous?.snapshot ?? undefined };
      } catch (error) {
        // The store is out of reach: keep serving this copy; saves retry later.
        log.warn(`Session store claim failed; keeping this copy: ${error}`);
        return { stale: false, snapshot: undefined };
      } finally {
        claiming.delete(sid);
      }
    },
    track(sid, session) {
      const lease = leases.get(sid);
      leases.delete(sid);
      if (lease) tracked.set(sid, { session, lease, lastWrite: Date.now(), saving: undefined });
    },
    async save(sid) {
      const entry = tracked.get(sid);
      if (entry) await write(sid, entry, false);
    },
    async saveAll() {
      await Promise.all([...tracked].map(([sid, entry]) => write(sid, entry, false)));
    },
    forget(sid, ended) {
      const entry = tracked.get(sid);
      tracked.delete(sid);
      if (ended && entry) {
        store.delete(sid).catch((error) => log.warn(`Deleting a stored session failed: ${error}`));
      }
    },
    async close() {
      clearInterval(tick);
      await Promise.all([...tracked.values()].map((entry) => entry.saving));
      tracked.clear();
      await store.close();
    },
  };
}
