/// <reference lib="dom" />
/**
 * Safe attribute bindings in a real browser: script URLs and event-handler attributes from Lua
 * are refused and marked, safe values still work (client_extras fixture).
 */
import assert from "node:assert/strict";
import { fixture, openApp, until } from "./helpers.ts";

Deno.test("ui-attr refuses script", async (t) => {
  const app = await openApp({ dir: fixture("client_extras") });
  const { page } = app;
  const pwned = () => page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned);
  const marked = (selector: string) =>
    page.locator(selector).evaluate((e) => e.classList.contains("ui-error"));
  try {
    await page.locator(".extras").waitFor();
    await until(() => marked("#frame-js"), (m) => m, "the iframe marked");

    await t.step("an iframe src with a javascript: URL is not set", async () => {
      assert.equal(await page.locator("#frame-js").getAttribute("src"), null);
      assert.equal(await page.locator("#frame-js").getAttribute("ui-error-code"), "unsafe-binding");
      assert.equal(await page.locator("#frame-data").getAttribute("src"), null);
      assert.ok(await marked("#frame-data"));
      assert.equal(await pwned(), undefined);
    });

    await t.step("a hidden javascript: href is not set, and a click runs nothing", async () => {
      assert.equal(await page.locator("#link-js").getAttribute("href"), null);
      assert.ok(await marked("#link-js"));
      assert.equal(await page.locator("#link-vb").getAttribute("href"), null);
      await page.locator("#link-js").click();
      await page.waitForTimeout(100);
      assert.equal(await pwned(), undefined);
      assert.match(page.url(), new RegExp(`/${app.sid}$`));
    });

    await t.step("event-handler attributes are never bound, in any case", async () => {
      assert.equal(await page.locator("#hover").getAttribute("onmouseover"), null);
      assert.equal(await page.locator("#hover").getAttribute("onclick"), null);
      assert.ok(await marked("#hover"));
      await page.locator("#hover").hover();
      await page.locator("#hover").click();
      await page.waitForTimeout(100);
      assert.equal(await pwned(), undefined);
    });

    await t.step("refusals are logged", () => {
      const refusals = app.problems.filter((p) => p.includes("Refused ui-attr-"));
      assert.ok(refusals.some((p) => p.includes("ui-attr-onmouseover")), refusals.join("\n"));
      assert.ok(refusals.some((p) => p.includes("ui-attr-src")), refusals.join("\n"));
    });

    await t.step("safe values still work; a value made safe clears the mark", async () => {
      assert.equal(
        await page.locator("#link-safe").getAttribute("href"),
        "https://example.com/safe",
      );
      // Only URL attributes are checked: a title may say anything.
      assert.equal(
        await page.locator("#link-safe").getAttribute("title"),
        "javascript:window.__pwned = 'src'",
      );
      assert.ok(await marked("#link-switch"));
      await page.locator("#make-safe").click();
      await until(
        () => page.locator("#link-switch").getAttribute("href"),
        (href) => href === "#made-safe",
        "the safe href",
      );
      assert.equal(await marked("#link-switch"), false);
      await page.locator("#link-switch").click();
      await until(() => Promise.resolve(page.url()), (u) => u.endsWith("#made-safe"), "navigation");
      assert.equal(await pwned(), undefined);
    });
  } finally {
    await app.close();
  }
});
