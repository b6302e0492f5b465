/**
 * App testing without a browser, in the spirit of Phoenix's `LiveViewTest` and
 * `Livewire::test`: {@link testApp} starts a session on a site in this process (no HTTP server),
 * runs the built-in client (the same bundle a browser loads) on a linkedom document wired to
 * the session through a WebSocket stand-in, and lets a test click, type, press keys, read the
 * page by CSS selector and evaluate Lua in the session.
 *
 * Every interaction resolves once the app is quiet again ({@link AppTester.settled}): the
 * frames it caused have gone both ways and the client's short timers (its batch, debounces)
 * have fired. Lua timers (`session:setTimeout`) are not waited for; use
 * {@link AppTester.waitFor} for what they change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { testApp } from "./app_tester.ts";
 *
 * await using app = await testApp(); // the embedded contact book
 * assert.equal(app.count(".contact-list .row"), 8);
 * await app.type("input[type=search]", "ar");
 * assert.equal(app.text(".match-summary"), "2 of 8 match “ar”");
 * await app.press("input[type=search]", "Enter");
 * assert.equal(app.text(".detail-name"), "Barbara Liskov");
 * assert.equal(await app.lua("return #session:getApp().contacts"), 8);
 * ```
 *
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../config.ts";
import { createLogger, type Logger } from "../log.ts";
import type { LuaObject, LuaValue } from "../lua/vm.ts";
import { newSid, SessionManager } from "../session/manager.ts";
import { builtinPage } from "../server/page.ts";
import { EMBEDDED_SITE, loadSite, type Site } from "../site/site.ts";
import type { Result } from "../failure.ts";
import { type ClientPage, openClientPage } from "./client_page.ts";
import { inMemorySite, type SiteFiles } from "../site/in_memory_site.ts";
import { loadEmbeddedSite } from "../site/embedded_site.ts";
import { socketClass, type TestSocket } from "./test_socket.ts";
import * as user from "./user_events.ts";
import { type HostFunctionsOption, sessionHost } from "../session/host_builtins/session_host.ts";
import type { SessionStore } from "../store/session_store.ts";

// The types the tester's API names, so that an entry point re-exporting it documents them.
export type { Config, Logger, LuaObject, LuaValue, Site, SiteFiles };
export { inMemorySite };

/** Options of {@link testApp}. */
export interface AppTesterOptions {
  /** A site folder, a loaded {@link Site}, or its files in memory; the embedded app by default. */
  site: string | Site | SiteFiles;
  /** Session limits and switches, over the server's defaults. */
  config: Partial<
    Pick<
      Config,
      | "instructionBudget"
      | "maxVariables"
      | "maxFrameBytes"
      | "maxMessagesPerFrame"
      | "maxFramesPerSecond"
      | "inlineLua"
      | "sessionTimeoutMs"
    >
  >;
  /** Longest wait for the app to settle, in milliseconds. */
  settleTimeoutMs: number;
  /** Client timers shorter than this count as work in progress (a batch, a debounce). */
  shortTimerMs: number;
  /** The server's logger; by default its lines are kept in {@link AppTester.logs}. */
  log: Logger | undefined;
  /** Functions for Lua's `host` table, as `luaUi`'s `host` option. */
  host: HostFunctionsOption | undefined;
  /** A store for Lua's `store.get/set/delete` (as `--app-store`); none leaves `store` out. */
  appStore: SessionStore | undefined;
  /** Origins Lua's `http.fetch` may reach (as `--allow-fetch`). */
  allowFetch: string[];
}

/** The defaults of {@link AppTesterOptions}. */
export const DEFAULT_APP_TESTER_OPTIONS: AppTesterOptions = {
  site: EMBEDDED_SITE,
  config: {},
  settleTimeoutMs: 5000,
  shortTimerMs: 1000,
  log: undefined,
  host: undefined,
  appStore: undefined,
  allowFetch: [],
};

/** Options of {@link AppTester.waitFor}. */
export interface WaitOptions {
  /** Longest wait, in milliseconds; the tester's settle timeout by default. */
  timeoutMs?: number;
  /** Named in the timeout's error. */
  what?: string;
}

/** One session, one page on it, and what a test does with them. */
export interface AppTester extends AsyncDisposable {
  /** The session id. */
  readonly sid: string;
  /** The page's document (linkedom). */
  readonly document: Document;
  /** The page's global object, as the client sees it (`window.uiApp`, …). */
  readonly window: Record<string, unknown>;
  /** True from the first render until {@link AppTester.close} shuts the session down. */
  readonly sessionRunning: boolean;
  /** The client's `console.error` lines and failed handlers: empty when nothing went wrong. */
  readonly problems: string[];
  /** The client's other console output, and the server's log lines (Lua `print` too). */
  readonly logs: string[];

