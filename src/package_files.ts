/**
 * Reading the package's own files (the embedded default app, the client's sources) by URL, so
 * that the package works wherever its modules come from: a checkout or the Deno cache (`file:`
 * URLs, read from the disk), a registry or any web server (`http:`/`https:` URLs, fetched), or a
 * `deno compile` binary (`file:` URLs into its embedded files, given with `--include`).
 *
 * @module
 */

/**
 * The URL of a file of this package, from its path relative to the package root.
 *
 * @example
 * ```ts
 * import { packageUrl } from "./package_files.ts";
 * packageUrl("lua/main.lua").href; // "file:///.../lua/main.lua" in a checkout
 * ```
 */
export function packageUrl(path: string, root: string | URL = PACKAGE_ROOT): URL {
  return new URL(path, root);
}

/** The package root: the folder of deno.json, mod.ts and main.ts. */
export const PACKAGE_ROOT: URL = new URL(import.meta.resolve("../"));

/**
 * Reads a file by URL as text: from the disk for a `file:` URL, with `fetch` otherwise.
 *
 * @example
 * ```ts
 * import { packageUrl, readUrlText } from "./package_files.ts";
 * const main = await readUrlText(packageUrl("lua/main.lua"));
 * ```
 */
export async function readUrlText(url: URL): Promise<string> {
  return new TextDecoder().decode(await readUrlBytes(url));
}

/**
 * Reads a file by URL as bytes: from the disk for a `file:` URL, with `fetch` otherwise.
 *
 * @example
 * ```ts
 * import { packageUrl, readUrlBytes } from "./package_files.ts";
 * const css = await readUrlBytes(packageUrl("src/client/client.css"));
 * ```
 */
export async function readUrlBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`Cannot read ${url.href}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
