/**
 * Static files from a site's `html/` folder, confined to that folder: streamed from disk, with
 * a weak ETag (size and modification time) and `Last-Modified` answered by 304, single byte
 * ranges answered by 206, and Hono's MIME table behind a few choices of our own.
 *
 * @module
 */
import { mimes } from "hono/utils/mime";

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
  ".wasm": "application/wasm",
  ".webmanifest": "application/manifest+json",
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
  if (dot < 0 || name.indexOf("/", dot) >= 0) return "application/octet-stream";
  const extension = name.slice(dot).toLowerCase();
  return TYPES[extension] ?? (mimes as Record<string, string>)[extension.slice(1)] ??
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
 * Serves one file from `root`, or returns `undefined` when there is none. With the request,
 * `If-None-Match` / `If-Modified-Since` get 304 and a `Range` of one byte span gets 206 (416
 * when it lies outside the file).
 *
 * @example
 * ```ts
 * import { serveFile } from "./static.ts";
 * const response = await serveFile("/srv/html", "/index.html");
 * ```
 */
export async function serveFile(
  root: string,
  urlPath: string,
  request?: Request,
): Promise<Response | undefined> {
  const path = safeJoin(root, urlPath);
  if (!path) return undefined;
  let file: Deno.FsFile | undefined;
  try {
    const real = await Deno.realPath(path);
    const realRoot = await Deno.realPath(root);
    if (!real.startsWith(`${realRoot}/`)) return undefined;
    const info = await Deno.stat(real);
    if (!info.isFile) return undefined;
    const modified = info.mtime ?? new Date(0);
    const etag = `W/"${info.size.toString(36)}-${modified.getTime().toString(36)}"`;
    const headers = new Headers({
      "content-type": contentType(real),
      etag,
      "last-modified": modified.toUTCString(),
      // Site files keep their names across versions: revalidate each time (a 304 is cheap).
      "cache-control": "no-cache",
      "accept-ranges": "bytes",
    });
    if (request && notModified(request, etag, modified)) {
      return new Response(null, { status: 304, headers });
    }
    const range = request ? parseRange(request.headers.get("range"), info.size) : undefined;
    if (range === "invalid") {
      headers.set("content-range", `bytes */${info.size}`);
      return new Response(null, { status: 416, headers });
    }
    file = await Deno.open(real);
    if (range) {
      const [start, end] = range;
      await file.seek(start, Deno.SeekMode.Start);
      const body = new Uint8Array(end - start + 1);
      let read = 0;
      while (read < body.length) {
        const n = await file.read(body.subarray(read));
        if (n === null) break;
        read += n;
      }
      file.close();
      headers.set("content-range", `bytes ${start}-${end}/${info.size}`);
      return new Response(body.subarray(0, read), { status: 206, headers });
    }
    headers.set("content-length", String(info.size));
    return new Response(file.readable, { headers });
  } catch {
    try {
      file?.close();
    } catch {
      // Already closed.
    }
    return undefined;
  }
}

function notModified(request: Request, etag: string, modified: Date): boolean {
  const match = request.headers.get("if-none-match");
  if (match !== null) {
    return match.split(",").some((tag) => {
      const trimmed = tag.trim();
      return trimmed === "*" || trimmed.replace(/^W\//, "") === etag.replace(/^W\//, "");
    });
  }
  const since = Date.parse(request.headers.get("if-modified-since") ?? "");
  return Number.isFinite(since) && Math.floor(modified.getTime() / 1000) * 1000 <= since;
}

/** One `bytes=a-b`, `a-` or `-n` span; undefined means the whole file. */
function parseRange(header: string | null, size: number): [number, number] | "invalid" | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const [, first, last] = match;
  let start: number;
  let end: number;
  if (first === "") {
    if (last === "") return undefined;
    start = Math.max(0, size - Number(last));
    end = size - 1;
  } else {
    start = Number(first);
    end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start > end || start >= size) return "invalid";
  return [start, end];
}
