/// <reference lib="dom" />
/**
 * A Shoelace form driven in Chromium: real Shoelace from npm (Deno's npm cache), copied with
 * the shoelace_site fixture into tests/output/ and served by the test server; no CDN.
 */
import type {} from "@shoelace-style/shoelace";
import assert from "node:assert/strict";
import { copy } from "./copy_dir.ts";
import { fixture, openApp, until } from "./helpers.ts";

/** Shoelace's self-contained build (`cdn/`), inside the npm package Deno downloaded. */
const SHOELACE_CDN = new URL("../cdn/", import.meta.resolve("@shoelace-style/shoelace"));

async function prepareSite(): Promise<string> {
  const site = new URL("../output/shoelace_site", import.meta.url).pathname;
  await Deno.remove(site, { recursive: true }).catch(() => {});
  await copy(fixture("shoelace_site"), site);
  await copy(SHOELACE_CDN.pathname, `${site}/html/shoelace`);
  return site;
}

Deno.test("a Shoelace form", async (t) => {
  const app = await openApp({ dir: await prepareSite() });
  const { page } = app;
  const summary = () => page.locator("#summary").textContent();
  const summaryHas = (part: string) =>
    until(summary, (text) => text?.includes(part) ?? false, `summary with ${part}`);
  try {
    await page.locator(".shoelace-form").waitFor();
    await page.waitForFunction(() => customElements.get("sl-input") !== undefined);

    await t.step("values from Lua show in the components' properties", async () => {
      await until(
        () => page.locator("#name").evaluate((e) => (e as unknown as { value: string }).value),
        (value) => value === "Ada",
        "sl-input's value",
      );
      const state = await page.evaluate(() => {
        const prop = (id: string, name: string) =>
          (document.getElementById(id) as unknown as Record<string, unknown>)[name];
        return {
          notify: prop("notify", "checked"),
          agreed: prop("agreed", "checked"),
          size: prop("size", "value"),
          stars: prop("stars", "value"),
          volume: prop("volume", "value"),
          progress: prop("progress", "value"),
        };
      });
      assert.deepEqual(state, {
        notify: true,
        agreed: false,
        size: "m",
        stars: 3,
        volume: 40,
        progress: 70,
      });
      await summaryHas("stars=3:integer");
    });

    await t.step("typing into sl-input reaches Lua on change", async () => {
      const input = page.locator("#name input");
      await input.fill("Grace");
      await input.press("Enter");
      await input.blur();
      await summaryHas("name=Grace");
    });

    await t.step("sl-textarea with ?keypress sends while typing", async () => {
      await page.locator("#notes textarea").pressSequentially("hi", { delay: 30 });
      await summaryHas("notes=hi");
    });

    await t.step("clicking sl-checkbox and sl-switch sends booleans", async () => {
      await page.locator("#agreed").click();
      await summaryHas("agreed=true");
      await page.locator("#notify").click();
      await summaryHas("notify=false");
    });

    await t.step("choosing in sl-select sends the option's value", async () => {
      await page.locator("#size").click();
      // The select gives the focus back to itself once its closing animation ends: wait for
      // that, or it takes the focus from whatever the next step is doing.
      const hidden = page.locator("#size").evaluate((e) =>
        new Promise<void>((resolve) => e.addEventListener("sl-after-hide", () => resolve()))
      );
      await page.locator("sl-option[value=l]").click();
      await summaryHas("size=l");
      await hidden;
      await until(
        () => page.locator("#size").evaluate((e) => (e as unknown as { open: boolean }).open),
        (open) => !open,
        "the listbox closed",
      );
    });

    await t.step("sl-rating and sl-range send numbers", async () => {
      // The rightmost star.
      const box = await page.locator("#stars").boundingBox();
      assert.ok(box);
      await page.mouse.click(box.x + box.width - 4, box.y + box.height / 2);
      await summaryHas("stars=5:integer");
      const track = page.locator("#volume input");
      await track.focus();
      await track.press("ArrowRight");
      await summaryHas("volume=41:integer");
    });

    await t.step("a read-only component gets access r", async () => {
      const access = await page.evaluate(() => {
        const api = (window as unknown as {
          uiApp: {
            getBinding(): {
              getWidget(id: string): { getVariableId(b: string): number | undefined } | undefined;
            };
            getStore(): { get(id: number): { properties: Record<string, string> } | undefined };
          };
        }).uiApp;
        const id = api.getBinding().getWidget("progress")?.getVariableId("ui-value");
        return id === undefined ? undefined : api.getStore().get(id)?.properties.access;
      });
      assert.equal(access, "r");
    });
  } finally {
    await app.close();
  }
});
