/**
 * The embedded default app (this package's `lua/` and `viewdefs/`), loaded wherever the package
 * is: from its folder when the package is on the disk (so that edits are seen as for any site),
 * else file by file by URL (`package_files.ts`), from the list below, into an in-memory site.
 *
 * @module
 */
import { PACKAGE_ROOT, readUrlText } from "../package_files.ts";
import { inMemorySite } from "./in_memory_site.ts";
import { EMBEDDED_SITE, loadSite, type LoadSiteOptions, type Site } from "./site.ts";

/**
 * The embedded app's files, relative to the package root (a test keeps the list in step with
 * the folders).
 *
 * @example
 * ```ts
 * import { EMBEDDED_FILES } from "./embedded_site.ts";
 * EMBEDDED_FILES.includes("lua/main.lua"); // true
 * ```
 */
export const EMBEDDED_FILES: readonly string[] = [
  "lua/main.lua",
  "lua/contacts/book.lua",
  "lua/contacts/contact.lua",
  "lua/contacts/editor.lua",
  "lua/contacts/row.lua",
  "lua/contacts/seed.lua",
  "lua/contacts/validation.lua",
  "viewdefs/Contact.detail.html",
  "viewdefs/Contact.list-item.html",
  "viewdefs/ContactBook.DEFAULT.html",
  "viewdefs/ContactEditor.DEFAULT.html",
  "viewdefs/ContactRow.list-item.html",
];

/**
 * Loads the embedded app from the package at `root` (this package by default).
 *
 * @example
 * ```ts
 * import { loadEmbeddedSite } from "./embedded_site.ts";
 * const site = await loadEmbeddedSite();
 * site.lua.has("main.lua"); // true
 * ```
 */
export async function loadEmbeddedSite(
  root: URL = PACKAGE_ROOT,
  options: Partial<LoadSiteOptions> = {},
): Promise<Site> {
  if (root.protocol === "file:" && root.href === PACKAGE_ROOT.href) {
    return await loadSite(EMBEDDED_SITE, options);
  }
  const texts = await Promise.all(EMBEDDED_FILES.map((path) => readUrlText(new URL(path, root))));
  const lua: Record<string, string> = {};
  const viewdefs: Record<string, string> = {};
  EMBEDDED_FILES.forEach((path, i) => {
    const text = texts[i] ?? "";
    if (path.startsWith("lua/")) lua[path.slice(4)] = text;
    else viewdefs[path.slice(path.lastIndexOf("/") + 1).replace(/\.html$/, "")] = text;
  });
  return inMemorySite({ lua, viewdefs });
}
