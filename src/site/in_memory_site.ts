/**
 * A site held in memory (the library's `site` option, tests): Lua files and viewdefs given as
 * text, no folder.
 *
 * @module
 */
import type { Site } from "./site.ts";
import { ViewdefStore } from "../viewdefs/store.ts";
import { BUILTIN_VIEWDEFS } from "../viewdefs/builtin.ts";

/** The files of an in-memory site. */
export interface SiteFiles {
  /** Lua sources by path relative to `lua/` (`main.lua` is required), e.g. `{"main.lua": "…"}`. */
  lua: Record<string, string>;
  /** Viewdefs by key (`Type.namespace`), each a `<template>…</template>`. */
  viewdefs?: Record<string, string>;
}

/**
 * Makes a {@link Site} from text: the site's viewdefs over the built-in ones, no `html/`.
 *
 * @example
 * ```ts
 * import { inMemorySite } from "./in_memory_site.ts";
 * const site = inMemorySite({
 *   lua: { "main.lua": 'Counter = session:prototype("Counter", {count = 0})' },
 *   viewdefs: { "Counter.DEFAULT": '<template><b ui-value="count"></b></template>' },
 * });
 * site.lua.has("main.lua"); // true
 * ```
 */
export function inMemorySite(files: SiteFiles): Site {
  const lua = new Map(Object.entries(files.lua));
  if (!lua.has("main.lua")) throw new Error("An in-memory site needs a 'main.lua'");
  const viewdefs = new ViewdefStore(BUILTIN_VIEWDEFS);
  for (const [key, text] of Object.entries(files.viewdefs ?? {})) viewdefs.set(key, text);
  return { root: "/in-memory", lua, viewdefs, htmlDir: undefined };
}
