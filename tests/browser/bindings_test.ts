/// <reference lib="dom" />
/**
 * Every binding of SPEC 14 in a real browser, on the client_site fixture: values, fields,
 * actions, attributes, classes, styles, HTML, keys with modifiers, views that change type,
 * namespaces, and errors marking their element.
 */
import assert from "node:assert/strict";
import { fixture, openApp, texts, until, waitForCount, waitForText } from "./helpers.ts";

Deno.test("bindings in the browser", async (t) => {
  const app = await openApp({ dir: fixture("client_site") });
  const { page } = app;
  try {
    await page.locator(".lab").waitFor();

    await t.step("ui-value shows values; a text field sends on change", async () => {
      await waitForText(page, "#shout", "HELLO");
      assert.equal(await page.locator("#word").inputValue(), "hello");
      await page.locator("#word").fill("quiet");
      await page.locator("#word").press("Tab");
      await waitForText(page, "#shout", "QUIET");
    });

    await t.step(
      "a checkbox sends a boolean, a select its value, a number field a number",
      async () => {
        await waitForText(page, "#agreed-text", "false");
        await page.locator("#agreed").check();
        await waitForText(page, "#agreed-text", "true");
        assert.equal(await page.locator("#size").inputValue(), "m");
        await page.locator("#size").selectOption("l");
        await waitForText(page, "#size-text", "l");
        await waitForText(page, "#double", "4");
        await page.locator("#amount").fill("21");
        await page.locator("#amount").blur();
        await waitForText(page, "#double", "42");
      },
    );

    await t.step("ui-action calls the method; ui-class toggles on the result", async () => {
      assert.equal(await page.locator("#bump.big").count(), 0);
      await page.locator("#bump").click();
      await waitForText(page, "#count", "1");
      assert.equal(await page.locator("#bump.big").count(), 0);
      await page.locator("#bump").click();
      await waitForText(page, "#count", "2");
      await page.locator("#bump.big").waitFor();
    });

    await t.step("nested click bindings both fire, as in ui-engine", async () => {
      await page.locator("#inner").click();
      await waitForText(page, "#inner-count", "1");
      await waitForText(page, "#outer-count", "1");
      await page.locator("#outer-count").click();
      await waitForText(page, "#outer-count", "2");
      // Frames are handled in order: once this answer is in, every earlier click was handled.
      await page.locator("#inner").click();
      await waitForText(page, "#outer-count", "3");
      assert.equal(await page.locator("#inner-count").textContent(), "2");
    });

    await t.step("m(_) actions send the element's value", async () => {
      await page.locator("#take").click();
      await waitForText(page, "#last-call", "from the button");
    });

    await t.step("ui-html, ui-style and ui-attr", async () => {
      await until(
        () => page.locator("#html").innerHTML(),
        (h) => h === "<em>rich</em> text",
        "html",
      );
      const color = await page.locator("#styled").evaluate((e) => getComputedStyle(e).color);
      assert.equal(color, "rgb(255, 0, 0)");
      await until(
        () => page.locator("#link").getAttribute("href"),
        (h) => h === "https://example.com/",
        "href",
      );
      await page.locator("#no-link").click();
      await until(() => page.locator("#link").getAttribute("href"), (h) => h === null, "no href");
    });

    await t.step("key bindings match their modifiers exactly", async () => {
      const field = page.locator("#keys-field");
      await field.click();
      await page.keyboard.press("Control+k");
      await waitForText(page, "#keys", "ctrl-k;");
      await page.keyboard.press("k"); // no binding for a plain k: it types
      await page.keyboard.press("Escape"); // a (_) key binding sends the key's name
      await waitForText(page, "#keys", "ctrl-k;escape;");
      assert.equal(await field.inputValue(), "k");
    });

    await t.step("ui-view renders by type, switches type and clears on an empty type", async () => {
      assert.equal(await page.locator("section#switch").textContent(), "placeholder");
      await page.locator("#show-note").click();
      await waitForText(page, ".note-default", "a note");
      // The view element's id and class move to the rendered element.
      assert.equal(await page.locator(".note-default").getAttribute("id"), "switch");
      assert.match((await page.locator(".note-default").getAttribute("class")) ?? "", /\bswitch\b/);
      assert.equal(await page.locator("section#switch").count(), 0);
      await page.locator("#show-card").click();
      await waitForText(page, ".card-default b", "a card");
      assert.equal(await page.locator(".note-default").count(), 0);
      await page.locator("#show-nothing").click();
      await page.locator("section#switch").waitFor({ state: "attached" });
      assert.equal(await page.locator("section#switch").innerHTML(), "");
      assert.equal(await page.locator(".card-default").count(), 0);
    });

    await t.step("namespaces: ui-namespace wins over the list-item fallback", async () => {
      await waitForCount(page, "#compact .note-compact", 2);
      await until(() => texts(page, "#compact li"), (l) => l.join() === "FIRST,SECOND", "compact");
      await waitForCount(page, "#plain-notes .note-item", 2);
      await until(
        () => texts(page, "#plain-notes li"),
        (l) => l.join() === "first,second",
        "items",
      );
      // The exemplar's class is kept on each rendered item.
      assert.equal(await page.locator("#plain-notes li.exemplar.note-item").count(), 2);
    });

    await t.step("a Lua error marks the element that caused it, until it succeeds", async () => {
      await page.locator("#boom").click();
      await page.locator("#boom.ui-error").waitFor();
      assert.equal(await page.locator("#boom").getAttribute("ui-error-code"), "lua-error");
      assert.match(
        (await page.locator("#boom").getAttribute("title")) ?? "",
        /the boom button always fails/,
      );
      // A failing getter marks its element too; a working one does not.
      await page.locator("#broken.ui-error").waitFor({ state: "attached" });
      assert.equal(await page.locator("#broken").getAttribute("ui-error-code"), "lua-error");
      assert.match((await page.locator("#broken").getAttribute("title")) ?? "", /missing/);
      assert.equal(await page.locator("#fixed.ui-error").count(), 0);
      assert.equal(await page.locator(".ui-error").count(), 2);
      // A getter that fails only on odd counts: marked, then cleared by its next value.
      await waitForText(page, "#fragile", "even");
      await page.locator("#bump").click();
      await page.locator("#fragile.ui-error").waitFor({ state: "attached" });
      assert.match((await page.locator("#fragile").getAttribute("title")) ?? "", /odd count/);
      await page.locator("#bump").click();
      await waitForText(page, "#fragile", "even");
      assert.equal(await page.locator("#fragile.ui-error").count(), 0);
      assert.equal(await page.locator("#fragile").getAttribute("title"), null);
    });
  } finally {
    await app.close();
  }
});
