/// <reference lib="dom" />
/**
 * Pending states and rate limits in a real browser (client_extras fixture): a slow action is
 * marked busy and runs once for three rapid clicks; `?debounce` and `?throttle` limit how many
 * updates the server receives.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { fixture, openApp, until, waitForText } from "./helpers.ts";

/**
 * Clicks an element three times, 40 ms apart, from inside the page (the server runs in this
 * process, so a slow Lua action also delays the test's own commands), and reports what the
 * element looked like after each click.
 */
function tripleClick(page: Page, selector: string) {
  return page.locator(selector).evaluate(async (element) => {
    const seen: { busy: string | null; disabled: boolean; busyClass: boolean }[] = [];
    for (let i = 0; i < 3; i++) {
      (element as HTMLButtonElement).click();
      seen.push({
        busy: element.getAttribute("aria-busy"),
        disabled: (element as HTMLButtonElement).disabled,
        busyClass: element.classList.contains("ui-busy"),
      });
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    return seen;
  });
}

Deno.test("pending states, debounce and throttle", async (t) => {
  const app = await openApp({ dir: fixture("client_extras"), instructionBudget: 200_000_000 });
  const { page } = app;
  try {
    await page.locator(".extras").waitFor();
    await waitForText(page, "#slow-runs", "0");

    await t.step("three rapid clicks on a 250 ms action run it once, marked busy", async () => {
      const seen = await tripleClick(page, "#slow");
      assert.deepEqual(seen.map((s) => s.busy), ["true", "true", "true"]);
      assert.ok(seen.every((s) => s.busyClass && !s.disabled));
      await waitForText(page, "#slow-runs", "1");
      await until(
        () => page.locator("#slow").getAttribute("aria-busy"),
        (busy) => busy === null,
        "the busy mark gone",
      );
      assert.equal(await page.locator("#slow.ui-busy").count(), 0);
      // Every answer is in once a later action's answer is: still one run.
      await page.locator("#slow").click();
      await waitForText(page, "#slow-runs", "2");
    });

    await t.step("?disable and ui-disable-while-busy disable the element meanwhile", async () => {
      for (const selector of ["#slow-disabled", "#slow-attr"]) {
        const before = Number(await page.locator("#slow-runs").textContent());
        const seen = await tripleClick(page, selector);
        assert.ok(seen.every((s) => s.disabled && s.busy === "true"), selector);
        await waitForText(page, "#slow-runs", String(before + 1));
        await until(() => page.locator(selector).isEnabled(), (on) => on, `${selector} enabled`);
      }
    });

    await t.step("?keypress sends every keystroke", async () => {
      await page.locator("#keypress").pressSequentially("hello", { delay: 30 });
      await waitForText(page, "#keypress-count", "5");
    });

    await t.step("?debounce=200 sends once when typing pauses", async () => {
      await page.locator("#debounced").pressSequentially("hello", { delay: 40 });
      await waitForText(page, "#debounce-last", "hello");
      await page.waitForTimeout(300);
      assert.equal(await page.locator("#debounce-count").textContent(), "1");
    });

    await t.step("?throttle=300 sends at most once per 300 ms, the last value too", async () => {
      const started = Date.now();
      await page.locator("#throttled").pressSequentially("abcdefghij", { delay: 60 });
      const typedMs = Date.now() - started;
      await waitForText(page, "#throttle-last", "abcdefghij");
      await page.waitForTimeout(400);
      const count = Number(await page.locator("#throttle-count").textContent());
      // A leading send, one per period while typing, and the trailing one.
      assert.ok(count >= 2 && count <= Math.ceil(typedMs / 300) + 1, `${count} in ${typedMs} ms`);
    });
  } finally {
    await app.close();
  }
});
