/**
 * A page for tests: the built-in client's bundle (the very script the browser loads, from
 * `src/server/client_assets.ts`) run against a linkedom document instead of a browser's.
 *
 * The bundle is compiled once per process into a function whose free names (`document`,
 * `location`, `WebSocket`, `setTimeout`, the element classes, …) are bound to one page's own
 * objects, so pages never share globals and the test process's globals stay untouched.
 *
 * @module
 */
import { parseHTML } from "linkedom";
import { clientBundle } from "../server/client_assets.ts";
import type { SocketClass } from "./test_socket.ts";

/** Options of {@link openClientPage}. */
export interface ClientPageOptions {
  /** The page's HTML (the built-in page, or the site's `html/index.html`). */
  html: string;
  /** The page's URL; its first path segment is the session id. */
  url: string;
  /** The page's `WebSocket`. */
  WebSocket: SocketClass;
  /** Client timers shorter than this are work in progress (a batch, a debounce). */
  shortTimerMs: number;
  /** What the page's `location.reload()` does. */
  reload: () => void;
  /** Receives what the client writes with `console.error` and its failed timers. */
  problem: (message: string) => void;
  /** Receives the rest of the client's console output. */
  log: (message: string) => void;
}

/** The event classes a test dispatches with, from the page's DOM. */
export interface PageEvents {
  Event: new (type: string, init?: EventInit) => Event;
  KeyboardEvent: new (type: string, init?: KeyboardEventInit) => KeyboardEvent;
}

/** A running client on a DOM of its own. */
export interface ClientPage {
  /** The page's global object, as the client sees it (`window.uiApp`, …). */
  readonly window: Record<string, unknown>;
  readonly document: Document;
  readonly events: PageEvents;
  /** Client timers shorter than `shortTimerMs` that have not fired yet. */
  readonly busyTimers: number;
  /** Stops every client timer; the page is dead afterwards. */
  close(): void;
}

type ScopeRunner = (scope: Record<string, unknown>) => void;
type TimerId = ReturnType<typeof setTimeout>;

/** The names the bundle finds in the page's scope rather than the process's. */
const PAGE_NAMES = [
  "window",
  "self",
  "globalThis",
  "document",
  "location",
  "history",
  "navigator",
  "WebSocket",
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "addEventListener",
  "removeEventListener",
  "dispatchEvent",
  "console",
  "Node",
  "Element",
  "HTMLElement",
  "HTMLInputElement",
  "HTMLTextAreaElement",
  "HTMLSelectElement",
  "HTMLTemplateElement",
  "HTMLScriptElement",
  "HTMLButtonElement",
  "DocumentFragment",
  "Text",
  "Comment",
  "Event",
  "CustomEvent",
  "InputEvent",
  "KeyboardEvent",
  "MutationObserver",
] as const;

let runner: Promise<ScopeRunner> | undefined;

/** The bundle as a function of a page scope, compiled once per process. */
function clientRunner(): Promise<ScopeRunner> {
  runner ??= clientBundle().then(({ body }) => {
    const code = new TextDecoder().decode(body);
    // The bundle is an ES module whose only export is `startClient`; as a function body it
    // runs its own start-up, as the module does in a browser.
    const exported = /export\s*\{[^}]*\};?\s*$/.exec(code);
    if (!exported) throw new Error("The client bundle does not end with its export list");
    const script = code.slice(0, exported.index);
    // The block lets the bundle's own top-level names shadow the scope's without a clash.
    return new Function(
      "scope",
      `"use strict";const {${PAGE_NAMES.join(",")}} = scope;{${script}}`,
    ) as ScopeRunner;
  });
  runner.catch(() => runner = undefined);
  return runner;
}

/**
 * What linkedom lacks and the client uses: an input's `valueAsNumber` (read by `type=number`
 * fields) and a select's `value` as a browser has it (the first option by default; a value from
 * Lua picks the option). Added once to linkedom's shared classes, only where they are missing.
 */
function fillInDom(window: Record<string, unknown>): void {
  const input = (window.HTMLInputElement as { prototype: object }).prototype;
  if (!("valueAsNumber" in input)) {
    Object.defineProperty(input, "valueAsNumber", {
      get(this: HTMLInputElement) {
        return this.value.trim() === "" ? NaN : Number(this.value);
      },
      configurable: true,
    });
  }
  // A select's value is its selected option's, else its first option's, as in a browser.
  const select = (window.HTMLSelectElement as { prototype: object }).prototype;
  if (Object.getOwnPropertyDescriptor(select, "value")?.set) return;
  Object.defineProperty(select, "value", {
    get(this: HTMLSelectElement) {
      const options = [...this.querySelectorAll("option")];
      const chosen = options.find((option) => option.hasAttribute("selected")) ?? options[0];
      return chosen?.value ?? "";
    },
    set(this: HTMLSelectElement, wanted: unknown) {
      let found = false;
      for (const option of this.querySelectorAll("option")) {
        const match: boolean = !found && option.value === String(wanted);
        found ||= match;
        if (match) option.setAttribute("selected", "");
        else option.removeAttribute("selected");
      }
    },
    configurable: true,
  });
}

/** A console argument as text: an error's stack, an object's JSON. */
function describe(part: unknown): string {
  if (part instanceof Error) return part.stack ?? String(part);
  if (typeof part !== "object" || part === null) return String(part);
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}

