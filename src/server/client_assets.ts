/**
 * The built-in client's assets, served by the server itself: `/ui-engine-client.js` (the
 * client, bundled and minified from the TypeScript sources in `src/client/`),
 * `/ui-engine-client.<hash>.js` (the same bundle under its content hash, cached for a year), and
 * `/ui-engine-client.css`.
 *
 * The bundle is made once per process, lazily on the first request for it, with esbuild's
 * WebAssembly build running in-process: the server needs no `--allow-run` or write permission
 * and no build output is committed, and processes that never serve a page (tests, tools) never
 * pay the second or so it takes.
 *
 * @module
 */
import type { AssetSource } from "./app.ts";
import { packageUrl, readUrlBytes, readUrlText } from "../package_files.ts";

/** Where the client's sources live (fetched when the package is not on the disk). */
const CLIENT_DIR = packageUrl("src/client/");
/** The entry module's URL path. */
export const CLIENT_SCRIPT = "/ui-engine-client.js";
/** The stylesheet's URL path. */
export const CLIENT_STYLESHEET = "/ui-engine-client.css";

const HASHED_SCRIPT = /^\/ui-engine-client\.([0-9a-f]{16})\.js$/;
const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** A built asset: its bytes and their hash. */
export interface BuiltAsset {
  body: Uint8Array;
  /** The first 16 hex digits of the SHA-256 of the body. */
  hash: string;
}

let bundle: Promise<BuiltAsset> | undefined;
let stylesheet: Promise<BuiltAsset> | undefined;

/**
 * The client bundle, built on first call and shared by every server of this process.
 *
 * @example
 * ```ts
 * import { clientBundle } from "./client_assets.ts";
 * const { hash } = await clientBundle();
 * ```
 */
export function clientBundle(): Promise<BuiltAsset> {
  bundle ??= build().then(hashed);
  // A failure is retried on the next request.
  bundle.catch(() => bundle = undefined);
  return bundle;
}

/**
 * The client's content-hash URL (`/ui-engine-client.<hash>.js`), the one the built-in page
 * links: it never changes for a given bundle, so browsers keep it for a year.
 *
 * @example
 * ```ts
 * import { clientScriptUrl } from "./client_assets.ts";
 * await clientScriptUrl(); // "/ui-engine-client.0123456789abcdef.js"
 * ```
 */
export async function clientScriptUrl(): Promise<string> {
  return `/ui-engine-client.${(await clientBundle()).hash}.js`;
}

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
  return async (path, request) => {
    if (path === CLIENT_STYLESHEET) {
      stylesheet ??= readUrlBytes(new URL("client.css", CLIENT_DIR)).then(hashed);
      stylesheet.catch(() => stylesheet = undefined);
      return respond(await stylesheet, CSS, false, request);
    }
    const wanted = HASHED_SCRIPT.exec(path)?.[1];
    if (path !== CLIENT_SCRIPT && wanted === undefined) return undefined;
    const built = await clientBundle();
    if (wanted !== undefined && wanted !== built.hash) return undefined;
    return respond(built, JS, wanted !== undefined, request);
  };
}

function respond(
  asset: BuiltAsset,
  type: string,
  immutable: boolean,
  request: Request | undefined,
): Response {
  const etag = `"${asset.hash}"`;
  const headers = new Headers({
    "content-type": type,
    etag,
    // A hashed URL never changes; the plain one is revalidated (a 304 when unchanged).
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
  });
  const match = request?.headers.get("if-none-match");
  if (match && match.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(asset.body.slice(), { headers });
}

async function hashed(body: Uint8Array): Promise<BuiltAsset> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body.slice()));
  const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { body, hash };
}

/** Bundles `src/client/main.ts` with esbuild's WebAssembly build, reading sources from disk. */
async function build(): Promise<Uint8Array> {
  const esbuild = await import("esbuild-wasm/esm/browser.js");
  await initialize(esbuild);
  const result = await esbuild.build({
    entryPoints: ["main.ts"],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    write: false,
    logLevel: "silent",
    plugins: [{
      name: "client-sources",
      setup(plugin) {
        // Only the client's own sibling modules: the client has no dependencies.
        plugin.onResolve({ filter: /.*/ }, (args) => {
          const name = /^(?:\.\/)?([a-z][a-z0-9_]*\.ts)$/.exec(args.path)?.[1];
          if (!name) return { errors: [{ text: `Unexpected import ${args.path}` }] };
          return { path: name, namespace: "client" };
        });
        plugin.onLoad({ filter: /.*/, namespace: "client" }, async (args) => ({
          contents: await readUrlText(new URL(args.path, CLIENT_DIR)),
          loader: "ts",
        }));
      },
    }],
  });
  const output = result.outputFiles?.[0];
  if (!output) throw new Error("The client bundle is empty");
  return output.contents;
}

let initialized: Promise<void> | undefined;

function initialize(esbuild: typeof import("esbuild-wasm/esm/browser.js")): Promise<void> {
  initialized ??= (async () => {
    const wasm = await readUrlBytes(new URL(import.meta.resolve("esbuild-wasm/esbuild.wasm")));
    await esbuild.initialize({ wasmModule: await WebAssembly.compile(wasm), worker: false });
  })();
  return initialized;
}
