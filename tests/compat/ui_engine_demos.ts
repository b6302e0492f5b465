/// <reference lib="dom" />
/**
 * The compatibility check against a real ui-engine v0.21.0 checkout (`deno task compat`, with
 * `UI_ENGINE_DIR` naming it; not part of `deno task test`, since CI has no copy). ui-engine's
 * `demo/` folder is served as shipped, each of its three apps as `main.lua`, once with
 * ui-engine's own prebuilt frontend (its `html/`) and once with the built-in client; Chromium
 * types and clicks through each app. A restart with a session store is checked with ui-engine's
 * frontend. Without `UI_ENGINE_DIR`, or with a folder that is not a checkout, the check fails.
 */
import type {} from "@shoelace-style/shoelace";
import type { Page } from "playwright-core";
import type { Config } from "../../src/config.ts";
import type { RunningServer } from "../../src/server/start.ts";
import { launchBrowser, until } from "../browser/helpers.ts";
import { startTestServer } from "../support/ws_client.ts";
import { type DemoApp, type Frontend, prepareDemoSite, uiEngineDir } from "./demo_site.ts";
import { contactFlows, restartFlow, taskFlows } from "./demo_flows.ts";

const FRONTENDS: Frontend[] = ["ui-engine", "builtin"];

/** One app on one frontend: a server on a temporary site, a browser page at a fresh session. */
async function withApp(
  app: DemoApp,
  frontend: Frontend,
  run: (page: Page, server: { current: RunningServer }, site: string) => Promise<void>,
  config: Partial<Config> = {},
): Promise<void> {
  const site = await prepareDemoSite(uiEngineDir(), app, frontend);
  const server = { current: await startTestServer({ ...config, dir: site, openPaths: false }) };
  const browser = await launchBrowser();
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    if (Deno.env.get("COMPAT_FRAMES")) {
      page.on("websocket", (ws) => {
        ws.on("framesent", (f) => console.log("sent", String(f.payload).slice(0, 300)));
        ws.on("framereceived", (f) => console.log("received", String(f.payload).slice(0, 300)));
        ws.on("close", () => console.log("closed"));
      });
    }
    await page.goto(`http://127.0.0.1:${server.current.port}/`);
    await run(page, server, site);
  } catch (error) {
    if (problems.length) console.error(problems.join("\n"));
    throw error;
  } finally {
    await browser.close();
    await server.current.shutdown();
    await Deno.remove(site, { recursive: true });
  }
}

/** Sets a plain input's text as typing would and leaves it (its `change` fires). */
async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  const input = page.locator(selector);
  await input.fill(text);
  await input.press("Tab");
}

/** Why the check cannot run, if it cannot: it then fails with that one message. */
let missing: string | undefined;
try {
  uiEngineDir();
} catch (error) {
  missing = (error as Error).message;
}

Deno.test("UI_ENGINE_DIR names a ui-engine checkout", () => {
  if (missing) throw new Error(missing);
});

for (const frontend of missing ? [] : FRONTENDS) {
  Deno.test(`adder on ${frontend}`, async (t) => {
    await withApp("adder", frontend, async (page) => {
      const sum = page.locator("span[ui-value='compute()']");
      await page.locator("input[placeholder='Value 1']").waitFor();
      await t.step("two numbers give their sum", async () => {
        await typeInto(page, "input[placeholder='Value 1']", "2");
        await typeInto(page, "input[placeholder='Value 2']", "40");
        await until(() => sum.textContent(), (text) => text === "42", "the sum 42");
      });
      await t.step("a number that is not one empties the sum", async () => {
        await typeInto(page, "input[placeholder='Value 2']", "x");
        await until(() => sum.textContent(), (text) => text === "", "an empty sum");
        await typeInto(page, "input[placeholder='Value 2']", "0.5");
        await until(() => sum.textContent(), (text) => text === "2.5", "the sum 2.5");
      });
    });
  });

  Deno.test(`contact manager on ${frontend}`, async (t) => {
    await withApp("contact", frontend, (page) => contactFlows(t, page));
  });

  Deno.test(`tasks on ${frontend}`, async (t) => {
    await withApp("tasks", frontend, (page) => taskFlows(t, page, frontend));
  });
}

Deno.test({
  name: "contact manager on ui-engine survives a server restart with a session store",
  ignore: missing !== undefined,
}, async (t) => {
  const store = await Deno.makeTempDir({ prefix: "ui_engine_store_" });
  const config = { sessionStore: `kv:${store}/sessions.kv`, snapshotDelayMs: 100 };
  try {
    await withApp("contact", "ui-engine", async (page, server, site) => {
      await restartFlow(t, page, async () => {
        const port = server.current.port;
        await server.current.shutdown();
        server.current = await startTestServer({ ...config, dir: site, openPaths: false, port });
      });
    }, config);
  } finally {
    await Deno.remove(store, { recursive: true });
  }
});
