/// <reference lib="dom" />
/**
 * What a user does in ui-engine's contact manager and tasks demos, typed and clicked in Chromium,
 * with the visible results asserted. The same steps run on ui-engine's frontend and on the
 * built-in client.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { texts, until, waitForCount } from "../browser/helpers.ts";
import type { Frontend } from "./demo_site.ts";

/** The input inside a Shoelace `sl-input` with this label. */
function field(page: Page, label: string): Locator {
  return page.locator(`sl-input[label='${label}'] input`);
}

/** Types into a Shoelace field and leaves it, so its `sl-change` fires. */
async function fill(page: Page, label: string, text: string): Promise<void> {
  const input = field(page, label);
  await input.fill(text);
  await input.press("Tab");
}

/** Waits until `locator` is visible (or hidden, with `visible` false). */
function shown(locator: Locator, what: string, visible = true): Promise<boolean> {
  return until(() => locator.isVisible(), (is) => is === visible, what);
}

/** Waits until the texts of `selector` are `expected`. */
function listed(page: Page, selector: string, expected: string[]): Promise<string[]> {
  return until(
    () => texts(page, selector),
    (found) => JSON.stringify(found) === JSON.stringify(expected),
    `${selector} to be ${JSON.stringify(expected)}`,
  );
}

/** The contact manager: list, add, validation, edit (with an emergency contact), select, search, delete. */
export async function contactFlows(t: Deno.TestContext, page: Page): Promise<void> {
  const card = (name: string) => page.locator(".contact-card", { hasText: name });
  const button = (name: string, index: number) => card(name).locator("sl-button").nth(index);
  const count = page.locator("span[ui-value='contactCount()']");
  const form = page.locator(".edit-form");
  await waitForCount(page, ".contact-card", 3);

  await t.step("three sample contacts and their count", async () => {
    await listed(page, ".contact-name", ["Alice Smith", "Bob Johnson", "Carol Williams"]);
    await until(() => count.textContent(), (text) => text === "3", "the count 3");
    await shown(form, "the form hidden", false);
  });

  await t.step("add a contact", async () => {
    await page.locator("sl-button", { hasText: "Add Contact" }).click();
    await shown(form, "the form");
    assert.equal(await form.locator("h2").textContent(), "Add Contact");
    await fill(page, "First Name", "Dana");
    await fill(page, "Last Name", "Scully");
    await fill(page, "Email", "dana@example.com");
    await fill(page, "Phone", "555-0199");
    await page.locator("sl-button", { hasText: "Save Contact" }).click();
    await shown(form, "the form closed", false);
    await listed(page, ".contact-name", [
      "Alice Smith",
      "Bob Johnson",
      "Carol Williams",
      "Dana Scully",
    ]);
    await until(() => count.textContent(), (text) => text === "4", "the count 4");
    assert.equal(await card("Dana Scully").locator(".contact-phone").textContent(), "555-0199");
  });

  await t.step("saving without a first name shows the error; cancel leaves", async () => {
    await page.locator("sl-button", { hasText: "Add Contact" }).click();
    await shown(form, "the form");
    await page.locator("sl-button", { hasText: "Save Contact" }).click();
    const alert = page.locator("sl-alert");
    await until(() => alert.getAttribute("open"), (open) => open !== null, "the alert open");
    await shown(alert.locator("span[ui-value='error']"), "the error text");
    assert.equal(await alert.locator("span").textContent(), "First name is required");
    await page.locator("sl-button", { hasText: "Cancel" }).click();
    await shown(form, "the form closed", false);
    await waitForCount(page, ".contact-card", 4);
  });

  await t.step("edit a contact's fields and pick an emergency contact", async () => {
    await button("Dana Scully", 1).click();
    await shown(form, "the form");
    assert.equal(await form.locator("h2").textContent(), "Edit Contact");
    await until(() => field(page, "First Name").inputValue(), (v) => v === "Dana", "Dana");
    await fill(page, "Last Name", "Fox");
    await page.locator("sl-select[label='Emergency Contact']").click();
    await page.locator("sl-option", { hasText: "Alice Smith" }).click();
    await page.locator("sl-button", { hasText: "Save Contact" }).click();
    await shown(form, "the form closed", false);
    await shown(card("Dana Fox"), "the renamed card");
    await until(
      () => card("Dana Fox").locator(".contact-emergency span").textContent(),
      (text) => text === "Alice Smith",
      "Alice as Dana's emergency contact",
    );
  });

  await t.step("select shows the contact; deselect clears it", async () => {
    const panel = page.locator("strong", { hasText: "Selected Contact:" }).locator("xpath=../..");
    await button("Bob Johnson", 0).click();
    await until(
      () => panel.textContent(),
      (text) => text?.includes("bob@example.com") ?? false,
      "Bob",
    );
    await panel.locator("sl-button", { hasText: "Deselect" }).click();
    await until(() => panel.textContent(), (text) => !text?.includes("bob@"), "Bob gone");
  });

  await t.step("search as you type; Enter edits the first match", async () => {
    const search = page.locator("sl-input[placeholder='Search contacts...'] input");
    await search.pressSequentially("bob", { delay: 20 });
    await listed(page, ".contact-name", ["Bob Johnson"]);
    await until(() => count.textContent(), (text) => text === "1", "the count 1");
    await search.press("Enter");
    await shown(form, "the form");
    await until(() => field(page, "First Name").inputValue(), (v) => v === "Bob", "Bob's form");
    await page.locator("sl-button", { hasText: "Cancel" }).click();
    await search.fill("");
    await waitForCount(page, ".contact-card", 4);
  });

  await t.step("delete a contact", async () => {
    await button("Dana Fox", 2).click();
    await listed(page, ".contact-name", ["Alice Smith", "Bob Johnson", "Carol Williams"]);
    await until(() => count.textContent(), (text) => text === "3", "the count 3");
  });
}

