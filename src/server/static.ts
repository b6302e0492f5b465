/**
 * Static files from a site's `html/` folder, confined to that folder.
 *
 * @module
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

/**
 * The content type for a file name.
 *
 * @example
 * ```ts
 * import { contentType } from "./static.ts";
 * contentType("app.js"); // "text/javascript; charset=utf-8"
 * ```
 */
export function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 ? TYPES[name.slice(dot).toLowerCase()] : undefined) ??
    "application/octet-stream";
}

/**
 * Maps a URL path to a file inside `root`, or `undefined` when it would leave the folder
 * (`..`, encoded slashes or backslashes, NUL bytes).
 *
 * @example
 * ```ts
 * import { safeJoin } from "./static.ts";
 * safeJoin("/srv/html", "/css/site.css"); // "/srv/html/css/site.css"
 * safeJoin("/srv/html", "/../etc/passwd"); // undefined
 * ```
 */
export function safeJoin(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const parts = decoded.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.some((part) => part === "..")) return undefined;
  return parts.length === 0 ? undefined : `${root}/${parts.join("/")}`;
}

/**
 * Serves one file from `root`, or returns `undefined` when there is none.
 *
 * @example
 * ```ts
 * import { serveFile } from "./static.ts";
 * const response = await serveFile("/srv/html", "/index.html");
 * ```
 */
export async function serveFile(root: string, urlPath: string): Promise<Response | undefined> {
  const path = safeJoin(root, urlPath);
  if (!path) return undefined;
  try {
    const real = await Deno.realPath(path);
    const realRoot = await Deno.realPath(root);
    if (!real.startsWith(`${realRoot}/`)) return undefined;
    const info = await Deno.stat(real);
    if (!info.isFile) return undefined;
    const body = await Deno.readFile(real);
    return new Response(body, { headers: { "content-type": contentType(real) } });
  } catch {
    return undefined;
  }
}
