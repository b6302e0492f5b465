/**
 * Hot reload (`--hotload`): watches a site's `lua/` and `viewdefs/` folders; a changed Lua file
 * re-runs in every live session that had loaded it (with `session.reloading` set), followed by
 * mutation and change detection; a changed viewdef is re-sent to the sessions that had its type.
 * Bursts of file events are debounced.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { LuaSession } from "../session/lua_session.ts";
import { type Site, viewdefKey } from "./site.ts";

/** Options of {@link watchSite}. */
export interface HotloadOptions {
  site: Site;
  /** The live sessions, read when a change lands. */
  sessions: () => Iterable<LuaSession>;
  log: Logger;
  /** Quiet time before a burst of events is applied, in milliseconds. */
  debounceMs?: number;
}

/** A running watcher. */
export interface Hotload {
  /** Stops watching. */
  close(): void;
  /** Resolves after the next batch of changes has been applied (for tests). */
  applied(): Promise<void>;
}

/**
 * Starts watching a site.
 *
 * @example
 * ```ts
 * // const hotload = watchSite({ site, sessions: () => manager.sessions(), log });
 * // ... later: hotload.close();
 * ```
 */
export function watchSite(options: HotloadOptions): Hotload {
  const { site, log } = options;
  const luaDir = `${site.root}/lua/`;
  const viewdefDir = `${site.root}/viewdefs/`;
  const changed = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waiters: (() => void)[] = [];
  const watcher = Deno.watchFs([luaDir, viewdefDir].filter(exists), { recursive: true });

  const apply = async () => {
    timer = undefined;
    const paths = [...changed];
    changed.clear();
    for (const path of paths) {
      try {
        if (path.startsWith(luaDir) && path.endsWith(".lua")) {
          await reloadLua(path.slice(luaDir.length));
        } else if (path.startsWith(viewdefDir) && path.endsWith(".html")) {
          await reloadViewdef(path);
        }
      } catch (error) {
        log.error(`Hot reload of ${path} failed: ${error}`);
      }
    }
    for (const wake of waiters.splice(0)) wake();
  };

  const reloadLua = async (file: string) => {
    const source = await readOrUndefined(`${luaDir}${file}`);
    if (source === undefined) return void site.lua.delete(file);
    if (site.lua.get(file) === source) return;
    site.lua.set(file, source);
    log.info(`Reloading lua/${file}`);
    for (const session of options.sessions()) {
      if (!session.loadedFiles.has(file)) continue;
      await session.executeInSession(() => {
        const failure = session.reload(file);
        if (failure) session.reportFailure(`Reload of lua/${file}`, failure);
      }).catch(() => {});
    }
  };

  const reloadViewdef = async (path: string) => {
    const key = viewdefKey(path);
    const template = await readOrUndefined(path);
    if (template === undefined) return site.viewdefs.delete(key);
    if (site.viewdefs.get(key) === template) return;
    site.viewdefs.set(key, template);
    log.info(`Reloading viewdef ${key}`);
    for (const session of options.sessions()) await session.resendViewdef(key);
  };

  (async () => {
    try {
      for await (const event of watcher) {
        for (const path of event.paths) changed.add(path);
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(apply, options.debounceMs ?? 50);
      }
    } catch (error) {
      log.warn(`File watching stopped: ${error}`);
    }
  })();

  return {
    close() {
      if (timer !== undefined) clearTimeout(timer);
      watcher.close();
      for (const wake of waiters.splice(0)) wake();
      waiters = [];
    },
    applied() {
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}
