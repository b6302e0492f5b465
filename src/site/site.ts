/**
 * A site (SPEC 1): its Lua files and viewdefs, read into memory at start so that Lua never waits
 * on the file system, and the folder its static `html/` files are served from.
 *
 * Symbolic links are followed (files and folders, as ui-engine does: its demo's `lua/main.lua`
 * is a link to an app) when their real target stays inside the site folder; a link that leaves
 * it is refused with one log line, so a site cannot expose files from elsewhere.
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
  /**
   * Lua files outside `lua/`, by path relative to the site folder (`apps/tasks/app.lua`):
   * `require` falls back to them, as ui-engine does. Absent for sites made in memory.
   */
  rootLua?: Map<string, string>;
  /** Where each file was read from and when, so {@link refreshSite} can re-read edits. */
  sources?: SourceStamp[];
}

/** One file of a site as it was read: what it is, its real path, size and modification time. */
export interface SourceStamp {
  /** `lua` (key relative to `lua/`), `root` (relative to the site) or `viewdef` (store key). */
  kind: "lua" | "root" | "viewdef";
  key: string;
  real: string;
  mtime: number;
  size: number;
}

/** Folders of a site that never hold modules for the root fallback of `require`. */
const NOT_MODULES = new Set(["lua", "html", "viewdefs", "node_modules"]);

/** The project folder, which holds the embedded default app (`lua/`, `viewdefs/`). */
export const EMBEDDED_SITE = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Options of {@link loadSite}.
 *
 * @example
 * ```ts
 * import type { LoadSiteOptions } from "./site.ts";
 * const options: LoadSiteOptions = { warn: (message) => console.warn(message) };
 * ```
 */
export interface LoadSiteOptions {
  /** Receives one line per refused symbolic link; nothing by default. */
  warn: (message: string) => void;
}

/**
 * Loads a site folder: `lua/**.lua`, `viewdefs/**.html`, and notes `html/`, following symbolic
 * links that stay inside the site.
 *
 * @example
 * ```ts
 * import { EMBEDDED_SITE, loadSite } from "./site.ts";
 * const site = await loadSite(EMBEDDED_SITE, { warn: console.warn });
 * site.lua.has("main.lua"); // true
 * ```
 */
export async function loadSite(
  dir: string,
  options: Partial<LoadSiteOptions> = {},
): Promise<Site> {
  const info = await statOrUndefined(dir);
  if (!info?.isDirectory) throw new Error(`Site folder '${dir}' does not exist`);
  const root = await Deno.realPath(dir);
  const within = { root, warn: options.warn ?? (() => {}) };
  const sources: SourceStamp[] = [];
  const read = async (kind: SourceStamp["kind"], key: string, real: string) => {
    const info = await Deno.stat(real);
    sources.push({ kind, key, real, mtime: info.mtime?.getTime() ?? 0, size: info.size });
    return await Deno.readTextFile(real);
  };
  const lua = new Map<string, string>();
  for (const [file, real] of await findFiles(`${root}/lua`, ".lua", within)) {
    lua.set(file, await read("lua", file, real));
  }
  if (!lua.has("main.lua")) throw new Error(`Site '${dir}' has no lua/main.lua`);
  const rootLua = new Map<string, string>();
  // The embedded app lives in the project folder, whose other Lua files are not its modules.
  const embedded = root === await realPathOrUndefined(EMBEDDED_SITE);
  const skip = (path: string) => NOT_MODULES.has(path) || path.split("/").at(-1)!.startsWith(".");
  for (const [file, real] of embedded ? [] : await findFiles(root, ".lua", within, skip)) {
    rootLua.set(file, await read("root", file, real));
  }
  const viewdefs = new ViewdefStore(BUILTIN_VIEWDEFS);
  for (const [file, real] of await findFiles(`${root}/viewdefs`, ".html", within)) {
    viewdefs.set(viewdefKey(file), await read("viewdef", viewdefKey(file), real));
  }
  const html = await insideSite(`${root}/html`, within);
  const htmlDir = html?.isDirectory ? `${root}/html` : undefined;
  return { root, lua, rootLua, viewdefs, htmlDir, sources };
}