  /** The first element matching a selector; throws when there is none. */
  element(selector: string): Element;
  /** Every element matching a selector. */
  all(selector: string): Element[];
  /** How many elements match. */
  count(selector: string): number;
  /** The trimmed text of the first match. */
  text(selector: string): string;
  /** The trimmed text of every match. */
  texts(selector: string): string[];
  /** The `value` of the first match (an input, select or textarea). */
  value(selector: string): string;
  /** Whether the first match (a checkbox or radio button) is checked. */
  checked(selector: string): boolean;
  /** An attribute of the first match, or null. */
  attr(selector: string, name: string): string | null;
  /**
   * Whether the first match is shown: it exists and neither it nor an ancestor has `hidden` or
   * an inline `display: none` (stylesheets are not applied: there is no layout).
   */
  visible(selector: string): boolean;

  /** Clicks the first match (with the default actions of checkboxes, labels and submit). */
  click(selector: string): Promise<void>;
  /** Types into a text field a character at a time, then commits (`change`). */
  type(selector: string, text: string): Promise<void>;
  /** Replaces a field's text (or a select's value) at once, then commits. */
  fill(selector: string, text: string): Promise<void>;
  /** Presses a key (`Enter`, `Escape`, `a`, `Control+k`) on the first match. */
  press(selector: string, key: string): Promise<void>;