/**
 * Builds a page from HTML and starts the client in it; resolves once the client has started
 * (its socket opens in a later task).
 *
 * @example
 * ```ts ignore
 * const page = await openClientPage({ html, url, WebSocket, shortTimerMs: 1000, ... });
 * page.document.querySelector("[ui-app]");
 * page.close();
 * ```
 */
export async function openClientPage(options: ClientPageOptions): Promise<ClientPage> {
  const run = await clientRunner();
  const dom = parseHTML(options.html) as unknown as Record<string, unknown>;
  fillInDom(dom);
  const document = dom.document as Document;
  const BaseEvent = dom.Event as typeof Event;
  class PageKeyboardEvent extends BaseEvent {
    readonly key: string;
    readonly code: string;
    readonly ctrlKey: boolean;
    readonly shiftKey: boolean;
    readonly altKey: boolean;
    readonly metaKey: boolean;
    readonly repeat = false;
    readonly isComposing = false;
    constructor(type: string, init: KeyboardEventInit = {}) {
      super(type, init);
      this.key = init.key ?? "";
      this.code = init.code ?? "";
      this.ctrlKey = init.ctrlKey ?? false;
      this.shiftKey = init.shiftKey ?? false;
      this.altKey = init.altKey ?? false;
      this.metaKey = init.metaKey ?? false;
    }
  }

  const timers = new Map<TimerId, boolean>();
  let closed = false;
  const guard = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      options.problem(`${what} failed: ${(error as Error)?.stack ?? error}`);
    }
  };
  // A closed page starts no timers: its client may still react to its socket's close.
  const pageSetTimeout = (fn: () => void, ms = 0, ...args: unknown[]) => {
    if (closed) return undefined;
    const id: TimerId = setTimeout(() => {
      timers.delete(id);
      if (!closed) guard("A client timer", () => (fn as (...a: unknown[]) => void)(...args));
    }, ms);
    timers.set(id, ms < options.shortTimerMs);
    return id;
  };
  const pageSetInterval = (fn: () => void, ms = 0, ...args: unknown[]) => {
    if (closed) return undefined;
    const id: TimerId = setInterval(() => {
      if (!closed) guard("A client interval", () => (fn as (...a: unknown[]) => void)(...args));
    }, ms);
    timers.set(id, false);
    return id;
  };
  const stopTimer = (id: TimerId | undefined) => {
    if (id === undefined) return;
    timers.delete(id);
    clearTimeout(id);
  };
  const show = (...parts: unknown[]) => parts.map(describe).join(" ");
  const pageConsole = {
    error: (...parts: unknown[]) => options.problem(show(...parts)),
    warn: (...parts: unknown[]) => options.log(`warn: ${show(...parts)}`),
    info: (...parts: unknown[]) => options.log(show(...parts)),
    log: (...parts: unknown[]) => options.log(show(...parts)),
    debug: (...parts: unknown[]) => options.log(`debug: ${show(...parts)}`),
  };
  const url = new URL(options.url);
  const location = {
    href: url.href,
    protocol: url.protocol,
    host: url.host,
    hostname: url.hostname,
    port: url.port,
    pathname: url.pathname,
    search: url.search,
    hash: url.hash,
    origin: url.origin,
    reload: () => options.reload(),
    toString: () => url.href,
  };
  const events = new EventTarget();
  // The page's session history: pushState moves `location`; back and forward fire popstate.
  const entries: string[] = [url.href];
  let current = 0;
  const moveTo = (href: string) => {
    const next = new URL(href, location.href);
    Object.assign(location, {
      href: next.href,
      pathname: next.pathname,
      search: next.search,
      hash: next.hash,
    });
  };
  const go = (delta: number) => {
    const target = current + delta;
    if (target < 0 || target >= entries.length) return;
    current = target;
    moveTo(entries[current] as string);
    pageSetTimeout(() => events.dispatchEvent(new Event("popstate")), 0);
  };
  const history = {
    get length() {
      return entries.length;
    },
    state: null,
    pushState: (_state: unknown, _title: string, href?: string) => {
      if (href === undefined) return;
      entries.splice(current + 1, entries.length, new URL(href, location.href).href);
      current = entries.length - 1;
      moveTo(entries[current] as string);
    },
    replaceState: (_state: unknown, _title: string, href?: string) => {
      if (href === undefined) return;
      entries[current] = new URL(href, location.href).href;
      moveTo(entries[current] as string);
    },
    back: () => go(-1),
    forward: () => go(1),
    go,
  };
  const scope: Record<string, unknown> = {
    document,
    location,
    history,
    navigator: { userAgent: "lua-ui app tester", onLine: true },
    WebSocket: options.WebSocket,
    setTimeout: pageSetTimeout,
    clearTimeout: stopTimer,
    setInterval: pageSetInterval,
    clearInterval: stopTimer,
    addEventListener: events.addEventListener.bind(events),
    removeEventListener: events.removeEventListener.bind(events),
    dispatchEvent: events.dispatchEvent.bind(events),
    console: pageConsole,
    KeyboardEvent: PageKeyboardEvent,
  };
  for (const name of PAGE_NAMES) if (!(name in scope)) scope[name] = dom[name];
  scope.window = scope.self = scope.globalThis = scope;
  run(scope);
  return {
    window: scope,
    document,
    events: {
      Event: BaseEvent,
      KeyboardEvent: PageKeyboardEvent as unknown as PageEvents["KeyboardEvent"],
    },
    get busyTimers() {
      let count = 0;
      for (const short of timers.values()) if (short) count++;
      return count;
    },
    close() {
      closed = true;
      for (const id of timers.keys()) clearTimeout(id);
      timers.clear();
    },
  };
}
