/// <reference lib="dom" />
/**
 * The embedded default app (a contact book) through the app tester: the scenarios of
 * tests/browser/default_app_test.ts, on the real client and session without a browser.
 */
import assert from "node:assert/strict";
import { type AppTester, testApp } from "../../src/testing/app_tester.ts";

type Tagged = Element & { testTag?: number };

/** Tags every contact row with its position; returns how many there are. */
function tagRows(app: AppTester): number {
  const rows = app.all(".contact-list .row");
  rows.forEach((row, i) => (row as Tagged).testTag = i);
  return rows.length;
}

/** The tag of every contact row, in order (null for an untagged, i.e. new, node). */
function rowTags(app: AppTester): (number | null)[] {
  return app.all(".contact-list .row").map((row) => (row as Tagged).testTag ?? null);
}

/** A selector for the contact row whose text has `name`, and for something inside it. */
function row(app: AppTester, name: string, inner = ""): string {
  const rows = app.all(".contact-list .row");
  const index = rows.findIndex((element) => (element.textContent ?? "").includes(name));
  assert.notEqual(index, -1, `a row for ${name}`);
  return `.contact-list .row:nth-child(${index + 1}) ${inner}`.trim();
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

Deno.test("default app through the app tester", async (t) => {
  await using app = await testApp();

  await t.step("first render shows the book, its summary and every contact", () => {
    assert.equal(app.count(".contact-list .row"), 8);
    assert.equal(app.text("h1"), "Contacts");
    assert.equal(app.text(".summary"), "8 contacts · 3 favourites");
    assert.deepEqual(app.texts(".contact-list .row-name"), SEED_NAMES);
    assert.equal(app.attr("[ui-app] > .book", "ui-viewdef"), "ContactBook.DEFAULT");
    assert.equal(app.visible(".panel-empty"), true);
    assert.equal(app.visible(".match-summary"), false);
  });

  await t.step("namespaces: list-item fallback for lists, ui-namespace for the panel", async () => {
    // The favourites are plain Contact objects in a plain array: Contact.list-item.
    assert.equal(app.count(".chips .chip"), 3);
    const chipKeys = app.all(".chips > *").map((node) => node.getAttribute("ui-viewdef"));
    assert.deepEqual(chipKeys, ["Contact.list-item", "Contact.list-item", "Contact.list-item"]);
    assert.deepEqual(app.texts(".chips .chip span:last-child"), ["Ada", "Barbara", "Grace"]);
    assert.deepEqual(app.texts(".chips .avatar"), ["AL", "BL", "GH"]);
    // The main list goes through lua.ViewList with the ContactRow presenter.
    assert.equal(app.attr(row(app, "Ada"), "ui-viewdef"), "ContactRow.list-item");
    // The same Contact type in the panel's explicit "detail" namespace.
    await app.click(".chips > :nth-child(3)");
    assert.equal(app.text(".detail-name"), "Grace Hopper");
    assert.equal(app.attr(".panel .detail", "ui-viewdef"), "Contact.detail");
    assert.equal(app.visible(".panel-empty"), false);
  });

  await t.step("a row's presenter selects, and styles the selected row", async () => {
    await app.click(row(app, "Edsger", ".row-main"));
    assert.equal(app.text(".detail-name"), "Edsger Dijkstra");
    assert.ok(app.element(row(app, "Edsger")).classList.contains("selected"));
    assert.equal(app.count(".contact-list .row.selected"), 1);
    assert.equal(app.attr(".detail-email", "href"), "mailto:edsger@example.com");
  });

  await t.step(
    "ui-view switches type: the row's edit opens the editor, cancel returns",
    async () => {
      await app.click(row(app, "Grace", ".edit"));
      assert.equal(app.count(".panel form.editor"), 1);
      // ContactEditor has no "detail" viewdef: the cascade ends at ContactEditor.DEFAULT.
      assert.equal(app.attr(".panel .editor", "ui-viewdef"), "ContactEditor.DEFAULT");
      assert.equal(app.text(".editor h2"), "Edit Grace Hopper");
      assert.equal(app.value(".editor input[name=name]"), "Grace Hopper");
      assert.equal(app.checked(".editor input[name=favourite]"), true);
      await app.click(".editor .cancel");
      assert.equal(app.text(".detail-name"), "Grace Hopper");
      assert.equal(app.count(".panel .editor"), 0);
    },
  );

  await t.step("the form validates, and typing updates the messages elsewhere", async () => {
    await app.click(".new-contact");
    assert.equal(app.text(".editor h2"), "New contact");
    await app.click(".editor .save");
    assert.equal(app.text(".name-error"), "Please enter a name.");
    assert.match(app.attr(".editor input[name=name]", "class") ?? "", /invalid/);
    await app.type(".editor input[name=name]", "Zoe Zimmerman");
    assert.equal(app.text(".name-error"), "");
    await app.type(".editor input[name=email]", "zoe@");
    assert.equal(app.text(".email-error"), "That does not look like an email address.");
    await app.type(".editor input[name=email]", "example.com");
    assert.equal(app.text(".email-error"), "");
    await app.type(".editor input[name=phone]", "12ab");
    assert.equal(app.text(".phone-error"), "Use digits, spaces and + - ( ) only.");
    await app.fill(".editor input[name=phone]", "");
    await app.type(".editor input[name=phone]", "+1 555 0100");
    assert.equal(app.text(".phone-error"), "");
    assert.equal(app.count(".contact-list .row"), 8);
  });

  await t.step(
    "Enter saves (ui-event-keypress-enter); the list grows, old rows keep their nodes",
    async () => {
      assert.equal(tagRows(app), 8);
      await app.type(".editor input[name=notes]", "Met at the meetup");
      await app.press(".editor input[name=notes]", "Enter");
      assert.equal(app.count(".contact-list .row"), 9);
      assert.equal(app.text(".detail-name"), "Zoe Zimmerman");
      assert.equal(app.text(".detail-notes"), "Met at the meetup");
      assert.equal(app.text(".detail-phone"), "+1 555 0100");
      assert.equal(app.text(".summary"), "9 contacts · 3 favourites");
      assert.equal(app.text(".notice span"), "Added Zoe Zimmerman");
      assert.deepEqual(rowTags(app), [0, 1, 2, 3, 4, 5, 6, 7, null]);
      assert.equal(app.texts(".contact-list .row-name")[8], "Zoe Zimmerman");
      // Enter ran save() once: the key binding prevented the form's implicit submission.
      assert.equal(await app.lua("return #session:getApp().contacts"), 9);
    },
  );

  await t.step("a row's delete removes it, undo brings it back, other nodes stay", async () => {
    tagRows(app);
    await app.click(row(app, "Zoe", ".delete"));
    assert.equal(app.count(".contact-list .row"), 8);
    assert.deepEqual(rowTags(app), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(app.text(".notice span"), "Deleted Zoe Zimmerman");
    // The selected contact was deleted: the panel's ui-view is empty again.
    assert.equal(app.count(".panel-view"), 1);
    assert.equal(app.element(".panel-view").innerHTML, "");
    assert.equal(app.visible(".panel-empty"), true);
    await app.click(".notice .undo");
    assert.equal(app.count(".contact-list .row"), 9);
    assert.equal(app.text(".detail-name"), "Zoe Zimmerman");
    assert.deepEqual(rowTags(app), [0, 1, 2, 3, 4, 5, 6, 7, null]);
  });

  await t.step("deleting a middle row keeps the nodes of every remaining position", async () => {
    tagRows(app);
    await app.click(row(app, "Alan", ".delete"));
    assert.equal(app.count(".contact-list .row"), 8);
    assert.deepEqual(rowTags(app), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(app.texts(".contact-list .row-name"), [
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
    await app.click(row(app, "Donald", ".star"));
    assert.equal(app.text(".summary"), "8 contacts · 4 favourites");
    assert.deepEqual(app.texts(".chips .chip span:last-child"), [
      "Ada",
      "Barbara",
      "Donald",
      "Grace",
    ]);
  });

  await t.step(
    "search as you type (?keypress), Enter opens the first match, Escape clears",
    async () => {
      const search = "input[type=search]";
      await app.click(search);
      await app.type(search, "ar");
      assert.equal(app.text(".match-summary"), "2 of 8 match “ar”");
      assert.deepEqual(app.texts(".contact-list .row-name"), [
        "Barbara Liskov",
        "Margaret Hamilton",
      ]);
      await app.type(search, "g");
      assert.equal(app.text(".match-summary"), "1 of 8 match “arg”");
      assert.deepEqual(app.texts(".contact-list .row-name"), ["Margaret Hamilton"]);
      await app.press(search, "Enter");
      assert.equal(app.text(".detail-name"), "Margaret Hamilton");
      await app.press(search, "Escape");
      assert.equal(app.count(".contact-list .row"), 8);
      assert.equal(app.value(search), "");
      assert.equal(app.visible(".match-summary"), false);
    },
  );

  await t.step("the notice's dismiss button hides it", async () => {
    await app.click(row(app, "Grace", ".row-main"));
    assert.equal(app.text(".detail-name"), "Grace Hopper");
    assert.equal(app.visible(".notice"), true);
    await app.click(".notice [aria-label=Dismiss]");
    assert.equal(app.visible(".notice"), false);
  });

  await t.step("reload keeps the session's state", async () => {
    const before = app.document;
    await app.reload();
    assert.notEqual(app.document, before);
    assert.equal(app.text(".detail-name"), "Grace Hopper");
    assert.equal(app.count(".contact-list .row"), 8);
    assert.equal(app.texts(".contact-list .row-name").includes("Alan Turing"), false);
    assert.equal(app.texts(".contact-list .row-name").includes("Zoe Zimmerman"), true);
    assert.equal(app.text(".summary"), "8 contacts · 4 favourites");
  });

  await t.step("nothing went wrong in the page", () => {
    assert.deepEqual(app.problems, []);
  });
});
