/**
 * The built-in client under a base path: a host Hono app mounts `luaUi` at `/ui`, and Chromium
 * opens `/ui`, follows the redirect, loads the client from `/ui` and connects to `/ui/ws/<sid>`.
 */
import { Hono } from "hono";
import { luaUi } from "../../mod.ts";
import { silentLogger } from "../../src/log.ts";
import { TEST_SECRET } from "../support/ws_client.ts";
import { launchBrowser, waitForText } from "./helpers.ts";

Deno.test("the built-in client works under a base path", async () => {
  const ui = luaUi({
    site: {
      lua: {
        "main.lua": `Counter = {type = "Counter"}
                     Counter.__index = Counter
                     function Counter:add() self.count = self.count + 1 end
                     session:createAppVariable(setmetatable({count = 0}, Counter))`,
      },
      viewdefs: {
        "Counter.DEFAULT": `<template><span id="count" ui-value="count"></span>
          <button id="add" ui-action="add()">add</button></template>`,
      },
    },
    config: { secret: TEST_SECRET },
    log: silentLogger,
  });
  const host = new Hono();
  host.route("/ui", ui);
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: () => {},
  }, host.fetch);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.addr.port}/ui`);
    await waitForText(page, "#count", "0");
    await page.locator("#add").click();
    await waitForText(page, "#count", "1");
  } finally {
    await browser.close();
    await ui.shutdown();
    await server.shutdown();
  }
});
