/// <reference lib="dom" />
/**
 * A site written for ui-engine, unchanged: two plain inputs and a computed sum that shows once
 * a field loses focus.
 */
import assert from "node:assert/strict";
import { fixture, openApp, until, waitForText } from "./helpers.ts";

Deno.test("the ui-engine adder site works unchanged", async (t) => {
  const app = await openApp({ dir: fixture("adder") });
  const { page } = app;
  try {
    await t.step("renders its Adder.DEFAULT viewdef", async () => {
      await page.locator("h1", { hasText: "Simple Adder" }).waitFor();
      assert.equal(await page.locator("input").count(), 2);
      assert.equal(await page.locator(".sum").textContent(), "");
    });

    await t.step("the sum shows after the fields lose focus", async () => {
      await page.locator("input[ui-value=a]").fill("2");
      await page.locator("input[ui-value=b]").fill("3");
      await page.locator("h1").click(); // the second field loses focus
      await waitForText(page, ".sum", "5");
    });

    await t.step("fields arrive in Lua as strings that it converts", async () => {
      await page.locator("input[ui-value=a]").fill("1.5");
      await page.locator("input[ui-value=a]").blur();
      await waitForText(page, ".sum", "4.5");
      await page.locator("input[ui-value=b]").fill("x");
      await page.locator("input[ui-value=b]").blur();
      await waitForText(page, ".sum", "");
    });

    await t.step("its values survive a reload", async () => {
      await page.reload();
      const a = page.locator("input[ui-value=a]");
      await until(() => a.inputValue(), (value) => value === "1.5", "the first field");
      assert.equal(await page.locator("input[ui-value=b]").inputValue(), "x");
      assert.equal(await page.locator(".sum").textContent(), "");
      assert.deepEqual(app.problems, []);
    });
  } finally {
    await app.close();
  }
});
