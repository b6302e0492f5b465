/// <reference lib="dom" />
/**
 * The built-in browser client (SPEC 14), loaded by the built-in page as
 * `/ui-engine-client.js`: connects to `/ws/<sid>` (the first segment of the page's path),
 * watches variable 1 and renders its type's view into the `[ui-app]` element.
 *
 * @module
 */
import { OutgoingBatcher } from "./batcher.ts";
import { Connection } from "./connection.ts";
import type { ClientContext } from "./context.ts";
import { clearError, markError } from "./errors.ts";
import { parseServerFrame } from "./protocol.ts";
import { bindTree } from "./render.ts";
import { ErrorOverlay, readDetails } from "./overlay.ts";
import { startRouter } from "./router.ts";
import { StatusBanner } from "./status.ts";
import { type ClientVariable, VariableStore } from "./store.ts";
import { View } from "./view.ts";
import { createUiApp, type UiApp } from "./ui_app.ts";
import { ViewdefStore } from "./viewdefs.ts";

/** A running client. */
export interface Client {
  readonly context: ClientContext;
  readonly connection: Connection;
  readonly status: StatusBanner;
}

/**
 * Starts the client on a document; returns undefined when the page has no `[ui-app]`
 * element or its path has no session id.
 *
 * @example
 * ```ts
 * import { startClient } from "./main.ts";
 * startClient(document);
 * ```
 */
export function startClient(document: Document): Client | undefined {
  const root = document.querySelector("[ui-app]");
  // Served under a base path (`/ui/<sid>`), the page names it; ui-engine's own pages do not.
  const base = document.querySelector('meta[name="ui-base"]')?.getAttribute("content") ?? "";
  const below = location.pathname.startsWith(`${base}/`)
    ? location.pathname.slice(base.length)
    : location.pathname;
  const sid = below.split("/")[1] ?? "";
  if (!root || sid === "") {
    console.error("The page needs a [ui-app] element and a session id in its path");
    return undefined;
  }
  const status = new StatusBanner(document);
  const overlay = new ErrorOverlay(document);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let connection: Connection | undefined = undefined;
  const batcher = new OutgoingBatcher((frame) => connection?.send(frame) ?? false);
  const viewdefs = new ViewdefStore();
  const elementOf = (variable: ClientVariable): Element | undefined => {
    for (let v: ClientVariable | undefined = variable; v; v = context.store.get(v.parentId)) {
      const element = context.elements.get(v.id);
      if (element) return element;
      if (v.parentId === 0) break;
    }
    return undefined;
  };
  const store = new VariableStore(batcher, {
    viewdefs: (json) => {
      if (viewdefs.addJson(json).length === 0) return;
      for (const view of [...context.views]) view.refresh();
    },
    error: (variable, code, description, varId, details) => {
      const shown = readDetails(details);
      if (shown) overlay.show(shown);
      if (!variable && varId !== undefined) {
        // A variable this page dropped in the same frame (e.g. a view that changed type).
        console.debug(`Ignoring ${code} for dropped variable ${varId}: ${description}`);
        return;
      }
      if (!variable) {
        console.error(`Server error ${code}: ${description}`);
        status.notice(`${code}: ${description}`);
        return;
      }
      console.warn(`Variable ${variable.id} (${variable.properties.path ?? ""}): ${description}`);
      const element = elementOf(variable);
      if (element) markError(element, variable.id, code, description);
    },
    errorCleared: (variable) => {
      const element = elementOf(variable);
      if (element) clearError(element, variable.id);
    },
  });
  const context: ClientContext = {
    store,
    viewdefs,
    views: new Set(),
    elements: new Map(),
    fields: new Set(),
    bind: (element, variableId, scope, boundary) =>
      bindTree(context, element, variableId, scope, boundary),
  };
  const app = store.watchApp();
  const namespace = root.getAttribute("ui-namespace");
  if (namespace) app.properties.namespace = namespace;
  // The address goes with the first watch, so Lua sees a deep link before anything renders.
  const router = startRouter(store, `${base}/${sid}`, () => batcher.flush());
  store.listen(app.id, (variable, change) => {
    if (change.properties.includes("ui-dev-error") && !variable.properties["ui-dev-error"]) {
      overlay.clear();
    }
  });
  router.report();
  new View(context, root, app.id, { container: true });
  connection = new Connection(`${scheme}://${location.host}${base}/ws/${sid}`, {
    open: (reconnected) => {
      if (reconnected) {
        // The server dropped this page's variables: create them again, then resend edits.
        const pending = batcher.take();
        for (const message of store.replay()) batcher.add(message);
        router.report();
        for (const message of pending) {
          if (message.type === "update" && store.get(message.data.varId)) {
            batcher.add(message, true);
          }
        }
      }
      batcher.flush();
    },
    message: (text) => store.receive(parseServerFrame(text)),
    state: (state) => {
      // Answers to actions in flight will not come on a new connection.
      if (state !== "open") store.abandonConfirmations();
      status.connection(state);
    },
  });
  // Forms inside the app never navigate away (their submit is for ui-event-submit).
  root.addEventListener("submit", (event) => {
    if (!(event.target as Element | null)?.hasAttribute("action")) event.preventDefault();
  });
  connection.start();
  (globalThis as { uiApp?: UiApp }).uiApp = createUiApp(context);
  return { context, connection, status };
}

if (typeof document !== "undefined" && typeof location !== "undefined") {
  const start = () => startClient(document);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
