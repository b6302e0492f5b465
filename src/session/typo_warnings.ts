/**
 * The likely-typo warning: a bound path whose field reads nil on an object with a prototype
 * that has no such field either (see `src/lua/undeclared.ts`) is logged once per session, type
 * and path. Two more rules keep it quiet where the field is real: a field named anywhere in the
 * site's Lua code (`self.selected = nil` in `new`, `{selected = EMPTY}`) is taken as declared,
 * and the built-in `lua.*` types are left alone. The set of paths already seen is capped.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Site } from "../site/site.ts";

/** Paths remembered per session; past this, no more are checked (nor warned). */
export const MAX_TYPO_PATHS = 512;

/** Options of {@link createTypoWarnings}. */
export interface TypoWarningOptions {
  site: Site;
  log: Logger;
  /** Remembered paths at most (default {@link MAX_TYPO_PATHS}). */
  maxPaths?: number;
}

/** One session's likely-typo warnings. */
export interface TypoWarnings {
  /**
   * A field of `path` read nil on an object of `type` whose prototype lacks it; returns the
   * warning when it is new and not explained by the site's code, else undefined.
   */
  check(type: string, path: string, field: string): string | undefined;
  /** Paths remembered so far (at most the cap). */
  readonly size: number;
}

/**
 * Makes a session's likely-typo warnings.
 *
 * @example
 * ```ts
 * import { createTypoWarnings } from "./typo_warnings.ts";
 * import { silentLogger } from "../log.ts";
 * import { ViewdefStore } from "../viewdefs/store.ts";
 * const lua = new Map([["main.lua", "Contact = session:prototype('Contact', {name = ''})"]]);
 * const site = { root: "/m", lua, viewdefs: new ViewdefStore(), htmlDir: undefined };
 * const typos = createTypoWarnings({ site, log: silentLogger });
 * typos.check("Contact", "nmae", "nmae"); // a warning
 * typos.check("Contact", "nmae", "nmae"); // undefined: once
 * typos.check("Contact", "name", "name"); // undefined: named in main.lua
 * ```
 */
export function createTypoWarnings(options: TypoWarningOptions): TypoWarnings {
  const { site, log } = options;
  const max = options.maxPaths ?? MAX_TYPO_PATHS;
  const seen = new Set<string>();
  let full = false;
  return {
    check(type, path, field) {
      const key = `${type}\u0000${path}`;
      if (seen.has(key) || full) return undefined;
      if (seen.size >= max) {
        full = true;
        log.info(`Likely-typo warnings stop here: ${max} paths checked in this session`);
        return undefined;
      }
      seen.add(key);
      if (type.startsWith("lua.") || namedInSite(site, field)) return undefined;
      const owner = type === "" ? "an object whose prototype" : `type ${type}, which`;
      const message = `Path '${path}': field '${field}' is nil on ${owner} ` +
        `declares no such field (a typo?)`;
      log.warn(message);
      return message;
    },
    get size() {
      return seen.size;
    },
  };
}

/** True when `field` appears as a whole word in any of the site's Lua files. */
function namedInSite(site: Site, field: string): boolean {
  const word = new RegExp(`(?<![\\w])${escape(field)}(?![\\w])`);
  for (const text of site.lua.values()) if (word.test(text)) return true;
  return false;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
