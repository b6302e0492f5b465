/**
 * Hot reload (`--hotload`): watches a site's `lua/` and `viewdefs/` folders, updates the site,
 * and tells its listener which Lua file or viewdef changed (the session manager re-runs the file
 * in the sessions that loaded it and re-sends the viewdef to those that have its type). Bursts
 * of file events are debounced.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { type Site, viewdefKey } from "./site.ts";

/** Options of {@link watchSite}. */
export interface HotloadOptions {
  site: Site;
  /** A site Lua file (`a/b.lua`) changed; resolves once the sessions re-ran it. */
  luaChanged(file: string): Promise<void>;
  /** A viewdef changed; resolves once the sessions that had it were sent the new one. */
  viewdefChanged(key: string): Promise<void>;
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
 * import { watchSite } from "./hotload.ts";
 * import { EMBEDDED_SITE, loadSite } from "./site.ts";
 * import { silentLogger } from "../log.ts";
 * const hotload = watchSite({
 *   site: await loadSite(EMBEDDED_SITE),
 *   luaChanged: async (file) => console.log(`re-run ${file}`),
 *   viewdefChanged: async (key) => console.log(`re-send ${key}`),
 *   log: silentLogger,
 * });
 * hotload.close();
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
    await options.luaChanged(file);
  };

  const reloadViewdef = async (path: string) => {
    const key = viewdefKey(path);
    const template = await readOrUndefined(path);
    if (template === undefined) return site.viewdefs.delete(key);
    if (site.viewdefs.get(key) === template) return;
    site.viewdefs.set(key, template);
    log.info(`Reloading viewdef ${key}`);
    await options.viewdefChanged(key);
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
