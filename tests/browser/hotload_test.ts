/// <reference lib="dom" />
/**
 * Hot reload in the browser: a changed viewdef re-renders the views that use it, in place,
 * while the rest of the page and its state stay.
 */
import assert from "node:assert/strict";
import { copy } from "./copy_dir.ts";
import { fixture, openApp, waitForCount, waitForText } from "./helpers.ts";

Deno.test("a changed viewdef re-renders its views in the page", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "client_site_" });
  await copy(fixture("client_site"), dir);
  const app = await openApp({ dir, hotload: true });
  const { page } = app;
  try {
    await page.locator(".lab").waitFor();
    await page.locator("#bump").click();
    await waitForText(page, "#count", "1");
    await page.locator("#show-note").click();
    await waitForText(page, ".note-default", "a note");

    await t.step("the list items and the switched view follow the new template", async () => {
      await Deno.writeTextFile(
        `${dir}/viewdefs/Note.DEFAULT.html`,
        `<template><p class="note-hot">hot: <span ui-value="upper()"></span></p></template>`,
      );
      await Deno.writeTextFile(
        `${dir}/viewdefs/Note.list-item.html`,
        `<template><li class="item-hot" ui-value="upper()"></li></template>`,
      );
      await waitForText(page, ".note-hot span", "A NOTE");
      await waitForCount(page, "#plain-notes .item-hot", 2);
      await waitForText(page, "#plain-notes .item-hot", "FIRST");
      assert.equal(await page.locator(".note-default").count(), 0);
      // The compact namespace did not change: those items stay as they were.
      assert.equal(await page.locator("#compact .note-compact").count(), 2);
      // The rest of the page kept its state.
      assert.equal(await page.locator("#count").textContent(), "1");
      assert.deepEqual(app.problems, []);
    });
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
});
