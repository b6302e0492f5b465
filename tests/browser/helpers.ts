/// <reference lib="dom" />
/**
 * Browser test support: headless Chromium (driven by playwright-core) against a real server
 * started in-process.
 *
 * @module
 */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { Config } from "../../src/config.ts";
import type { RunningServer } from "../../src/server/start.ts";
import { startTestServer } from "../support/ws_client.ts";

export { fixture } from "../support/ws_client.ts";

/** How long a test waits for something to show up in the page. */
export const WAIT_MS = 10_000;

/**
 * Launches headless Chromium.
 *
 * @example
 * ```ts
 * const browser = await launchBrowser();
 * await browser.close();
 * ```
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A server, a browser and one page on a session, closed together. */
export interface Harness {
  server: RunningServer;
  browser: Browser;
  /** The page's browser context: its cookies are the browser's, so it owns the session. */
  context: BrowserContext;
  page: Page;
  sid: string;
  /** Problems the page reported (uncaught exceptions, console errors). */
  problems: string[];
  /** The page's URL for its session. */
  url(): string;
  close(): Promise<void>;
}

/**
 * Starts a server (a fixture site or the embedded app), a browser, and opens the app at `/`,
 * which gives the page a fresh session of its own (the sid is read from where it lands).
 *
 * @example
 * ```ts
 * const app = await openApp({ dir: fixture("adder") });
 * await app.close();
 * ```
 */
export async function openApp(
  overrides: Partial<Config> = {},
  options: { width?: number; height?: number; phone?: boolean } = {},
): Promise<Harness> {
  const server = await startTestServer(overrides);
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser();
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1100, height: options.height ?? 760 },
      // A phone: taps instead of clicks, and the viewport meta tag honoured.
      ...(options.phone ? { hasTouch: true, isMobile: true, deviceScaleFactor: 3 } : {}),
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    await page.goto(`http://127.0.0.1:${server.port}/`);
    const sid = new URL(page.url()).pathname.slice(1);
    const harness: Harness = {
      server,
      browser,
      context,
      page,
      sid,
      problems,
      url: () => `http://127.0.0.1:${harness.server.port}/${sid}`,
      async close() {
        await browser?.close();
        await harness.server.shutdown();
      },
    };
    return harness;
  } catch (error) {
    await browser?.close();
    await server.shutdown();
    throw error;
  }
}

/**
 * Waits until `read()` returns a value that `accept` likes; returns it.
 *
 * @example
 * ```ts
 * // await until(() => page.locator("li").count(), (n) => n === 3, "three items");
 * ```
 */
export async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  ms = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/**
 * Waits until the text of the first element matching `selector` equals `expected`.
 *
 * @example
 * ```ts
 * // await waitForText(page, ".sum", "5");
 * ```
 */
export async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  await until(
    () => page.locator(selector).first().textContent({ timeout: WAIT_MS }),
    (text) => text === expected,
    `${selector} to read ${JSON.stringify(expected)}`,
  );
}

/**
 * Waits until `selector` matches exactly `count` elements.
 *
 * @example
 * ```ts
 * // await waitForCount(page, ".row", 8);
 * ```
 */
export async function waitForCount(page: Page, selector: string, count: number): Promise<void> {
  await until(
    () => page.locator(selector).count(),
    (n) => n === count,
    `${count} × ${selector}`,
  );
}

/**
 * The trimmed text of every element matching `selector`.
 *
 * @example
 * ```ts
 * // const names = await texts(page, ".row-name");
 * ```
 */
export async function texts(page: Page, selector: string): Promise<string[]> {
  return (await page.locator(selector).allTextContents()).map((text) => text.trim());
}
