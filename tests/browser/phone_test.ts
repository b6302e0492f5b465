/// <reference lib="dom" />
/**
 * The default app on a phone (390 × 844): a tap on a contact shows its panel in view, back
 * returns to the list, the form focuses its first field, and invalid fields say so to
 * assistive technology (`aria-invalid`, `aria-describedby`).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { openApp, until, waitForCount } from "./helpers.ts";

/** True when the element's box overlaps the viewport by at least half its visible height. */
function inView(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).first().evaluate((element) => {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return false;
    const shown = Math.min(box.bottom, innerHeight) - Math.max(box.top, 0);
    return box.left >= 0 && box.right <= innerWidth + 1 && shown >= Math.min(box.height, 200) / 2;
  });
}

Deno.test("default app on a phone", async (t) => {
  const app = await openApp({}, { width: 390, height: 844, phone: true });
  const { page } = app;
  try {
    await waitForCount(page, ".contact-list .row", 8);

    await t.step("a tap on a contact far down the list shows its panel in view", async () => {
      const row = page.locator(".contact-list .row", { hasText: "Margaret Hamilton" });
      await row.scrollIntoViewIfNeeded();
      await row.locator(".row-main").tap();
      await until(() => inView(page, ".panel .detail-name"), Boolean, "the panel in view");
      assert.equal((await page.locator(".detail-name").textContent())?.trim(), "Margaret Hamilton");
      assert.equal(await page.locator(".sidebar").isVisible(), false);
    });

    await t.step("the back button returns to the list", async () => {
      await page.locator(".panel .back").tap();
      await until(() => inView(page, ".contact-list"), Boolean, "the list in view");
      assert.equal(new URL(page.url()).pathname, `/${app.sid}`);
    });

    await t.step("the form focuses its first field when it opens", async () => {
      await page.locator(".new-contact").tap();
      await until(
        () => page.evaluate(() => document.activeElement?.getAttribute("name") ?? ""),
        (name) => name === "name",
        "focus on the name field",
      );
      assert.equal(await inView(page, ".editor input[name=name]"), true);
    });

    await t.step("invalid fields carry aria-invalid and point at their message", async () => {
      const name = page.locator(".editor input[name=name]");
      assert.equal(await name.getAttribute("aria-invalid"), null);
      await page.locator(".editor .save").tap();
      await until(() => name.getAttribute("aria-invalid"), (v) => v === "true", "aria-invalid");
      const describedBy = await name.getAttribute("aria-describedby");
      assert.equal(describedBy, "editor-name-error");
      const message = await page.locator(`#${describedBy}`).textContent();
      assert.ok((message ?? "").trim().length > 0, "the message is there");
      await name.fill("Ada Byron");
      await until(() => name.getAttribute("aria-invalid"), (v) => v === null, "valid again");
      assert.equal(await name.getAttribute("aria-describedby"), null);
    });

    assert.deepEqual(app.problems, []);
  } finally {
    await app.close();
  }
});
