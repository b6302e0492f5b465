/**
 * How the session manager makes sessions: fresh ones (running `main.lua`) or restored from a
 * snapshot, and a few fresh ones made ahead ("spares") so that a new session's socket does not
 * wait for a Lua state to be built and `main.lua` to run (about 2 ms of the 2.5 ms a new
 * session's first answer takes otherwise). A spare is made once no new session has come for
 * {@link SPARE_QUIET_MS}: made at once, it would hold up the first frame of the session just
 * taken; and while sessions come faster than that, each is made as it comes, as without spares,
 * so a burst of new sessions costs no more work than before.
 *
 * A fresh session does not depend on its sid, so a spare made ahead is the session that would
 * have been made at connect time, with two exceptions handled here: site files edited since the
 * spare ran `main.lua` (checked on every take, as before every new session; the spares are
 * dropped), and host functions (`hostTables`), which are made for one sid: with those, no spares.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Site } from "../site/site.ts";
import { refreshSite } from "../site/refresh.ts";
import type { SessionHost } from "./host_builtins/session_host.ts";
import { LuaSession, type LuaSessionOptions } from "./lua_session.ts";

/** Fresh sessions kept made ahead, unless configured otherwise. */
export const DEFAULT_SPARE_SESSIONS = 1;
/** How long no new session must come before a spare is made, in milliseconds. */
export const SPARE_QUIET_MS = 10;

/** Options of {@link createSessionFactory}. */
export interface SessionFactoryOptions {
  site: Site;
  log: Logger;
  /** Everything a session is made with besides its id, site, log and snapshot. */
  session: Omit<LuaSessionOptions, "vendedId" | "site" | "log" | "restoreFrom" | "host">;
  /** Host functions, made per session (no spares with these: they are made for one sid). */
  hostTables?: SessionHost;
  /** Fresh sessions kept made ahead (default {@link DEFAULT_SPARE_SESSIONS}; 0 for none). */
  spares?: number;
}

/** Makes sessions for the manager; see the module comment. */
export interface SessionFactory {
  /** A session for `sid`: restored from `snapshot`, or fresh (a spare when one is ready). */
  make(sid: string, snapshot: Uint8Array | undefined): LuaSession;
  /** Drops the spares (site files changed under hot reload); more are made after the next take. */
  discard(): void;
  /** Drops the spares and makes no more. */
  close(): void;
  /** Spares ready now. */
  readonly spareCount: number;
}

/**
 * Creates the session factory of one manager.
 *
 * @example
 * ```ts
 * import { createSessionFactory } from "./spare_sessions.ts";
 * import { EMBEDDED_SITE, loadSite } from "../site/site.ts";
 * import { silentLogger } from "../log.ts";
 * const factory = createSessionFactory({
 *   site: await loadSite(EMBEDDED_SITE),
 *   log: silentLogger,
 *   session: { instructionBudget: 10_000_000, maxVariables: 100_000, inlineLua: false },
 * });
 * const session = factory.make("0123456789abcdef0123456789abcdef", undefined);
 * session.shutdown();
 * factory.close();
 * ```
 */
export function createSessionFactory(options: SessionFactoryOptions): SessionFactory {
  const wanted = options.hostTables ? 0 : options.spares ?? DEFAULT_SPARE_SESSIONS;
  const spares: LuaSession[] = [];
  let nextVendedId = 1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const build = (sid: string, snapshot: Uint8Array | undefined): LuaSession => {
    const vendedId = String(nextVendedId++);
    const host = options.hostTables;
    return LuaSession.create({
      ...options.session,
      vendedId,
      site: options.site,
      log: options.log.forSession(vendedId),
      restoreFrom: snapshot,
      host: host && ((signal) => host({ sessionId: sid, signal })),
    });
  };

  const fill = () => {
    timer = undefined;
    if (closed || spares.length >= wanted) return;
    // No refresh of the site here: a spare made from files since edited is dropped when taken
    // (see make), and a refresh on this timer would take an edit from under the hot reloader,
    // which tells live sessions of the files it finds changed against the site.
    spares.push(build("", undefined));
    if (spares.length < wanted) schedule();
  };

  /** (Re)starts the wait for a quiet moment. */
  const schedule = () => {
    if (closed || wanted === 0) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(fill, SPARE_QUIET_MS);
  };

  const discard = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    for (const spare of spares.splice(0)) spare.shutdown();
  };

  return {
    make(sid, snapshot) {
      // New sessions see the current files, with or without --hotload (one stat per site file).
      const changed = refreshSite(options.site);
      if (changed.length > 0) {
        options.log.info(`Read again for new sessions: ${changed.join(", ")}`);
        discard();
      }
      const spare = snapshot === undefined ? spares.shift() : undefined;
      const session = spare ?? build(sid, snapshot);
      session.log.info("Session created");
      schedule();
      return session;
    },
    discard,
    close() {
      closed = true;
      discard();
    },
    get spareCount() {
      return spares.length;
    },
  };
}
