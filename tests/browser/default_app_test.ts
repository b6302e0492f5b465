/// <reference lib="dom" />
/**
 * The embedded default app (a contact book) in a real browser: rendering, lists with
 * presenters, the form, search as you type, shortcuts, namespaces, view switching, reload.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { openApp, texts, until, waitForCount, waitForText } from "./helpers.ts";

type Tagged = Element & { testTag?: number };

/** Tags every contact row with its position; returns how many there are. */
function tagRows(page: Page): Promise<number> {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll(".contact-list .row")];
    rows.forEach((row, i) => (row as Tagged).testTag = i);
    return rows.length;
  });
}

/** The tag of every contact row, in order (null for an untagged, i.e. new, node). */
function rowTags(page: Page): Promise<(number | null)[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll(".contact-list .row")].map((row) =>
      (row as Tagged).testTag ?? null
    )
  );
}

const SEED_NAMES = [
  "Ada Lovelace",
  "Alan Turing",
  "Barbara Liskov",
  "Donald Knuth",
  "Edsger Dijkstra",
  "Grace Hopper",
  "Katherine Johnson",
  "Margaret Hamilton",
];

Deno.test("default app in the browser", async (t) => {
  // The default configuration: template-only paths, as `deno task start` runs.
  const app = await openApp({ openPaths: false, dev: false });
  const { page } = app;
  const row = (name: string) => page.locator(".contact-list .row", { hasText: name });
  try {
    await t.step("first render shows the book, its summary and every contact", async () => {
      await waitForCount(page, ".contact-list .row", 8);
      assert.equal(await page.locator("h1").textContent(), "Contacts");
      await waitForText(page, ".summary", "8 contacts · 3 favourites");
      assert.deepEqual(await texts(page, ".contact-list .row-name"), SEED_NAMES);
      assert.equal(
        await page.locator("[ui-app] > .book").getAttribute("ui-viewdef"),
        "ContactBook.DEFAULT",
      );
      assert.equal(await page.locator(".panel-empty").isVisible(), true);
      assert.equal(await page.locator(".match-summary").isVisible(), false);
    });

    await t.step(
      "namespaces: list-item fallback for lists, ui-namespace for the panel",
      async () => {
        // The favourites are plain Contact objects in a plain array: Contact.list-item.
        await waitForCount(page, ".chips .chip", 3);
        const chipKeys = await page.locator(".chips > *").evaluateAll((nodes) =>
          nodes.map((node) => node.getAttribute("ui-viewdef"))
        );
        assert.deepEqual(chipKeys, ["Contact.list-item", "Contact.list-item", "Contact.list-item"]);
        await until(
          () => texts(page, ".chips .chip span:last-child"),
          (names) => names.join() === "Ada,Barbara,Grace",
          "the favourite chips",
        );
        assert.deepEqual(await texts(page, ".chips .avatar"), ["AL", "BL", "GH"]);
        // The main list goes through lua.ViewList with the ContactRow presenter.
        assert.equal(await row("Ada").getAttribute("ui-viewdef"), "ContactRow.list-item");
        // The same Contact type in the panel's explicit "detail" namespace.
        await page.locator(".chips .chip", { hasText: "Grace" }).click();
        await waitForText(page, ".detail-name", "Grace Hopper");
        assert.equal(
          await page.locator(".panel .detail").getAttribute("ui-viewdef"),
          "Contact.detail",
        );
        assert.equal(await page.locator(".panel-empty").isVisible(), false);
      },
    );

    await t.step("a row's presenter selects, and styles the selected row", async () => {
      await row("Edsger").click();
      await waitForText(page, ".detail-name", "Edsger Dijkstra");
      await until(
        () => row("Edsger").getAttribute("class"),
        (c) => (c ?? "").split(" ").includes("selected"),
        "the selected row's class",
      );
      assert.equal(await page.locator(".contact-list .row.selected").count(), 1);
      assert.equal(
        await page.locator(".detail-email").getAttribute("href"),
        "mailto:edsger@example.com",
      );
    });

    await t.step(
      "ui-view switches type: the row's edit opens the editor, cancel returns",
      async () => {
        await row("Grace").locator(".edit").click();
        await page.locator(".panel form.editor").waitFor();
        // ContactEditor has no "detail" viewdef: the cascade ends at ContactEditor.DEFAULT.
        assert.equal(
          await page.locator(".panel .editor").getAttribute("ui-viewdef"),
          "ContactEditor.DEFAULT",
        );
        await waitForText(page, ".editor h2", "Edit Grace Hopper");
        assert.equal(await page.locator(".editor input[name=name]").inputValue(), "Grace Hopper");
        assert.equal(await page.locator(".editor input[name=favourite]").isChecked(), true);
        // The row's click did not also select through the enclosing row action.
        await page.locator(".editor .cancel").click();
        await waitForText(page, ".detail-name", "Grace Hopper");
        assert.equal(await page.locator(".panel .editor").count(), 0);
      },
    );

    await t.step("the form validates, and typing updates the messages elsewhere", async () => {
      await page.locator(".new-contact").click();
      await waitForText(page, ".editor h2", "New contact");
      await page.locator(".editor .save").click();
      await waitForText(page, ".name-error", "Please enter a name.");
      assert.match(
        (await page.locator(".editor input[name=name]").getAttribute("class")) ?? "",
        /invalid/,
      );
      await page.locator(".editor input[name=name]").pressSequentially("Zoe Zimmerman");
      await waitForText(page, ".name-error", "");
      await page.locator(".editor input[name=email]").pressSequentially("zoe@");
      await waitForText(page, ".email-error", "That does not look like an email address.");
      await page.locator(".editor input[name=email]").pressSequentially("example.com");
      await waitForText(page, ".email-error", "");
      await page.locator(".editor input[name=phone]").pressSequentially("12ab");
      await waitForText(page, ".phone-error", "Use digits, spaces and + - ( ) only.");
      await page.locator(".editor input[name=phone]").fill("");
      await page.locator(".editor input[name=phone]").pressSequentially("+1 555 0100");
      await waitForText(page, ".phone-error", "");
      assert.equal(await page.locator(".contact-list .row").count(), 8);
    });

    await t.step(
      "Enter saves (ui-event-keypress-enter); the list grows, old rows keep their nodes",
      async () => {
        assert.equal(await tagRows(page), 8);
        await page.locator(".editor input[name=notes]").pressSequentially("Met at the meetup");
        await page.keyboard.press("Enter");
        await waitForCount(page, ".contact-list .row", 9);
        await waitForText(page, ".detail-name", "Zoe Zimmerman");
        assert.equal(await page.locator(".detail-notes").textContent(), "Met at the meetup");
        assert.equal(await page.locator(".detail-phone").textContent(), "+1 555 0100");
        await waitForText(page, ".summary", "9 contacts · 3 favourites");
        await waitForText(page, ".notice span", "Added Zoe Zimmerman");
        assert.deepEqual(await rowTags(page), [0, 1, 2, 3, 4, 5, 6, 7, null]);
        assert.equal((await texts(page, ".contact-list .row-name"))[8], "Zoe Zimmerman");
      },
    );

    await t.step("a row's delete removes it, undo brings it back, other nodes stay", async () => {
      await tagRows(page);
      await row("Zoe").hover();
      await row("Zoe").locator(".delete").click();
      await waitForCount(page, ".contact-list .row", 8);
      assert.deepEqual(await rowTags(page), [0, 1, 2, 3, 4, 5, 6, 7]);
      await waitForText(page, ".notice span", "Deleted Zoe Zimmerman");
      // The selected contact was deleted: the panel's ui-view is empty again.
      await until(() => page.locator(".panel-view").count(), (n) => n === 1, "the empty view");
      assert.equal(await page.locator(".panel-view").innerHTML(), "");
      assert.equal(await page.locator(".panel-empty").isVisible(), true);
      await page.locator(".notice .undo").click();
      await waitForCount(page, ".contact-list .row", 9);
      await waitForText(page, ".detail-name", "Zoe Zimmerman");
      assert.deepEqual(await rowTags(page), [0, 1, 2, 3, 4, 5, 6, 7, null]);
    });

    await t.step("deleting a middle row keeps the nodes of every remaining position", async () => {
      await tagRows(page);
      await row("Alan").hover();
      await row("Alan").locator(".delete").click();
      await waitForCount(page, ".contact-list .row", 8);
      assert.deepEqual(await rowTags(page), [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(await texts(page, ".contact-list .row-name"), [
        "Ada Lovelace",
        "Barbara Liskov",
        "Donald Knuth",
        "Edsger Dijkstra",
        "Grace Hopper",
        "Katherine Johnson",
        "Margaret Hamilton",
        "Zoe Zimmerman",
      ]);
    });

    await t.step("a presenter toggles a favourite; the chips and the summary follow", async () => {
      await row("Donald").hover();
      await row("Donald").locator(".star").click();
      await waitForText(page, ".summary", "8 contacts · 4 favourites");
      await until(
        () => texts(page, ".chips .chip span:last-child"),
        (names) => names.join() === "Ada,Barbara,Donald,Grace",
        "four favourite chips",
      );
    });

    await t.step(
      "search as you type (?keypress), Enter opens the first match, Escape clears",
      async () => {
        const search = page.locator("input[type=search]");
        await search.click();
        await search.pressSequentially("ar");
        await waitForText(page, ".match-summary", "2 of 8 match “ar”");
        assert.deepEqual(await texts(page, ".contact-list .row-name"), [
          "Barbara Liskov",
          "Margaret Hamilton",
        ]);
        await search.pressSequentially("g");
        await waitForText(page, ".match-summary", "1 of 8 match “arg”");
        assert.deepEqual(await texts(page, ".contact-list .row-name"), ["Margaret Hamilton"]);
        await page.keyboard.press("Enter");
        await waitForText(page, ".detail-name", "Margaret Hamilton");
        await page.keyboard.press("Escape");
        await waitForCount(page, ".contact-list .row", 8);
        assert.equal(await search.inputValue(), "");
        assert.equal(await page.locator(".match-summary").isVisible(), false);
      },
    );

    await t.step("screenshot", async () => {
      await row("Grace").click();
      await waitForText(page, ".detail-name", "Grace Hopper");
      await page.locator(".notice [aria-label=Dismiss]").click();
      await until(() => page.locator(".notice").isVisible(), (v) => !v, "the notice to go");
      await page.mouse.move(0, 0);
      await Deno.mkdir(new URL("../output/", import.meta.url), { recursive: true });
      const shot = await page.screenshot({ fullPage: true });
      await Deno.writeFile(new URL("../output/default_app.png", import.meta.url), shot);
      // The committed documentation copy changes only on request, so a test run leaves git clean.
      if (Deno.env.get("UPDATE_SCREENSHOT")) {
        await Deno.writeFile(new URL("../../docs/screenshot.png", import.meta.url), shot);
      }
      assert.ok(shot.length > 10_000);
    });

    await t.step("reload keeps the session's state", async () => {
      await page.reload();
      await waitForText(page, ".detail-name", "Grace Hopper");
      await waitForCount(page, ".contact-list .row", 8);
      assert.equal((await texts(page, ".contact-list .row-name")).includes("Alan Turing"), false);
      assert.equal((await texts(page, ".contact-list .row-name")).includes("Zoe Zimmerman"), true);
      await waitForText(page, ".summary", "8 contacts · 4 favourites");
    });

    await t.step("nothing went wrong in the page", () => {
      assert.deepEqual(app.problems, []);
    });
  } finally {
    await app.close();
  }
});
