/**
 * The app tester on small in-memory sites and a fixture folder: interactions, settling, Lua
 * access, errors, reload and close.
 */
import assert from "node:assert/strict";
import { testApp } from "../../src/testing/app_tester.ts";
import { fixture } from "../support/ws_client.ts";

/** A form that shows every kind of field the tester drives, and a log of what Lua saw. */
const FORM_LUA = `
Form = session:prototype("Form", {
  name = "", notes = "", agree = false, colour = "red", query = "", keys = "", ticks = 0,
})
function Form:shout() self.keys = self.keys .. "K" end
function Form:submit() self.keys = self.keys .. "S" end
function Form:fail() error("this action fails") end
function Form:later()
  session:setTimeout(function() self.ticks = self.ticks + 1 end, 30)
end
function Form:hello() print("hello from Lua") end
session:createAppVariable(session:create(Form))
`;

const FORM_VIEW = `<template>
  <form class="form" ui-event-keypress-ctrl-k="shout()" ui-event-submit="submit()">
    <input class="name" ui-value="name?keypress">
    <input class="notes" ui-value="notes">
    <input class="query" ui-value="query?debounce=40">
    <label class="agree"><input type="checkbox" ui-value="agree"> Agree</label>
    <select class="colour" ui-value="colour">
      <option value="red">Red</option><option value="blue">Blue</option>
    </select>
    <span class="echo" ui-value="name"></span>
    <span class="keys" ui-value="keys"></span>
    <span class="ticks" ui-value="ticks"></span>
    <span class="secret" ui-attr-hidden="agree">shown until agreed</span>
    <button type="button" class="fail" ui-action="fail()">Fail</button>
    <button type="button" class="later" ui-action="later()">Later</button>
    <button type="button" class="hello" ui-action="hello()">Hello</button>
    <button type="button" class="off" disabled>Off</button>
    <button class="go">Go</button>
  </form>
</template>`;

const formSite = { lua: { "main.lua": FORM_LUA }, viewdefs: { "Form.DEFAULT": FORM_VIEW } };
const field = (name: string) => `return session:getApp().${name}`;

Deno.test("app tester", async (t) => {
  await using app = await testApp({ site: formSite });

  await t.step("the first render is done when testApp resolves", () => {
    assert.equal(app.count("form.form"), 1);
    assert.equal(app.value(".colour"), "red");
    assert.equal(app.checked(".agree input"), false);
    assert.equal(app.visible(".secret"), true);
  });

  await t.step("typing into a ?keypress field reaches Lua and comes back to the page", async () => {
    await app.type(".name", "Ada");
    assert.equal(await app.lua(field("name")), "Ada");
    assert.equal(app.text(".echo"), "Ada");
  });

  await t.step("a plain field sends when it is committed; fill replaces its text", async () => {
    await app.type(".notes", "first");
    assert.equal(await app.lua(field("notes")), "first");
    await app.fill(".notes", "second");
    assert.equal(await app.lua(field("notes")), "second");
  });

  await t.step("settled waits for a client debounce", async () => {
    await app.type(".query", "abc");
    assert.equal(await app.lua(field("query")), "abc");
  });

  await t.step("clicking a label toggles its checkbox; the binding hides an element", async () => {
    await app.click(".agree");
    assert.equal(app.checked(".agree input"), true);
    assert.equal(await app.lua(field("agree")), true);
    assert.equal(app.visible(".secret"), false);
    await app.click(".agree input");
    assert.equal(await app.lua(field("agree")), false);
  });

  await t.step("a select changes through fill", async () => {
    await app.fill(".colour", "blue");
    assert.equal(await app.lua(field("colour")), "blue");
  });

  await t.step("keys with modifiers, and Enter's implicit submission", async () => {
    await app.press(".name", "Control+k");
    await app.press(".name", "k");
    assert.equal(app.text(".keys"), "K");
    // Enter in a text field clicks the form's submit button, which submits the form.
    await app.press(".notes", "Enter");
    assert.equal(app.text(".keys"), "KS");
    await app.click(".go");
    assert.equal(app.text(".keys"), "KSS");
  });

  await t.step("Lua changes made by a test reach the page", async () => {
    await app.lua(`session:getApp().name = "Grace"`);
    assert.equal(app.text(".echo"), "Grace");
    assert.equal(app.value(".name"), "Grace");
  });

  await t.step("a failing action marks its element; the client logs why", async () => {
    await app.click(".fail");
    assert.ok(app.element(".fail").classList.contains("ui-error"));
    assert.match(app.attr(".fail", "title") ?? "", /this action fails/);
    assert.ok(app.logs.some((line) => line.includes("this action fails")));
  });

  await t.step("Lua's print goes to the logs", async () => {
    await app.click(".hello");
    assert.ok(app.logs.some((line) => line.includes("hello from Lua")));
  });

  await t.step("waitFor follows what a Lua timer changes", async () => {
    await app.click(".later");
    assert.equal(app.text(".ticks"), "0");
    await app.waitFor(() => app.text(".ticks"), (text) => text === "1", { what: "the tick" });
  });

  await t.step("waitFor says what it waited for when it times out", async () => {
    await assert.rejects(
      app.waitFor(() => app.text(".ticks"), (text) => text === "9", {
        timeoutMs: 50,
        what: "nine ticks",
      }),
      /Timed out after 50 ms waiting for nine ticks; last value: "1"/,
    );
  });

  await t.step("mistakes get clear errors", async () => {
    assert.throws(() => app.text(".missing"), /No element matches '\.missing'/);
    await assert.rejects(app.click(".off"), /Cannot click a disabled <button>/);
    await assert.rejects(app.type(".go", "x"), /Cannot type into <button>/);
    await assert.rejects(app.press(".name", "Hyper+k"), /Unknown modifier 'Hyper'/);
    await assert.rejects(app.lua("return nil + 1"), /^Error: Lua failed: .*arithmetic/);
    await assert.rejects(app.lua("this is not Lua"), /Lua failed/);
  });

  await t.step("reload opens a new page on the same session", async () => {
    const before = app.document;
    await app.reload();
    assert.notEqual(app.document, before);
    assert.equal(app.value(".name"), "Grace");
    assert.equal(app.text(".keys"), "KSS");
    assert.equal(app.sessionRunning, true);
  });

  await t.step("the page reported no problem", () => {
    assert.deepEqual(app.problems, []);
  });

  await t.step("close shuts the session down, and is safe to repeat", async () => {
    await app.close();
    assert.equal(app.sessionRunning, false);
    await app.close();
    assert.throws(() => app.text(".echo"), /The app tester is closed/);
    await assert.rejects(app.lua("return 1"), /The app tester is closed/);
  });
});

Deno.test("app tester on a site folder", async () => {
  await using app = await testApp({ site: fixture("adder") });
  await app.type("input[placeholder='Value 1']", "2");
  await app.type("input[placeholder='Value 2']", "3");
  assert.equal(app.text(".sum"), "5");
});

Deno.test("app tester refuses a site without main.lua", async () => {
  await assert.rejects(testApp({ site: { lua: {} } }), /needs a 'main.lua'/);
});
