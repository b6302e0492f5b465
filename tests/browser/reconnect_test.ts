/// <reference lib="dom" />
/**
 * Connection loss in a real browser: a server restart shows the reconnecting state, then the
 * page reconnects to a new server on the same port and works again; a second window taking
 * the session over stops the first one for good.
 */
import assert from "node:assert/strict";
import { startTestServer } from "../support/ws_client.ts";
import { openApp, texts, until, waitForCount, waitForText } from "./helpers.ts";

Deno.test("server restart: reconnecting state, then a working page", async (t) => {
  const app = await openApp({ openPaths: false });
  const { page } = app;
  try {
    await waitForCount(page, ".contact-list .row", 8);
    const port = app.server.port;

    await t.step("the page edits state before the restart", async () => {
      await page.locator(".contact-list .row", { hasText: "Alan" }).hover();
      await page.locator(".contact-list .row", { hasText: "Alan" }).locator(".delete").click();
      await waitForCount(page, ".contact-list .row", 7);
    });

    await t.step("a stopped server shows the reconnecting state", async () => {
      await app.server.shutdown();
      await page.locator("body.ui-reconnecting").waitFor({ state: "attached" });
      await page.locator(".ui-status").waitFor();
      assert.match((await page.locator(".ui-status").textContent()) ?? "", /Reconnecting/);
    });

    await t.step("a new server on the same port: the page reconnects and works", async () => {
      app.server = await startTestServer({ port });
      await page.locator(".ui-status").waitFor({ state: "hidden" });
      assert.equal(await page.locator("body.ui-reconnecting").count(), 0);
      // The Lua state is new: the deleted contact is back.
      await waitForCount(page, ".contact-list .row", 8);
      await until(
        () => texts(page, ".contact-list .row-name"),
        (names) => names.includes("Alan Turing"),
        "the fresh contact list",
      );
      // The re-created variables are live: search, select and actions work.
      const search = page.locator("input[type=search]");
      await search.click();
      await search.pressSequentially("grace");
      await waitForText(page, ".match-summary", "1 of 8 match “grace”");
      await page.keyboard.press("Enter");
      await waitForText(page, ".detail-name", "Grace Hopper");
      await page.locator(".new-contact").click();
      await waitForText(page, ".editor h2", "New contact");
      assert.deepEqual(app.problems.filter((p) => !p.includes("WebSocket")), []);
    });
  } finally {
    await app.close();
  }
});

Deno.test("a second window takes the session over; the first stops", async (t) => {
  const app = await openApp({ openPaths: false });
  const { page } = app;
  const second = await app.context.newPage();
  try {
    await waitForCount(page, ".contact-list .row", 8);
    await t.step("the first window shows that it was taken over", async () => {
      await second.goto(app.url());
      await waitForCount(second, ".contact-list .row", 8);
      await page.locator("body.ui-taken-over").waitFor({ state: "attached" });
      assert.match((await page.locator(".ui-status").textContent()) ?? "", /another window/);
      assert.equal(await page.locator("body.ui-reconnecting").count(), 0);
    });

    await t.step("the second window works and keeps the session", async () => {
      await second.locator(".contact-list .row", { hasText: "Ada" }).click();
      await waitForText(second, ".detail-name", "Ada Lovelace");
      // The first window did not come back to take the session again.
      assert.equal(app.server.manager.connectionCount, 1);
      assert.equal(await second.locator("body.ui-taken-over").count(), 0);
    });
  } finally {
    await second.close();
    await app.close();
  }
});
