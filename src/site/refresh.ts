/**
 * New sessions see the current files without `--hotload`: before a session is made, each file
 * the site was read from is checked (one `stat` per file) and an edited one is read again into
 * the site, as ui-engine re-reads `main.lua` for each new session. Running sessions are left as
 * they are (only `--hotload` re-runs code in them).
 *
 * @module
 */
import type { Site } from "./site.ts";

/**
 * Re-reads the site files whose size or modification time changed since they were read;
 * returns what changed (`lua/a.lua`, `apps/x.lua`, `viewdefs/T.NS`). A file that vanished keeps
 * its last text. Synchronous, so a session is always made from one consistent site.
 *
 * @example
 * ```ts
 * import { EMBEDDED_SITE, loadSite } from "./site.ts";
 * import { refreshSite } from "./refresh.ts";
 * const site = await loadSite(EMBEDDED_SITE);
 * refreshSite(site); // [] until a file is edited
 * ```
 */
export function refreshSite(site: Site): string[] {
  const changed: string[] = [];
  for (const source of site.sources ?? []) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(source.real);
    } catch {
      continue;
    }
    const mtime = info.mtime?.getTime() ?? 0;
    if (mtime === source.mtime && info.size === source.size) continue;
    let text: string;
    try {
      text = Deno.readTextFileSync(source.real);
    } catch {
      continue;
    }
    source.mtime = mtime;
    source.size = info.size;
    if (source.kind === "lua") {
      if (site.lua.get(source.key) === text) continue;
      site.lua.set(source.key, text);
      changed.push(`lua/${source.key}`);
    } else if (source.kind === "root") {
      if (site.rootLua?.get(source.key) === text) continue;
      site.rootLua?.set(source.key, text);
      changed.push(source.key);
    } else {
      if (site.viewdefs.get(source.key) === text) continue;
      site.viewdefs.set(source.key, text);
      changed.push(`viewdefs/${source.key}`);
    }
  }
  return changed;
}