/** The tasks app: toggle done, add and name a task, search, edit details, rename in place. */
export async function taskFlows(
  t: Deno.TestContext,
  page: Page,
  frontend: Frontend,
): Promise<void> {
  const row = (name: string) => page.locator(".task-row", { hasText: name });
  const name = (text: string) => page.locator(".task-name", { hasText: text });
  const isDone = (text: string) => name(text).evaluate((e) => e.classList.contains("completed"));
  await waitForCount(page, ".task-row", 3);

  await t.step("three sample tasks, the second done", async () => {
    await listed(page, ".task-name", ["First task", "Second task", "Third task"]);
    await until(() => isDone("Second task"), (done) => done, "the second task done");
    assert.equal(await isDone("First task"), false);
  });

  await t.step(
    "a click on a row's checkbox selects the row and leaves the task as it was",
    async () => {
      // The template both writes `completed` (ui-value) and calls `toggle()` (ui-event-sl-change),
      // so the two cancel out; under ui-engine the same happens.
      await row("First task").locator("sl-checkbox").click();
      await until(
        () => row("First task").evaluate((e) => e.classList.contains("selected")),
        (selected) => selected,
        "the first row selected",
      );
      await page.waitForTimeout(300);
      assert.equal(await isDone("First task"), false);
    },
  );

  await t.step("+ adds a task after the selected one, named in place with Enter", async () => {
    await page.locator(".header sl-button", { hasText: "+" }).click();
    await waitForCount(page, ".task-row", 4);
    const editing = ".task-row sl-input.task-name-input:not(.hidden) input";
    await waitForCount(page, editing, 1);
    const input = page.locator(editing);
    await input.fill("Buy milk");
    await input.press("Enter");
    await listed(page, ".task-name", ["First task", "Buy milk", "Second task", "Third task"]);
    await shown(name("Buy milk"), "the new name");
  });

  await t.step("search filters as you type", async () => {
    const search = page.locator("sl-input[placeholder='Search tasks...'] input");
    await search.pressSequentially("milk", { delay: 20 });
    await waitForCount(page, ".task-row", 1);
    await search.fill("");
    await waitForCount(page, ".task-row", 4);
  });

  await t.step("Edit opens the details; Save keeps the description", async () => {
    const panel = page.locator(".detail-panel", { has: page.locator("sl-input") }).nth(3);
    await row("Third task").locator("sl-button", { hasText: "Edit" }).click();
    await shown(panel, "the third task's details");
    const description = panel.locator("sl-textarea textarea");
    await until(
      () => description.inputValue(),
      (v) => v === "Another task with details",
      "the description",
    );
    await panel.locator("sl-input input").fill("Third task, renamed");
    await description.fill("New details");
    await description.press("Tab");
    // ui-engine's frontend (v0.21.0) sends nothing for an sl-checkbox's ui-value.
    if (frontend === "builtin") await panel.locator("sl-checkbox").click();
    await panel.locator("sl-button", { hasText: "Save" }).click();
    await shown(panel, "the details closed", false);
    await shown(name("Third task, renamed"), "the new name");
    if (frontend === "builtin") {
      await until(() => isDone("Third task, renamed"), (done) => done, "the third task done");
    }
    await row("Third task, renamed").locator("sl-button", { hasText: "Edit" }).click();
    await until(() => description.inputValue(), (v) => v === "New details", "the saved text");
    await panel.locator("sl-button", { hasText: "Cancel" }).click();
    await shown(panel, "the details closed", false);
  });

  await t.step("double-click renames in place; Escape cancels", async () => {
    await name("Second task").dblclick();
    const input = row("Second task").locator("sl-input.task-name-input input");
    await shown(input, "the name field");
    await input.fill("Nope");
    await input.press("Escape");
    await shown(input, "the name field closed", false);
    await shown(name("Second task"), "the old name");
  });
}

/**
 * A restart under ui-engine's frontend: state made before it is there after it, and the page
 * works again without a reload.
 */
export async function restartFlow(
  t: Deno.TestContext,
  page: Page,
  restart: () => Promise<void>,
): Promise<void> {
  await waitForCount(page, ".contact-card", 3);
  await t.step("add a contact before the restart", async () => {
    await page.locator("sl-button", { hasText: "Add Contact" }).click();
    await fill(page, "First Name", "Eve");
    await fill(page, "Email", "eve@example.com");
    await page.locator("sl-button", { hasText: "Save Contact" }).click();
    await waitForCount(page, ".contact-card", 4);
  });
  const url = page.url();
  const search = page.locator("sl-input[placeholder='Search contacts...'] input");
  const before = await search.elementHandle();
  await t.step("restart the server on the same port", restart);
  await t.step("the page renders again and carries on without a reload", async () => {
    // ui-engine's frontend retries after 1 s; the server then asks it to render again.
    await until(() => before!.evaluate((e) => e.isConnected), (is) => !is, "a new page", 15_000);
    await waitForCount(page, ".contact-card", 4);
    await search.pressSequentially("eve", { delay: 20 });
    await until(() => texts(page, ".contact-name"), (n) => n.join() === "Eve", "Eve", 15_000);
    assert.equal(page.url(), url);
  });
}
