/**
 * Security headers on every response: a Content-Security-Policy the built-in client satisfies,
 * `X-Content-Type-Options: nosniff`, framing by the same origin only, and a same-origin
 * referrer policy (so a session's URL never leaves the site in a `Referer`).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

/**
 * The default policy. Scripts only from the server itself (plus `scriptSources`, the hashes of
 * the templates' inline scripts), so injected markup cannot run script: no inline handlers, no
 * `javascript:` URLs, no `eval`. Inline styles stay allowed, since templates use `style`
 * attributes and `<style>` elements. The socket connects to the same origin.
 *
 * @example
 * ```ts
 * import { defaultPolicy } from "./security_headers.ts";
 * defaultPolicy(["'sha256-abc='"]).includes("script-src 'self' 'sha256-abc='"); // true
 * ```
 */
export function defaultPolicy(scriptSources: readonly string[] = []): string {
  return [
    "default-src 'self'",
    ["script-src 'self'", ...scriptSources].join(" "),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join("; ");
}

/**
 * Options of {@link securityHeaders}.
 *
 * @example
 * ```ts
 * import type { SecurityHeaderOptions } from "./security_headers.ts";
 * const options: SecurityHeaderOptions = { policy: () => "default-src 'self'" };
 * ```
 */
export interface SecurityHeaderOptions {
  /** The Content-Security-Policy to send, computed per response. */
  policy: () => string | Promise<string>;
}

/**
 * A Hono middleware that adds the security headers to every response. A header a route set
 * itself (the debug view's stricter policy) is kept; a WebSocket upgrade (101) is left alone.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { defaultPolicy, securityHeaders } from "./security_headers.ts";
 * const app = new Hono();
 * app.use("*", securityHeaders({ policy: () => defaultPolicy() }));
 * ```
 */
export function securityHeaders(options: SecurityHeaderOptions): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status === 101) return;
    const headers: [string, string][] = [
      ["content-security-policy", await options.policy()],
      ["x-content-type-options", "nosniff"],
      ["x-frame-options", "SAMEORIGIN"],
      ["referrer-policy", "same-origin"],
    ];
    for (const [name, value] of headers) {
      if (!c.res.headers.has(name)) c.res.headers.set(name, value);
    }
  };
}
