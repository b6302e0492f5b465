/**
 * The Origin check on WebSocket upgrades: a browser page may open a session's socket only from
 * the server's own origin or one listed in `--allowed-origins`. This stops cross-site WebSocket
 * hijacking even where a browser would send the ownership cookie along.
 *
 * @module
 */
import { isHttps } from "./ownership.ts";

/**
 * Why an upgrade's origin is refused, or `undefined` when it is allowed. A request without an
 * `Origin` header is allowed: browsers always send one on a WebSocket handshake, so it comes
 * from a program, which must still present the ownership cookie.
 *
 * @example
 * ```ts
 * import { refusedOrigin } from "./origin.ts";
 * const request = new Request("http://app.example/ws/x", {
 *   headers: { origin: "https://evil.example" },
 * });
 * refusedOrigin(request, []); // "Origin https://evil.example is not allowed"
 * ```
 */
export function refusedOrigin(
  request: Request,
  allowed: readonly string[],
): string | undefined {
  const origin = request.headers.get("origin");
  if (origin === null) return undefined;
  if (origin === ownOrigin(request) || allowed.includes(origin)) return undefined;
  return `Origin ${origin.slice(0, 200)} is not allowed`;
}

/**
 * The origin the request was made to: its scheme (from `X-Forwarded-Proto` behind a proxy) and
 * its `Host`.
 *
 * @example
 * ```ts
 * import { ownOrigin } from "./origin.ts";
 * ownOrigin(new Request("http://127.0.0.1:8000/ws/x")); // "http://127.0.0.1:8000"
 * ```
 */
export function ownOrigin(request: Request): string {
  const url = new URL(request.url);
  const host = request.headers.get("host") ?? url.host;
  return `${isHttps(request) ? "https" : "http"}://${host.toLowerCase()}`;
}