  /** Resolves once no frame is in flight and no short client timer is pending. */
  settled(): Promise<void>;
  /** Polls `read` (settling first) until `accept` likes its value; returns it. */
  waitFor<T>(
    read: () => T | Promise<T>,
    accept?: (value: T) => boolean,
    options?: WaitOptions,
  ): Promise<T>;
  /** Runs Lua in the session, between frames, then settles; returns its first result. */
  lua(code: string): Promise<LuaValue>;
  /** Opens the page again on the same session (its state stays, the DOM is new). */
  reload(): Promise<void>;
  /** Closes the page and shuts the session down. */
  close(): Promise<void>;
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
/** Quiet turns in a row that count as settled (a server flush is one timer turn away). */
const QUIET_TURNS = 3;

async function resolveSite(site: AppTesterOptions["site"]): Promise<Site> {
  if (site === EMBEDDED_SITE) return await loadEmbeddedSite();
  if (typeof site === "string") return await loadSite(site);
  return site.lua instanceof Map ? site as Site : inMemorySite(site as SiteFiles);
}

async function pageHtml(site: Site): Promise<string> {
  if (!site.htmlDir) return builtinPage();
  try {
    return await Deno.readTextFile(`${site.htmlDir}/index.html`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return builtinPage();
    throw error;
  }
}

/**
 * Starts a session on a site and opens a page on it; resolves once the first render is done.
 * Close it with {@link AppTester.close}, or declare it with `await using`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { testApp } from "./app_tester.ts";
 *
 * const app = await testApp({
 *   site: {
 *     lua: {
 *       "main.lua": `
 *         Counter = session:prototype("Counter", {count = 0})
 *         function Counter:add() self.count = self.count + 1 end
 *         session:createAppVariable(session:create(Counter))`,
 *     },
 *     viewdefs: {
 *       "Counter.DEFAULT": `<template>
 *         <b class="count" ui-value="count"></b><button ui-action="add()">+</button>
 *       </template>`,
 *     },
 *   },
 * });
 * try {
 *   await app.click("button");
 *   assert.equal(app.text(".count"), "1");
 *   assert.equal(await app.lua("return session:getApp().count"), 1);
 * } finally {
 *   await app.close();
 * }
 * ```
 */
export async function testApp(options: Partial<AppTesterOptions> = {}): Promise<AppTester> {
  const settings = { ...DEFAULT_APP_TESTER_OPTIONS, ...options };
  const site = await resolveSite(settings.site);
  const html = await pageHtml(site);
  const problems: string[] = [];
  const logs: string[] = [];
  const log = settings.log ??
    createLogger({ level: "info", write: (line) => logs.push(line) });
  const manager = new SessionManager({
    ...DEFAULT_CONFIG,
    // A background flush one timer turn away rather than 10 ms: tests settle sooner.
    flushDelayMs: 0,
    ...settings.config,
    site,
    log,
    hostTables: sessionHost({
      functions: settings.host,
      allowFetch: settings.allowFetch,
      appStore: settings.appStore,
    }),
  });
  const sid = newSid();
  const inFlight = new Set<Promise<unknown>>();
  let sockets: TestSocket[] = [];
  let page: ClientPage | undefined;

  // A reload opens the page at the address it had (routing moves it below the sid).
  let address = `http://localhost/${sid}`;
  const openPage = async () => {
    sockets = [];
    const opened = sockets;
    page = await openClientPage({
      html,
      url: address,
      WebSocket: socketClass(manager, {
        track: (work) => {
          const done = work.catch(() => {}).finally(() => inFlight.delete(done));
          inFlight.add(done);
        },
        problem: (message) => problems.push(message),
        opened: (socket) => opened.push(socket),
      }),
      shortTimerMs: settings.shortTimerMs,
      reload: () => void tester.reload(),
      problem: (message) => problems.push(message),
      log: (message) => logs.push(message),
    });
  };
  const closePage = () => {
    const location = page?.window.location as { href?: string } | undefined;
    if (typeof location?.href === "string") address = location.href;
    page?.close();
    for (const socket of sockets) socket.close(1001, "Page closed");
  };
  const current = () => {
    if (!page) throw new Error("The app tester is closed");
    return page;
  };
  const find = (selector: string) => {
    const found = current().document.querySelector(selector);
    if (!found) throw new Error(`No element matches '${selector}'`);
    return found;
  };

  const tester: AppTester = {
    sid,
    get document() {
      return current().document;
    },
    get window() {
      return current().window;
    },
    get sessionRunning() {
      return manager.session(sid) !== undefined;
    },
    problems,
    logs,

    element: find,
    all: (selector) => [...current().document.querySelectorAll(selector)],
    count: (selector) => current().document.querySelectorAll(selector).length,
    text: (selector) => (find(selector).textContent ?? "").trim(),
    texts: (selector) => tester.all(selector).map((element) => (element.textContent ?? "").trim()),
    value: (selector) => String((find(selector) as HTMLInputElement).value ?? ""),
    checked: (selector) => Boolean((find(selector) as HTMLInputElement).checked),
    attr: (selector, name) => find(selector).getAttribute(name),
    visible: (selector) => {
      const element = current().document.querySelector(selector);
      if (!element) return false;
      for (let node: Element | null = element; node; node = node.parentElement) {
        if (node.hasAttribute("hidden")) return false;
        if (/(^|;)\s*display\s*:\s*none/i.test(node.getAttribute("style") ?? "")) return false;
      }
      return true;
    },

    async click(selector) {
      user.click(current().events, find(selector));
      await tester.settled();
    },
    async type(selector, text) {
      user.type(current().events, find(selector), text);
      await tester.settled();
    },
    async fill(selector, text) {
      user.fill(current().events, find(selector), text);
      await tester.settled();
    },
    async press(selector, key) {
      user.press(current().events, find(selector), key);
      await tester.settled();
    },

    async settled() {
      const deadline = Date.now() + settings.settleTimeoutMs;
      let quiet = 0;
      while (quiet < QUIET_TURNS) {
        await nextTask();
        await manager.session(sid)?.idle();
        const timers = page?.busyTimers ?? 0;
        quiet = inFlight.size === 0 && timers === 0 ? quiet + 1 : 0;
        if (quiet === 0 && Date.now() > deadline) {
          throw new Error(
            `The app did not settle within ${settings.settleTimeoutMs} ms ` +
              `(${inFlight.size} frames in flight, ${timers} client timers pending)`,
          );
        }
      }
    },
    async waitFor(read, accept = (value) => Boolean(value), wait = {}) {
      const timeoutMs = wait.timeoutMs ?? settings.settleTimeoutMs;
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (true) {
        await tester.settled();
        const value = await read();
        if (accept(value)) return value;
        last = value;
        if (Date.now() > deadline) {
          throw new Error(
            `Timed out after ${timeoutMs} ms waiting for ${wait.what ?? "a condition"}; ` +
              `last value: ${JSON.stringify(last)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async lua(code) {
      await tester.settled();
      const session = manager.session(sid);
      if (!page || !session) throw new Error("The app tester is closed");
      let result: Result<LuaValue[]> | undefined;
      await session.runTask(() => result = session.evaluate(code));
      if (!result) throw new Error("The Lua code did not run");
      if (!result.ok) throw new Error(`Lua failed: ${result.failure.description}`);
      await tester.settled();
      return result.value[0] ?? null;
    },
    async reload() {
      closePage();
      await tester.settled();
      await openPage();
      await tester.settled();
    },
    async close() {
      if (!page) return;
      closePage();
      page = undefined;
      manager.shutdown();
      // Deliveries already scheduled run out, so that no timer outlives the test.
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      await nextTask();
    },
    [Symbol.asyncDispose]: () => tester.close(),
  };

  try {
    await openPage();
    await tester.settled();
    if (!manager.session(sid)) throw new Error("The page did not connect to its session");
  } catch (error) {
    await tester.close();
    throw error;
  }
  return tester;
}
