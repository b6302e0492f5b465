/// <reference lib="dom" />
/**
 * The development error overlay under `--dev` (with `--hotload`, as `deno task dev` runs): a start-up error shows message, file:line,
 * source and clears (the app starts) when main.lua is fixed; a handler error shows with its
 * traceback and clears after the fix. With UPDATE_SCREENSHOT=1 it writes docs/overlay.png.
 */
import assert from "node:assert/strict";
import { openApp, until, waitForText } from "./helpers.ts";

const BROKEN = `-- A counter whose start-up has a typo.
Counter = session:prototype("Counter", {count = 0})
local start = = Counter:new()
session:createAppVariable(start)
`;

const FAILING = `-- A counter whose button fails.
Counter = session:prototype("Counter", {count = 0})

function Counter:bump()
  local step = nil
  self.count = self.count + step
end

if not session:getApp() then session:createAppVariable(Counter:new()) end
`;

const FIXED = FAILING.replace("local step = nil", "local step = 1");

const VIEW = `<template><div class="counter">
  <span class="count" ui-value="count"></span>
  <button class="bump" ui-action="bump()">+1</button>
</div></template>`;

Deno.test("the development error overlay", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "overlay_site_" });
  await Deno.mkdir(`${dir}/lua`);
  await Deno.mkdir(`${dir}/viewdefs`);
  await Deno.writeTextFile(`${dir}/lua/main.lua`, BROKEN);
  await Deno.writeTextFile(`${dir}/viewdefs/Counter.DEFAULT.html`, VIEW);
  const app = await openApp({ dir, hotload: true, dev: true });
  const { page } = app;
  const overlay = page.locator(".ui-dev-overlay");
  try {
    await t.step("a start-up error shows its file, line and source", async () => {
      await overlay.waitFor();
      assert.equal(await page.locator(".ui-dev-kind").textContent(), "Start-up");
      assert.equal(await page.locator(".ui-dev-where").textContent(), "lua/main.lua:3");
      assert.match(await page.locator(".ui-dev-message").textContent() ?? "", /unexpected/);
      const current = await page.locator(".ui-dev-line.current").textContent();
      assert.match(current ?? "", /^\s+3 │ local start = = Counter:new\(\)/);
    });

    await t.step("fixing main.lua runs it and clears the overlay", async () => {
      await Deno.writeTextFile(`${dir}/lua/main.lua`, FAILING);
      await waitForText(page, ".count", "0");
      assert.equal(await overlay.count(), 0);
    });

    await t.step("a handler error shows file:line and the traceback", async () => {
      await page.locator(".bump").click();
      await overlay.waitFor();
      assert.equal(await page.locator(".ui-dev-where").textContent(), "lua/main.lua:6");
      assert.match(await page.locator(".ui-dev-message").textContent() ?? "", /nil value/);
      assert.match(await page.locator(".ui-dev-traceback").textContent() ?? "", /traceback/);
      if (Deno.env.get("UPDATE_SCREENSHOT")) {
        await page.setViewportSize({ width: 900, height: 520 });
        const shot = await page.screenshot();
        await Deno.writeFile(new URL("../../docs/overlay.png", import.meta.url), shot);
      }
    });

    await t.step("the fix reloads, and the next batch clears the overlay", async () => {
      await Deno.writeTextFile(`${dir}/lua/main.lua`, FIXED);
      await until(() => overlay.count(), (n) => n === 0, "the overlay to clear");
      await page.locator(".bump").click();
      await waitForText(page, ".count", "1");
    });

    const unexpected = app.problems.filter((p) => !/not exist|nil value|unexpected/.test(p));
    assert.deepEqual(unexpected, []);
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
});