/**
 * The source of a site Lua file: `a/b.lua` relative to `lua/`, or a path relative to the site
 * folder for the files outside `lua/` (`apps/tasks/app.lua`, with `root` set).
 *
 * @example
 * ```ts
 * import { EMBEDDED_SITE, loadSite, readSiteLua } from "./site.ts";
 * const site = await loadSite(EMBEDDED_SITE);
 * readSiteLua(site, "main.lua")?.length; // the length of lua/main.lua
 * ```
 */
export function readSiteLua(site: Site, file: string, root = false): string | undefined {
  return root ? site.rootLua?.get(file) : site.lua.get(file);
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

/** Where links may lead (the site's real path) and where refusals are reported. */
interface Confinement {
  root: string;
  warn: (message: string) => void;
}

/**
 * Files under a folder with an ending, as relative paths with `/`; none if it is missing.
 * Symbolic links are followed when they stay inside `within.root` (all of `dir` when omitted).
 *
 * @example
 * ```ts
 * import { listFiles } from "./site.ts";
 * const files = await listFiles("/srv/site/lua", ".lua"); // ["a/b.lua", "main.lua"]
 * ```
 */
export async function listFiles(
  dir: string,
  ending: string,
  within?: Partial<Confinement>,
): Promise<string[]> {
  const root = within?.root ?? await realPathOrUndefined(dir);
  if (root === undefined) return [];
  const found = await findFiles(dir, ending, { root, warn: within?.warn ?? (() => {}) });
  return [...found.keys()];
}

/** Relative path → real path of each file under `dir` with the ending, sorted by relative path. */
async function findFiles(
  dir: string,
  ending: string,
  within: Confinement,
  skip: (relative: string) => boolean = () => false,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  // The real folders on the current walk: a link back to one of them is a loop.
  const open = new Set<string>();
  const walk = async (relative: string, real: string) => {
    open.add(real);
    for await (const entry of Deno.readDir(real)) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (skip(path)) continue;
      let target = `${real}/${entry.name}`;
      let isDirectory = entry.isDirectory;
      let isFile = entry.isFile;
      if (entry.isSymlink) {
        const info = await insideSite(target, within, `${dir}/${path}`);
        if (!info) continue;
        target = info.real;
        isDirectory = info.isDirectory;
        isFile = info.isFile;
      }
      if (isDirectory) {
        if (open.has(target)) {
          within.warn(`Skipping ${dir}/${path}: a symbolic link loop`);
          continue;
        }
        await walk(path, target);
      } else if (isFile && entry.name.endsWith(ending)) found.set(path, target);
    }
    open.delete(real);
  };
  const start = await insideSite(dir, within);
  if (start?.isDirectory) await walk("", start.real);
  return new Map([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The real path and kind of `path` when it exists and resolves inside the site; a path whose
 * links lead out of the site, or form a loop, is refused with a log line.
 */
async function insideSite(
  path: string,
  within: Confinement,
  shown = path,
): Promise<{ real: string; isDirectory: boolean; isFile: boolean } | undefined> {
  let real: string;
  try {
    real = await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if ((await lstatOrUndefined(path))?.isSymlink) {
        within.warn(`Skipping ${shown}: a symbolic link to nothing`);
      }
      return undefined;
    }
    // ELOOP and friends: a link cycle the operating system gave up on.
    within.warn(`Skipping ${shown}: ${(error as Error)?.message ?? error}`);
    return undefined;
  }
  if (real !== within.root && !real.startsWith(`${within.root}/`)) {
    within.warn(`Refusing ${shown}: its symbolic link leads out of the site, to ${real}`);
    return undefined;
  }
  const info = await Deno.stat(real);
  return { real, isDirectory: info.isDirectory, isFile: info.isFile };
}

async function realPathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch {
    return undefined;
  }
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
