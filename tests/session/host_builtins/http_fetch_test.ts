/**
 * `http.fetch` (src/session/host_builtins/http_fetch.ts) from a Lua action against a local
 * Deno.serve origin: allowed, refused, capped, and not following redirects.
 */
import assert from "node:assert/strict";
import { testApp } from "../../../src/testing/app_tester.ts";

const SITE = {
  lua: {
    "main.lua": `
      Probe = session:prototype("Probe", {url = "", out = ""})
      function Probe:go()
        local ok, res = pcall(http.fetch, self.url, {
          method = "post", headers = {["x-probe"] = "1"}, body = "ping",
        })
        if ok then
          self.out = res.status .. " " .. res.body .. " " .. tostring(res.headers["x-seen"])
        else
          self.out = "error: " .. res
        end
      end
      probe = session:create(Probe)
      session:createAppVariable(probe)`,
  },
  viewdefs: {
    "Probe.DEFAULT": `<template>
      <input class="url" ui-value="url"><button ui-action="go()">go</button>
      <p class="out" ui-value="out"></p>
    </template>`,
  },
};

Deno.test("http.fetch", async (t) => {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/big") return new Response("x".repeat(2 * 1024 * 1024));
    if (path === "/moved") {
      return new Response(null, {
        status: 302,
        headers: { location: "https://elsewhere.example/" },
      });
    }
    const body = `${req.method}:${await req.text()}:${req.headers.get("x-probe")}`;
    return new Response(body, { status: 201, headers: { "x-seen": "yes" } });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  await using app = await testApp({ site: SITE, allowFetch: [origin] });
  const fetchFrom = async (url: string) => {
    await app.fill(".url", url);
    await app.click("button");
    return await app.waitFor(() => app.text(".out"), (text) => text !== "");
  };
  try {
    await t.step("an allowed origin answers with status, headers and body", async () => {
      assert.equal(await fetchFrom(`${origin}/echo`), "201 POST:ping:1 yes");
    });
    await t.step("another origin is refused", async () => {
      await app.lua("probe.out = ''");
      const text = await fetchFrom("http://localhost:1/x");
      assert.match(text, /^error: http\.fetch: Origin http:\/\/localhost:1 is not allowed/);
    });
    await t.step("a body over the cap is an error", async () => {
      await app.lua("probe.out = ''");
      assert.match(await fetchFrom(`${origin}/big`), /larger than 1048576 bytes/);
    });
    await t.step("a redirect comes back as is, not followed", async () => {
      await app.lua("probe.out = ''");
      assert.equal(await fetchFrom(`${origin}/moved`), "302  nil");
    });
    await t.step("without --allow-fetch there is no http table", async () => {
      await using bare = await testApp({ site: SITE });
      assert.equal(await bare.lua("return type(http)"), "nil");
    });
  } finally {
    await server.shutdown();
  }
});
