/**
 * Bound sessions: which browser owns which session id, with no shared state.
 *
 * Each browser carries a random id in an HttpOnly cookie. A session id is 16 random hex digits
 * followed by 16 hex digits of HMAC-SHA256 over (those digits, the browser id), keyed by the
 * server's secret. Any instance holding the secret can check that a sid belongs to the browser
 * presenting the cookie; nobody without the secret and that browser's id can make one that does.
 * The sid keeps the 32-hex shape the session manager expects.
 *
 * @module
 */
import { createHmac } from "node:crypto";

/** Cookie that carries the browser id over plain http. */
export const BROWSER_COOKIE = "ui_browser";
/**
 * Cookie name over https: the `__Host-` prefix makes the browser refuse it unless it is
 * `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant one.
 */
export const SECURE_BROWSER_COOKIE = "__Host-ui_browser";
/**
 * The same over https under a base path (`__Host-` cookies must be for the whole site).
 *
 * @example
 * ```ts
 * import { SECURE_PATH_COOKIE } from "./ownership.ts";
 * SECURE_PATH_COOKIE; // "__Secure-ui_browser"
 * ```
 */
export const SECURE_PATH_COOKIE = "__Secure-ui_browser";

const BROWSER_ID = /^[0-9a-f]{32}$/;
const SID = /^([0-9a-f]{16})([0-9a-f]{16})$/;

/**
 * Mints and checks session ids bound to browsers.
 *
 * @example
 * ```ts
 * import { createOwnership } from "./ownership.ts";
 * const ownership = createOwnership("a secret of at least sixteen characters");
 * const browser = ownership.newBrowserId();
 * const sid = await ownership.mint(browser);
 * await ownership.owns(sid, browser); // true
 * await ownership.owns(sid, ownership.newBrowserId()); // false
 * ```
 */
export interface Ownership {
  /** A fresh random browser id (32 hex digits). */
  newBrowserId(): string;
  /** A fresh session id owned by `browserId`. */
  mint(browserId: string): Promise<string>;
  /** True when `sid` was minted for `browserId` by a server holding the same secret. */
  owns(sid: string, browserId: string | undefined): Promise<boolean>;
}

/**
 * Makes an {@link Ownership} keyed by `secret`. The MAC is computed synchronously (`node:crypto`,
 * several times cheaper than an awaited `crypto.subtle.sign`, which hops to another thread and
 * back on every new session's two checks).
 *
 * @example
 * ```ts
 * import { createOwnership } from "./ownership.ts";
 * const ownership = createOwnership(crypto.randomUUID());
 * ```
 */
export function createOwnership(secret: string): Ownership {
  const tag = (random: string, browserId: string): string =>
    createHmac("sha256", secret).update(`ui-session\0${random}\0${browserId}`).digest("hex")
      .slice(0, 16);
  return {
    newBrowserId: () => randomHex(16),
    mint(browserId) {
      const random = randomHex(8);
      return Promise.resolve(random + tag(random, browserId));
    },
    owns(sid, browserId) {
      if (browserId === undefined || !BROWSER_ID.test(browserId)) return Promise.resolve(false);
      const match = SID.exec(sid);
      if (!match) return Promise.resolve(false);
      return Promise.resolve(
        equalInConstantTime(tag(match[1] as string, browserId), match[2] as string),
      );
    },
  };
}

/**
 * A random secret for one process, used when `--secret` is not set.
 *
 * @example
 * ```ts
 * import { randomSecret } from "./ownership.ts";
 * randomSecret().length; // 64
 * ```
 */
export function randomSecret(): string {
  return randomHex(32);
}

/**
 * Whether a request reached the server over https, directly or through a proxy that says so
 * with `X-Forwarded-Proto`.
 *
 * @example
 * ```ts
 * import { isHttps } from "./ownership.ts";
 * isHttps(new Request("http://a/", { headers: { "x-forwarded-proto": "https" } })); // true
 * ```
 */
export function isHttps(request: Request): boolean {
  const forwarded = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  if (forwarded) return forwarded === "https";
  return new URL(request.url).protocol === "https:";
}

/**
 * The browser id a request carries, if any and well-formed. Over https only the `__Host-`
 * cookie counts.
 *
 * @example
 * ```ts
 * import { browserIdOf } from "./ownership.ts";
 * const id = "0123456789abcdef0123456789abcdef";
 * browserIdOf(new Request("http://a/", { headers: { cookie: `ui_browser=${id}` } })); // id
 * ```
 */
export function browserIdOf(request: Request): string | undefined {
  const header = request.headers.get("cookie") ?? "";
  const value = isHttps(request)
    ? readCookie(header, SECURE_BROWSER_COOKIE) ?? readCookie(header, SECURE_PATH_COOKIE)
    : readCookie(header, BROWSER_COOKIE);
  return value !== undefined && BROWSER_ID.test(value) ? value : undefined;
}

/**
 * The `Set-Cookie` value that gives a browser its id: HttpOnly, SameSite=Lax, for the whole
 * site, and `Secure` (with the `__Host-` name) over https. A session cookie: it ends when the
 * browser does, and sessions themselves last minutes.
 *
 * @example
 * ```ts
 * import { browserCookie } from "./ownership.ts";
 * browserCookie("0123456789abcdef0123456789abcdef", false);
 * // "ui_browser=0123456789abcdef0123456789abcdef; Path=/; HttpOnly; SameSite=Lax"
 * ```
 */
export function browserCookie(browserId: string, secure: boolean, path = "/"): string {
  // A `__Host-` cookie must have Path=/; under a base path the Secure one keeps `__Secure-`.
  const secureName = path === "/" ? SECURE_BROWSER_COOKIE : SECURE_PATH_COOKIE;
  const name = secure ? secureName : BROWSER_COOKIE;
  return `${name}=${browserId}; Path=${path}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

function randomHex(bytes: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

function toHex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

/** Compares two equal-length strings without an early exit, so timing tells nothing. */
function equalInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
