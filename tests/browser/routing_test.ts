/// <reference lib="dom" />
/**
 * The page's address and title shared with Lua (the default app): a deep link opens the
 * contact it names, selecting a contact pushes its address, back and forward tell Lua, and
 * Lua sets the title.
 */
import assert from "node:assert/strict";
import { openApp, until, waitForCount, waitForText } from "./helpers.ts";

Deno.test("routing in the default app", async (t) => {
  const app = await openApp();
  const { page } = app;
  const path = () => new URL(page.url()).pathname.slice(1 + app.sid.length) || "/";
  const panelName = () => page.locator(".panel .detail-name").first().textContent();
  try {
    await waitForCount(page, ".contact-list .row", 8);

    await t.step("the title comes from Lua", async () => {
      await until(() => page.title(), (title) => title === "Contacts", "the title");
    });

    await t.step("a deep link reaches Lua on load and opens the contact", async () => {
      await page.goto(`${app.url()}/contacts/3?from=test`);
      await until(panelName, (name) => name?.trim() === "Grace Hopper", "Grace's panel");
      await until(() => page.title(), (title) => title === "Grace Hopper · Contacts", "title");
      assert.equal(path(), "/contacts/3");
      // Lua saw the query too.
      const query = app.server.manager.session(app.sid)?.evaluate("return session.url.query.from");
      assert.deepEqual(query?.ok && query.value, ["test"]);
    });

    await t.step("selecting a contact pushes its address", async () => {
      await page.locator(".contact-list .row", { hasText: "Alan Turing" }).locator(".row-main")
        .click();
      await until(() => Promise.resolve(path()), (p) => p === "/contacts/2", "Alan's address");
      await until(() => page.title(), (title) => title === "Alan Turing · Contacts", "title");
      assert.equal(await page.evaluate(() => history.length >= 2), true);
    });

    await t.step("back returns to the previous contact, forward comes again", async () => {
      await page.goBack();
      await until(panelName, (name) => name?.trim() === "Grace Hopper", "Grace again");
      assert.equal(path(), "/contacts/3");
      await page.goForward();
      await until(panelName, (name) => name?.trim() === "Alan Turing", "Alan again");
    });

    await t.step("a link to no contact says so and shows the list", async () => {
      await page.goto(`${app.url()}/contacts/99`);
      await waitForText(page, ".notice span", "There is no contact number 99");
      assert.equal(await page.locator(".panel-empty").isVisible(), true);
    });

    assert.deepEqual(app.problems, []);
  } finally {
    await app.close();
  }
});
