/// <reference lib="dom" />
/**
 * The development error overlay (`--dev --hotload`) for the two errors that happen outside a
 * handler: a getter that fails while its value is read (file:line and source shown, cleared
 * once the fixed file is reloaded), and an app type without a viewdef (the overlay instead of a
 * blank page, cleared once the viewdef file is added); and a likely typo in a bound path, shown
 * as a notice that the next batch clears.
 */
import assert from "node:assert/strict";
import { openApp, until, waitForText } from "./helpers.ts";

const BROKEN_GETTER = `-- A label whose getter fails.
Label = session:prototype("Label", {text = "hello"})

function Label:broken()
  local suffix = nil
  return self.text .. suffix
end

if not session:getApp() then session:createAppVariable(Label:new()) end
`;

const FIXED_GETTER = BROKEN_GETTER.replace("local suffix = nil", 'local suffix = "!"');

const LABEL_VIEW = `<template><div class="label">
  <span class="text" ui-value="broken()"></span>
</div></template>`;

const NO_VIEW = `-- An app whose type has no viewdef yet.
Greeting = session:prototype("Greeting", {words = "hi there"})
if not session:getApp() then session:createAppVariable(Greeting:new()) end
`;

const GREETING_VIEW = `<template><p class="greeting" ui-value="words"></p></template>`;

/** A temporary site with `main.lua` and the given viewdefs. */
async function makeSite(main: string, views: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "overlay_site_" });
  await Deno.mkdir(`${dir}/lua`);
  await Deno.mkdir(`${dir}/viewdefs`);
  await Deno.writeTextFile(`${dir}/lua/main.lua`, main);
  for (const [name, text] of Object.entries(views)) {
    await Deno.writeTextFile(`${dir}/viewdefs/${name}`, text);
  }
  return dir;
}

Deno.test("the overlay shows a failing getter and clears when it is fixed", async (t) => {
  const dir = await makeSite(BROKEN_GETTER, { "Label.DEFAULT.html": LABEL_VIEW });
  const app = await openApp({ dir, hotload: true, dev: true });
  const { page } = app;
  const overlay = page.locator(".ui-dev-overlay");
  try {
    await t.step("the getter's error shows file:line and the source around it", async () => {
      await overlay.waitFor();
      assert.equal(await page.locator(".ui-dev-kind").textContent(), "Lua error");
      assert.equal(await page.locator(".ui-dev-where").textContent(), "lua/main.lua:6");
      assert.match(await page.locator(".ui-dev-message").textContent() ?? "", /concatenate/);
      const current = await page.locator(".ui-dev-line.current").textContent();
      assert.match(current ?? "", /^\s+6 │ {3}return self\.text \.\. suffix/);
      // Lines around it: three before, three after (the file has nine).
      const lines = await page.locator(".ui-dev-line").allTextContents();
      assert.deepEqual(lines.map((line) => Number(line.split("│")[0])), [3, 4, 5, 6, 7, 8, 9]);
    });

    await t.step("saving the fix clears the overlay and shows the value", async () => {
      await Deno.writeTextFile(`${dir}/lua/main.lua`, FIXED_GETTER);
      await waitForText(page, ".text", "hello!");
      await until(() => overlay.count(), (n) => n === 0, "the overlay to clear");
    });

    const unexpected = app.problems.filter((p) => !/concatenate/.test(p));
    assert.deepEqual(unexpected, []);
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the overlay shows a missing app viewdef and clears when it is added", async (t) => {
  const dir = await makeSite(NO_VIEW, {});
  const app = await openApp({ dir, hotload: true, dev: true });
  const { page } = app;
  const overlay = page.locator(".ui-dev-overlay");
  try {
    await t.step("the page shows the overlay, naming the type and the file to add", async () => {
      await overlay.waitFor();
      assert.equal(await page.locator(".ui-dev-kind").textContent(), "Missing viewdef");
      assert.match(
        await page.locator(".ui-dev-message").textContent() ?? "",
        /Greeting.*viewdefs\/Greeting\.DEFAULT\.html/,
      );
    });

    await t.step("adding the viewdef renders the app and clears the overlay", async () => {
      await Deno.writeTextFile(`${dir}/viewdefs/Greeting.DEFAULT.html`, GREETING_VIEW);
      await waitForText(page, ".greeting", "hi there");
      await until(() => overlay.count(), (n) => n === 0, "the overlay to clear");
    });

    const unexpected = app.problems.filter((p) => !/viewdef/i.test(p));
    assert.deepEqual(unexpected, []);
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const TYPO = `-- A counter whose view binds a field it does not have.
Counter = session:prototype("Counter", {count = 0})
function Counter:bump() self.count = self.count + 1 end
if not session:getApp() then session:createAppVariable(Counter:new()) end
`;

const TYPO_VIEW = `<template><div>
  <span class="count" ui-value="count"></span>
  <span class="typo" ui-value="cuont"></span>
  <button class="bump" ui-action="bump()">+1</button>
</div></template>`;

Deno.test("the overlay shows a likely typo once, as a notice the next batch clears", async () => {
  const dir = await makeSite(TYPO, { "Counter.DEFAULT.html": TYPO_VIEW });
  const app = await openApp({ dir, dev: true });
  const { page } = app;
  const overlay = page.locator(".ui-dev-overlay");
  try {
    await overlay.waitFor();
    assert.equal(await page.locator(".ui-dev-kind").textContent(), "Possible typo");
    assert.match(
      await page.locator(".ui-dev-message").textContent() ?? "",
      /Path 'cuont': field 'cuont' is nil on type Counter/,
    );
    // The app still works, and its next batch clears the notice for good.
    await page.locator(".bump").click();
    await waitForText(page, ".count", "1");
    await until(() => overlay.count(), (n) => n === 0, "the overlay to clear");
    await page.locator(".bump").click();
    await waitForText(page, ".count", "2");
    assert.equal(await overlay.count(), 0);
    assert.equal(await page.locator(".typo").textContent(), "");
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
});
