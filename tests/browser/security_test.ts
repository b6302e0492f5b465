/// <reference lib="dom" />
/**
 * Bound sessions in a real browser: another browser (context) opening the victim's URL gets a
 * session of its own, a planted URL does not put the victim in the attacker's session, and a
 * page of another origin cannot open the victim's socket even though the browser sends the
 * victim's cookie along (same site, other port).
 */
import assert from "node:assert/strict";
import { openApp, until, waitForCount } from "./helpers.ts";

Deno.test("a session is reached only from the browser that owns it", async (t) => {
  const app = await openApp();
  const { page, browser } = app;
  const other = await browser.newContext();
  const evil = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () =>
      new Response("<!doctype html><title>evil</title>", {
        headers: { "content-type": "text/html" },
      }),
  );
  try {
    await waitForCount(page, ".contact-list .row", 8);
    await page.locator(".contact-list .row", { hasText: "Alan" }).hover();
    await page.locator(".contact-list .row", { hasText: "Alan" }).locator(".delete").click();
    await waitForCount(page, ".contact-list .row", 7);

    await t.step("another browser opening the victim's URL gets its own session", async () => {
      const stranger = await other.newPage();
      await stranger.goto(app.url());
      const landed = new URL(stranger.url()).pathname.slice(1);
      assert.match(landed, /^[0-9a-f]{32}$/);
      assert.notEqual(landed, app.sid);
      await waitForCount(stranger, ".contact-list .row", 8);
      // The victim is neither taken over nor disturbed.
      assert.equal(await page.locator("body.ui-taken-over").count(), 0);
      assert.equal(await page.locator(".contact-list .row").count(), 7);
      assert.equal(app.server.manager.connectionCount, 2);
      await stranger.close();
    });

    await t.step(
      "a planted URL leads the victim to a fresh session, not the attacker's",
      async () => {
        const attacker = await other.newPage();
        await attacker.goto(`http://127.0.0.1:${app.server.port}/`);
        const planted = new URL(attacker.url()).pathname.slice(1);
        await waitForCount(attacker, ".contact-list .row", 8);
        const victim = await app.context.newPage();
        await victim.goto(`http://127.0.0.1:${app.server.port}/${planted}`);
        const landed = new URL(victim.url()).pathname.slice(1);
        assert.notEqual(landed, planted);
        assert.notEqual(landed, app.sid);
        await waitForCount(victim, ".contact-list .row", 8);
        assert.equal(await attacker.locator("body.ui-taken-over").count(), 0);
        await victim.close();
        await attacker.close();
      },
    );

    await t.step("a foreign origin cannot open the socket, cookie or not", async () => {
      // Only the owner's page is connected once the closed pages' sockets are gone.
      const count = () => Promise.resolve(app.server.manager.connectionCount);
      await until(count, (n) => n === 1, "one connection");
      const foreign = await app.context.newPage();
      await foreign.goto(`http://127.0.0.1:${evil.addr.port}/`);
      const outcome = await foreign.evaluate((url) =>
        new Promise<string>((resolve) => {
          const socket = new WebSocket(url);
          socket.onopen = () => resolve("open");
          socket.onerror = () => resolve("refused");
        }), `ws://127.0.0.1:${app.server.port}/ws/${app.sid}`);
      assert.equal(outcome, "refused");
      assert.equal(app.server.manager.connectionCount, 1);
      assert.equal(await page.locator("body.ui-taken-over").count(), 0);
      await foreign.close();
    });

    await t.step("the owner's page still works, with no CSP violation", async () => {
      await page.locator(".contact-list .row", { hasText: "Ada" }).click();
      await until(
        () => page.locator(".detail-name").first().textContent(),
        (text) => text === "Ada Lovelace",
        "the detail of Ada",
      );
      assert.deepEqual(app.problems, []);
    });
  } finally {
    await other.close();
    await app.close();
    await evil.shutdown();
  }
});
