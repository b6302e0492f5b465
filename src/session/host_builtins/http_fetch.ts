/**
 * The built-in `http.fetch(url, {method=, headers=, body=})` host function: an HTTP request to
 * one of the allowed origins (`--allow-fetch`), answered with `{status=, headers=, body=}`.
 * Redirects are not followed (a 3xx comes back with its `location` header), so a request never
 * leaves the allowed origins; a body larger than the cap is an error.
 *
 * @module
 */
import type { HostValue } from "../../lua/host_functions.ts";

/** Options of {@link createHttpFetch}. */
export interface HttpFetchOptions {
  /** Origins (`https://api.example`) Lua may reach; any other is refused. */
  allowedOrigins: readonly string[];
  /** Largest response body read, in bytes. */
  maxBytes: number;
  /** Aborts requests still running when the session closes. */
  signal?: AbortSignal;
}

/** The default response cap of `http.fetch`: 1 MiB. */
export const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;

/**
 * Makes the `http.fetch` host function.
 *
 * @example
 * ```ts
 * import { createHttpFetch } from "./http_fetch.ts";
 * const fetchFn = createHttpFetch({ allowedOrigins: ["https://api.example"], maxBytes: 65536 });
 * await fetchFn("https://elsewhere.example/").catch((e: Error) => e.message); // "Origin ..."
 * ```
 */
export function createHttpFetch(
  options: HttpFetchOptions,
): (url: HostValue, request?: HostValue) => Promise<HostValue> {
  const allowed = new Set(options.allowedOrigins.map((origin) => new URL(origin).origin));
  return async (url, request) => {
    if (typeof url !== "string") throw new Error("expects a URL string as argument 1");
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new Error(`'${url}' is not a URL`);
    }
    if (!allowed.has(target.origin)) {
      throw new Error(`Origin ${target.origin} is not allowed (see --allow-fetch)`);
    }
    const init = requestInit(request);
    const response = await fetch(target, {
      ...init,
      redirect: "manual",
      signal: options.signal,
    });
    const body = await readCapped(response, options.maxBytes, target.origin);
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body,
    };
  };
}

/** The Lua request table as a fetch `RequestInit`, each field checked. */
function requestInit(request: HostValue | undefined): RequestInit {
  if (request === undefined || request === null) return {};
  if (typeof request !== "object" || Array.isArray(request)) {
    throw new Error("expects a table {method=, headers=, body=} as argument 2");
  }
  const { method, headers, body } = request;
  if (method !== undefined && typeof method !== "string") {
    throw new Error("method must be a string");
  }
  if (body !== undefined && typeof body !== "string") throw new Error("body must be a string");
  const headerList: [string, string][] = [];
  if (headers !== undefined) {
    if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
      throw new Error("headers must be a table of names to strings");
    }
    for (const [name, value] of Object.entries(headers)) headerList.push([name, String(value)]);
  }
  return { method: method?.toUpperCase(), headers: headerList, body };
}

/** The response body as text, refused past `maxBytes`. */
async function readCapped(response: Response, maxBytes: number, origin: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`The response from ${origin} is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}
