/// <reference lib="dom" />
/**
 * ui-engine's binding semantics in the built-in client (client_extras fixture): nested clicks,
 * containers that do not prevent defaults, `ui-code`, `ui-html?replace`, `?scrollOnOutput`,
 * `window.uiApp`, scripts that do not pile up, `elementId`/`viewdef` properties and
 * `ui-event-click-value`.
 */
import assert from "node:assert/strict";
import { defaultPolicy } from "../../src/server/security_headers.ts";
import { fixture, openApp, until, waitForText } from "./helpers.ts";

interface PageStore {
  get(id: number): { properties: Record<string, string>; createProperties: object } | undefined;
}
type Api = {
  uiApp: {
    updateValue(id: string, value?: unknown): void;
    getStore(): PageStore;
    getBinding(): {
      getWidget(id: string): { getVariableId(binding: string): number | undefined } | undefined;
    };
  };
  __scriptRuns?: number;
};

Deno.test("ui-engine binding semantics", async (t) => {
  // ui-code evaluates text, which the default policy forbids: a site that uses it relaxes it.
  const app = await openApp({
    dir: fixture("client_extras"),
    csp: defaultPolicy(["'unsafe-eval'", "'unsafe-inline'"]),
  });
  const { page } = app;
  try {
    await page.locator(".extras").waitFor();
    await waitForText(page, "#container-clicks", "0");

    await t.step("nested click bindings both fire, inner first", async () => {
      await page.locator("#inner-button").click();
      await waitForText(page, "#clicks", "inner;outer;");
    });

    await t.step(
      "a ui-event-click container lets a checkbox toggle and a link navigate",
      async () => {
        await page.locator("#inside-check").click();
        assert.equal(await page.locator("#inside-check").isChecked(), true);
        await waitForText(page, "#container-clicks", "1");
        await page.locator("#inside-link").click();
        await until(() => Promise.resolve(page.url()), (u) => u.endsWith("#navigated"), "the hash");
        await waitForText(page, "#container-clicks", "2");
      },
    );

    await t.step("ui-code runs the value as code", async () => {
      await until(() => page.locator("#code").getAttribute("data-ran"), (v) => v === "yes", "code");
    });

    await t.step("ui-html?replace replaces the element with the HTML's nodes", async () => {
      await until(() => page.locator(".frag").count(), (n) => n === 2, "two fragment nodes");
      assert.equal(await page.locator("#fragment").evaluate((e) => e.tagName), "B");
      const next = await page.locator("#before-fragment").evaluate((e) =>
        e.nextElementSibling?.className
      );
      assert.equal(next, "frag");
      await page.locator("#text-fragment").click();
      await until(() => page.locator(".frag").count(), (n) => n === 0, "the fragment gone");
      await waitForText(page, "#fragment", "just text");
      await page.locator("#no-fragment").click();
      await until(
        () => page.locator("#fragment").evaluate((e) => (e as HTMLElement).hidden),
        (hidden) => hidden === true,
        "a hidden placeholder",
      );
    });

    await t.step("?scrollOnOutput keeps the element scrolled to its end", async () => {
      await page.locator("#add-lines").click();
      await until(
        () =>
          page.locator("#log").evaluate((e) =>
            e.scrollTop > 0 && e.scrollTop + e.clientHeight >= e.scrollHeight - 1
          ),
        (atEnd) => atEnd,
        "the log scrolled to its end",
      );
    });

    await t.step("window.uiApp: updateValue, getStore, getBinding", async () => {
      await page.evaluate(() => (window as unknown as Api).uiApp.updateValue("api-field", "set"));
      await waitForText(page, "#api-value", "set");
      await page.locator("#api-field").evaluate((e) => (e as HTMLInputElement).value = "own");
      await page.evaluate(() => (window as unknown as Api).uiApp.updateValue("api-field"));
      await waitForText(page, "#api-value", "own");
      const found = await page.evaluate(() => {
        const api = (window as unknown as Api).uiApp;
        const id = api.getBinding().getWidget("api-field")?.getVariableId("ui-value");
        return id === undefined ? undefined : api.getStore().get(id)?.properties;
      });
      assert.equal(found?.path, "apiValue");
      // ui-engine sends the bound element's id with every binding's variable.
      assert.equal(found?.elementId, "api-field");
    });

    await t.step("elements without an id get one, sent as elementId", async () => {
      const sent = await page.locator("#code").evaluate(() => {
        const api = (window as unknown as Api).uiApp;
        const outer = document.querySelector("#semantics pre");
        const id = api.getBinding().getWidget(outer?.id ?? "")?.getVariableId("ui-value");
        return { id: outer?.id, created: id ? api.getStore().get(id)?.createProperties : {} };
      });
      assert.equal(sent.id, "log");
      assert.equal((sent.created as Record<string, string>).elementId, "log");
    });

    await t.step("ui-event-click-value sends its value", async () => {
      await page.locator("#pick").click();
      await waitForText(page, "#picked", "7");
    });

    await t.step("a view tells its viewdef; re-rendered scripts do not pile up", async () => {
      for (let round = 0; round < 3; round++) {
        await page.locator("#show-scripted").click();
        await page.locator(".scripted").waitFor();
        await page.locator("#show-plain").click();
        await page.locator(".plain").waitFor();
      }
      await page.locator("#show-scripted").click();
      await page.locator(".scripted").waitFor();
      assert.equal(await page.locator("#semantics script").count(), 1);
      const runs = await page.evaluate(() => (window as unknown as Api).__scriptRuns);
      assert.equal(runs, 4);
      const viewdef = await page.locator(".scripted").evaluate((e) => {
        const api = (window as unknown as Api).uiApp;
        const id = api.getBinding().getWidget(e.id)?.getVariableId("ui-value");
        const store = api.getStore();
        const child = id === undefined ? undefined : store.get(id);
        const parentId = (child as unknown as { parentId: number } | undefined)?.parentId ?? 0;
        return store.get(parentId)?.properties.viewdef;
      });
      assert.equal(viewdef, "Scripted.DEFAULT");
    });
  } finally {
    await app.close();
  }
});
