/**
 * Tests for src/viewdefs/bound_paths.ts: the scanner reads the binding attributes a browser
 * would see, and a type's bindings cover all its namespaces; the store rescans on change.
 */
import assert from "node:assert/strict";
import { itemWrappersOf, scanBindings, TypeBindings } from "../../src/viewdefs/bound_paths.ts";
import { ViewdefStore } from "../../src/viewdefs/store.ts";
import { EMBEDDED_SITE, loadSite } from "../../src/site/site.ts";

/** `attribute=path` of every binding, in order. */
function summary(html: string): string[] {
  return scanBindings(html).map((b) => `${b.attribute}=${b.path}`);
}

Deno.test("scanBindings", async (t) => {
  await t.step("each binding attribute, with its kind, query and element", () => {
    const found = scanBindings(`<template>
      <input type="search" ui-value="search?keypress" ui-event-keypress-enter="first()">
      <button ui-action="save()" ui-attr-title="hint()" ui-class-on="on()">Save</button>
      <div ui-view="panel()" ui-namespace="detail"></div>
      <ul ui-viewlist="rows()?wrapper=lua.ViewList&amp;itemWrapper=Row" ui-item-wrapper="Item"></ul>
      <span ui-style-color="color()" ui-html="body()" ui-code="js()"></span>
    </template>`);
    assert.deepEqual(found.map((b) => [b.attribute, b.kind, b.path, b.tag]), [
      ["ui-value", "value", "search", "input"],
      ["ui-event-keypress-enter", "action", "first()", "input"],
      ["ui-action", "action", "save()", "button"],
      ["ui-attr-title", "display", "hint()", "button"],
      ["ui-class-on", "display", "on()", "button"],
      ["ui-view", "view", "panel()", "div"],
      ["ui-viewlist", "view", "rows()", "ul"],
      ["ui-style-color", "display", "color()", "span"],
      ["ui-html", "display", "body()", "span"],
      ["ui-code", "display", "js()", "span"],
    ]);
    assert.deepEqual(found[0]?.properties, { keypress: "true" });
    assert.deepEqual(found[6]?.properties, { wrapper: "lua.ViewList", itemWrapper: "Row" });
    assert.equal(found[6]?.itemWrapper, "Item");
  });

  await t.step("markers and event values are not bindings", () => {
    assert.deepEqual(
      summary(`<div ui-namespace="x" ui-app ui-item-wrapper="W" ui-disable-while-busy
        ui-event-click="pick(_)" ui-event-click-value="3"></div>`),
      ["ui-event-click=pick(_)"],
    );
  });

  await t.step("quotes, unquoted values, case and spacing as a browser reads them", () => {
    assert.deepEqual(
      summary(`<P UI-VALUE = 'name' ui-attr-x=a.b/c ui-class-y="it's"/><br/><i ui-value=z>`),
      ["ui-value=name", "ui-attr-x=a.b/c", "ui-class-y=it's", "ui-value=z"],
    );
    assert.deepEqual(summary(`<b ui-value="  padded  "></b>`), ["ui-value=padded"]);
    assert.deepEqual(summary(`<b ui-value="a&#46;b&#x2e;c"></b>`), ["ui-value=a.b.c"]);
    assert.deepEqual(summary(`<b title="x > y" ui-value="after"></b>`), ["ui-value=after"]);
  });

  await t.step("comments and the text of script and style bind nothing", () => {
    assert.deepEqual(
      summary(`<!-- <b ui-value="commented"> --><script>if (a<b) x = '<i ui-value="s">';</script>
        <style>b::after { content: "<i ui-value='c'>" }</style><textarea><b ui-value="t"></textarea>
        <b ui-value="real"></b>`),
      ["ui-value=real"],
    );
  });

  await t.step("broken markup ends the scan without throwing", () => {
    assert.deepEqual(summary(`<b ui-value="open`), ["ui-value=open"]);
    assert.deepEqual(summary(`< b ui-value="x"> <!-- never closed <i ui-value="y">`), []);
    assert.deepEqual(summary(`<b ="x" ui-value="y">`), ["ui-value=y"]);
  });
});

Deno.test("TypeBindings and the store", async (t) => {
  await t.step("a type's bindings cover all its namespaces", () => {
    const bindings = new TypeBindings([
      `<template><b ui-value="name"></b></template>`,
      `<template><input ui-value="name"><i ui-value="email"></i></template>`,
    ]);
    assert.equal(bindings.forPath("name").length, 2);
    assert.deepEqual(bindings.paths().sort(), ["email", "name"]);
    assert.deepEqual(bindings.forPath("missing"), []);
  });

  await t.step("item wrappers come from ui-item-wrapper on lists", () => {
    assert.deepEqual(
      [...itemWrappersOf([`<ul ui-viewlist="a" ui-item-wrapper="A"></ul>`, `<b ui-value="x">`])],
      ["A"],
    );
  });

  await t.step("the store rescans a type after a template changes", () => {
    const store = new ViewdefStore(new Map([["T.DEFAULT", `<b ui-value="one"></b>`]]));
    assert.deepEqual(store.bindings("T").paths(), ["one"]);
    store.set("T.other", `<b ui-value="two"></b>`);
    assert.deepEqual(store.bindings("T").paths().sort(), ["one", "two"]);
    store.delete("T.DEFAULT");
    assert.deepEqual(store.bindings("T").paths(), ["two"]);
    assert.deepEqual(store.bindings("Unknown").paths(), []);
  });

  await t.step("the default app: every binding of the contact book, none invented", async () => {
    const site = await loadSite(EMBEDDED_SITE);
    const book = site.viewdefs.bindings("ContactBook").paths();
    for (const path of ["summary()", "search", "visible()", "panel()", "newContact()"]) {
      assert.ok(book.includes(path), path);
    }
    for (const path of ["summary", "contacts", "contacts.0.email", "new()", "__index.search"]) {
      assert.ok(!book.includes(path), path);
    }
    assert.deepEqual(site.viewdefs.bindings("lua.ViewListItem").paths(), ["item"]);
  });
});
