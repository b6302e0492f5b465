/// <reference lib="dom" />
/**
 * The page's own address and title, shared with Lua through variable 1 (as ui-engine's
 * `navigateTo` does): the client sends the address below the session id (path and query) as
 * the `url` property when it connects and after back/forward (`popstate`); a `url` the server
 * sets (`session:navigate`) is pushed onto the browser's history; a `title` the server sets
 * becomes `document.title`.
 *
 * @module
 */
import type { VariableStore } from "./store.ts";
import { APP_ID } from "./store.ts";

/**
 * The address below the session's page (`root`: `/<sid>`, or `/<base>/<sid>` under a base path):
 * `/contacts/42?tab=notes`, `/` for the session's own page.
 *
 * @example
 * ```ts
 * import { pageUrl } from "./router.ts";
 * pageUrl("/abc", { pathname: "/abc/contacts/4", search: "?x=1" }); // "/contacts/4?x=1"
 * ```
 */
export function pageUrl(root: string, where: { pathname: string; search: string }): string {
  const rest = where.pathname.slice(root.length);
  return (rest.startsWith("/") ? rest : `/${rest}`) + where.search;
}

/** A started router. */
export interface Router {
  /** Tells the server the current address (on connect and reconnect). */
  report(): void;
  /** Stops listening. */
  stop(): void;
}

/**
 * Starts following the address and title for the session's page at `root` (`/<sid>`, or
 * `/<base>/<sid>`); `flush` sends what is queued.
 *
 * @example
 * ```ts ignore
 * const router = startRouter(store, `/${sid}`, () => batcher.flush());
 * router.report();
 * ```
 */
export function startRouter(store: VariableStore, root: string, flush: () => void): Router {
  const current = () => pageUrl(root, location);
  const report = () => store.setProperties(APP_ID, { url: current() });
  const unlisten = store.listen(APP_ID, (variable, change) => {
    if (change.properties.includes("url")) {
      const url = variable.properties.url ?? "/";
      if (url !== current()) {
        history.pushState(null, "", `${root}${url === "/" ? "" : url}`);
      }
    }
    if (change.properties.includes("title")) {
      document.title = variable.properties.title ?? "";
    }
  });
  const popped = () => {
    report();
    flush();
  };
  addEventListener("popstate", popped);
  return {
    report,
    stop() {
      unlisten();
      removeEventListener("popstate", popped);
    },
  };
}
