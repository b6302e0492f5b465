/**
 * The built-in client's assets, served by the server itself: `/ui-engine-client.js` (the
 * client's entry module), the modules it imports under `/ui-engine-client/`, and
 * `/ui-engine-client.css`. The TypeScript sources in `src/client/` are turned into JavaScript
 * (types stripped) on first request and cached; nothing is built ahead of time.
 *
 * @module
 */
import type { AssetSource } from "./app.ts";

/** Where the client's sources live. */
const CLIENT_DIR = new URL("../client/", import.meta.url);
/** The entry module's URL path. */
export const CLIENT_SCRIPT = "/ui-engine-client.js";
/** The stylesheet's URL path. */
export const CLIENT_STYLESHEET = "/ui-engine-client.css";
/** The URL folder of the entry module's imports. */
export const CLIENT_MODULES = "/ui-engine-client/";

const MODULE_PATH = /^\/ui-engine-client\/([a-z][a-z0-9_]*)\.js$/;
const RELATIVE_IMPORT = /(["'])\.\/([a-z][a-z0-9_]*)\.ts\1/g;
/** Doc comments and triple-slash directives: documentation for readers of the source only. */
const DOC_COMMENT = /^[ \t]*\/\*\*[\s\S]*?\*\/[ \t]*\n|^\/\/\/ <reference [^\n]*\n/gm;

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/**
 * Serves the built-in client's files.
 *
 * @example
 * ```ts
 * import { clientAssets } from "./client_assets.ts";
 * const assets = clientAssets();
 * const response = await assets("/ui-engine-client.js");
 * response?.headers.get("content-type"); // "text/javascript; charset=utf-8"
 * ```
 */
export function clientAssets(): AssetSource {
  const cache = new Map<string, Promise<string | undefined>>();
  const cached = (path: string, load: () => Promise<string | undefined>) => {
    let entry = cache.get(path);
    if (!entry) {
      entry = load();
      cache.set(path, entry);
      // A failure (e.g. a file read error) is retried on the next request.
      entry.catch(() => cache.delete(path));
    }
    return entry;
  };
  return async (path) => {
    let body: string | undefined;
    let type = JS;
    if (path === CLIENT_SCRIPT) {
      body = await cached(path, () => transpile("main.ts", `.${CLIENT_MODULES}`));
    } else if (path === CLIENT_STYLESHEET) {
      type = CSS;
      body = await cached(path, () => readSource("client.css"));
    } else {
      const name = MODULE_PATH.exec(path)?.[1];
      if (name === undefined || name === "main") return undefined;
      body = await cached(path, () => transpile(`${name}.ts`, "./"));
    }
    if (body === undefined) return undefined;
    return new Response(body, {
      headers: { "content-type": type, "cache-control": "no-cache" },
    });
  };
}

/**
 * Turns one client module into JavaScript: types and doc comments stripped, and `./name.ts`
 * imports pointed at the served `.js` paths (`prefix` is where they live, relative to the
 * module). The transpiler is loaded on first use, so it costs nothing at start-up.
 *
 * @example
 * ```ts
 * import { transpile } from "./client_assets.ts";
 * const code = await transpile("batcher.ts", "./");
 * ```
 */
export async function transpile(file: string, prefix: string): Promise<string | undefined> {
  const source = await readSource(file);
  if (source === undefined) return undefined;
  const { transform } = await import("sucrase");
  const { code } = transform(source.replace(DOC_COMMENT, ""), {
    transforms: ["typescript"],
    disableESTransforms: true,
    filePath: file,
  });
  return code.replace(RELATIVE_IMPORT, (_, quote, name) => `${quote}${prefix}${name}.js${quote}`);
}

async function readSource(file: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(new URL(file, CLIENT_DIR));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
