/**
 * The page's address below the session id, as Lua sees it: `session.url` is a table
 * `{path = "/contacts/42", query = {tab = "notes"}}`, kept in step with the `url` property of
 * variable 1 (the browser sets it on load and on back/forward; `session:navigate` sets it from
 * Lua). The property's text is the path plus its query string, as in the address bar.
 *
 * @module
 */
import { lua, toLua } from "./fengari.ts";
import { pushJson } from "./json.ts";
import type { LuaObject, LuaVm } from "./vm.ts";

/** The variable 1 property that holds the page's address below the session id. */
export const URL_PROPERTY = "url";
/** The variable 1 property that holds the page's title. */
export const TITLE_PROPERTY = "title";

/** A page address, split. */
export interface PageUrl {
  /** Always starts with `/`; `/` for the session's own page. */
  path: string;
  /** Query parameters, decoded; a name without `=` has the value `""`; the last one wins. */
  query: Record<string, string>;
}

/**
 * Splits a page address (`/contacts/42?tab=notes`) into path and query.
 *
 * @example
 * ```ts
 * import { parsePageUrl } from "./session_url.ts";
 * parsePageUrl("/contacts/42?tab=notes"); // { path: "/contacts/42", query: { tab: "notes" } }
 * ```
 */
export function parsePageUrl(text: string): PageUrl {
  const at = text.indexOf("?");
  const rawPath = at < 0 ? text : text.slice(0, at);
  const query: Record<string, string> = {};
  if (at >= 0) {
    for (const [name, value] of new URLSearchParams(text.slice(at + 1))) query[name] = value;
  }
  let path = rawPath.split("#")[0] ?? "";
  try {
    path = decodeURI(path);
  } catch {
    // A malformed escape stays as it came.
  }
  return { path: path.startsWith("/") ? path : `/${path}`, query };
}

/**
 * The address text for a path Lua gives to `session:navigate`: a leading `/` added, no
 * control characters, at most 2000 characters.
 *
 * @example
 * ```ts
 * import { normalizePageUrl } from "./session_url.ts";
 * normalizePageUrl("contacts/3"); // "/contacts/3"
 * ```
 */
export function normalizePageUrl(text: string): string {
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new Error("A page path has no control characters");
  if (text.length > 2000) throw new Error("A page path is at most 2000 characters");
  if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(text)) {
    throw new Error(`session:navigate takes a path below the session, not '${text}'`);
  }
  return text.startsWith("/") ? text : `/${text}`;
}

/**
 * Sets `session.url` from a page address.
 *
 * @example
 * ```ts ignore
 * setSessionUrl(vm, sessionTable, "/contacts/42?tab=notes");
 * ```
 */
export function setSessionUrl(vm: LuaVm, session: LuaObject, text: string): void {
  const L = vm.L;
  const top = lua.lua_gettop(L);
  session.push(L);
  pushJson(vm, parsePageUrl(text), { L, objectRefs: false });
  lua.lua_setfield(L, -2, toLua(URL_PROPERTY));
  lua.lua_settop(L, top);
}
