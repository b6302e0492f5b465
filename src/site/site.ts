/**
 * A site (SPEC 1): its Lua files and viewdefs, read into memory at start so that Lua never waits
 * on the file system, and the folder its static `html/` files are served from.
 *
 * @module
 */
import { ViewdefStore } from "../viewdefs/store.ts";
import { BUILTIN_VIEWDEFS } from "../viewdefs/builtin.ts";

/** A loaded site. */
export interface Site {
  /** The site folder (absolute), or the project folder for the embedded app. */
  root: string;
  /** Lua sources by path relative to `lua/`, with `/` separators (e.g. `a/b.lua`). */
  lua: Map<string, string>;
  /** Templates: the site's own over the built-in ones. */
  viewdefs: ViewdefStore;
  /** Absolute path of `html/`, when the site has one. */
  htmlDir: string | undefined;
}

/** The project folder, which holds the embedded default app (`lua/`, `viewdefs/`). */
export const EMBEDDED_SITE = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Loads a site folder: `lua/**.lua`, `viewdefs/**.html`, and notes `html/`.
 *
 * @example
 * ```ts
 * import { EMBEDDED_SITE, loadSite } from "./site.ts";
 * const site = await loadSite(EMBEDDED_SITE);
 * site.lua.has("main.lua"); // true
 * ```
 */
export async function loadSite(dir: string): Promise<Site> {
  const info = await statOrUndefined(dir);
  if (!info?.isDirectory) throw new Error(`Site folder '${dir}' does not exist`);
  const root = await Deno.realPath(dir);
  const lua = new Map<string, string>();
  for (const file of await listFiles(`${root}/lua`, ".lua")) {
    lua.set(file, await Deno.readTextFile(`${root}/lua/${file}`));
  }
  if (!lua.has("main.lua")) throw new Error(`Site '${dir}' has no lua/main.lua`);
  const viewdefs = new ViewdefStore(BUILTIN_VIEWDEFS);
  for (const file of await listFiles(`${root}/viewdefs`, ".html")) {
    viewdefs.set(viewdefKey(file), await Deno.readTextFile(`${root}/viewdefs/${file}`));
  }
  const html = await statOrUndefined(`${root}/html`);
  return { root, lua, viewdefs, htmlDir: html?.isDirectory ? `${root}/html` : undefined };
}

/**
 * The viewdef key of a template file: its name without `.html`, ignoring folders.
 *
 * @example
 * ```ts
 * import { viewdefKey } from "./site.ts";
 * viewdefKey("contacts/Contact.list-item.html"); // "Contact.list-item"
 * ```
 */
export function viewdefKey(file: string): string {
  const name = file.slice(file.lastIndexOf("/") + 1);
  return name.endsWith(".html") ? name.slice(0, -5) : name;
}

/** Files under a folder with an ending, as relative paths with `/`; none if it is missing. */
export async function listFiles(dir: string, ending: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string) => {
    const absolute = relative ? `${dir}/${relative}` : dir;
    for await (const entry of Deno.readDir(absolute)) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && entry.name.endsWith(ending)) found.push(path);
    }
  };
  if ((await statOrUndefined(dir))?.isDirectory) await walk("");
  return found.sort();
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
