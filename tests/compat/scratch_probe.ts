/// <reference lib="dom" />
import { launchBrowser } from "../browser/helpers.ts";
import { startTestServer } from "../support/ws_client.ts";
import { type Frontend, prepareDemoSite, uiEngineDir } from "./demo_site.ts";

const frontend = (Deno.args[0] ?? "ui-engine") as Frontend;
const site = await prepareDemoSite(uiEngineDir(), "tasks", frontend);
const server = await startTestServer({ dir: site, openPaths: false });
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => console.log("SENT", String(f.payload).slice(0, 3000)));
    ws.on("framereceived", (f) => console.log("RECV", String(f.payload).slice(0, 3000)));
  });
  page.on("pageerror", (e) => console.log("PAGEERROR", e.message));
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.locator(".task-row").first().waitFor();
  await page.waitForTimeout(500);
  console.log("---- CLICK +");
  await page.locator(".header sl-button", { hasText: "+" }).click();
  await page.waitForTimeout(800);
  console.log(
    await page.evaluate(() =>
      [...document.querySelectorAll(".task-row")].map((r) =>
        r.id + " " + r.className + " | " +
        [...r.querySelectorAll("sl-input,span")].map((e) =>
          e.className + ":" + (e as HTMLInputElement).value + ":" + e.textContent
        ).join(" / ")
      ).join("\n")
    ),
  );
} finally {
  await browser.close();
  await server.shutdown();
  await Deno.remove(site, { recursive: true });
}
