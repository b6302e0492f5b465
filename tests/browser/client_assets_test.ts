/// <reference lib="dom" />
/**
 * The built-in client as served: one minified bundle made with esbuild, an ETag answered by 304,
 * a content-hash URL cached for a year, the stylesheet, and nothing else; in Chromium, a second
 * load of the page revalidates the client and gets a 304.
 */
import assert from "node:assert/strict";
import { startTestServer, TestBrowser } from "../support/ws_client.ts";
import { launchBrowser } from "./helpers.ts";

Deno.test("the server serves the built-in client", async (t) => {
  const server = await startTestServer();
  const base = `http://127.0.0.1:${server.port}`;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers });
  try {
    await t.step("the page loads the client's script and stylesheet", async () => {
      const browser = new TestBrowser(server.port);
      const response = await browser.get(`/${await browser.newSid()}`);
      const html = await response.text();
      assert.match(html, /<div ui-app><\/div>/);
      // The content-hash URL: cached for a year, a new bundle gets a new URL.
      assert.match(
        html,
        /<script type="module" src="\/ui-engine-client\.[0-9a-f]{16}\.js"><\/script>/,
      );
      assert.match(html, /<link rel="stylesheet" href="\/ui-engine-client.css">/);
    });

    let etag = "";
    await t.step("the client is one minified module with no imports", async () => {
      const response = await get("/ui-engine-client.js");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.equal(response.headers.get("cache-control"), "no-cache");
      etag = response.headers.get("etag") ?? "";
      assert.match(etag, /^"[0-9a-f]{16}"$/);
      const code = await response.text();
      assert.doesNotMatch(code, /^\s*import\b/m);
      assert.doesNotMatch(code, /\binterface \w+|@example/);
      // Minified: few lines for the whole client.
      assert.ok(code.split("\n").length < 20, `${code.split("\n").length} lines`);
      assert.ok(code.length < 60_000, `${code.length} bytes`);
      assert.match(code, /ui-value-change/);
    });

    await t.step("a second load with the ETag gets 304", async () => {
      const response = await get("/ui-engine-client.js", { "if-none-match": etag });
      assert.equal(response.status, 304);
      assert.equal(await response.text(), "");
    });

    await t.step("the content-hash URL is cached for a year", async () => {
      const hash = etag.slice(1, -1);
      const response = await get(`/ui-engine-client.${hash}.js`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("cache-control") ?? "", /max-age=31536000, immutable/);
      await response.body?.cancel();
      const stale = await get("/ui-engine-client.0000000000000000.js");
      await stale.body?.cancel();
      assert.equal(stale.status, 404);
    });

    await t.step("the stylesheet is CSS with an ETag", async () => {
      const response = await get("/ui-engine-client.css");
      assert.equal(response.headers.get("content-type"), "text/css; charset=utf-8");
      assert.match(await response.text(), /\.ui-error\s*\{/);
      const again = await get("/ui-engine-client.css", {
        "if-none-match": response.headers.get("etag") ?? "",
      });
      assert.equal(again.status, 304);
    });

    await t.step("anything else under the client's paths is 404", async () => {
      for (
        const path of [
          "/ui-engine-client/main.js",
          "/ui-engine-client/view.js",
          "/ui-engine-client/view.ts",
          "/ui-engine-client/..%2fserver%2fapp.js",
          "/ui-engine-client/client.css",
          "/ui-engine-client.ts",
        ]
      ) {
        const response = await get(path);
        await response.body?.cancel();
        assert.equal(response.status, 404, path);
      }
    });

    await t.step("Chromium keeps the hashed client; revalidating it gets 304", async () => {
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        const hashed = /\/ui-engine-client\.[0-9a-f]{16}\.js$/;
        // What the network saw: the DevTools protocol tells a cache hit from a server answer.
        const seen: string[] = [];
        const cdp = await page.context().newCDPSession(page);
        await cdp.send("Network.enable");
        const fromCache = new Set<string>();
        cdp.on("Network.requestServedFromCache", ({ requestId }) => fromCache.add(requestId));
        cdp.on("Network.responseReceived", ({ requestId, response }) => {
          if (!hashed.test(response.url)) return;
          const cached = response.fromDiskCache || fromCache.has(requestId);
          seen.push(cached ? "cache" : String(response.status));
        });
        await page.goto(`${base}/0123456789abcdef0123456789abcdef`);
        await page.waitForFunction(() => "uiApp" in window);
        const url = await page.evaluate(() =>
          document.querySelector<HTMLScriptElement>("script[src]")?.src ?? ""
        );
        assert.match(url, hashed);
        await page.goto(`${base}/0123456789abcdef0123456789abcdef`);
        await page.waitForFunction(() => "uiApp" in window);
        // The first load downloaded it, the second took it from the cache.
        assert.deepEqual(seen, ["200", "cache"]);
        // Asked again with its ETag (as a revalidation does), the server answers 304.
        const status = await page.evaluate(async (url) => {
          const first = await fetch(url, { cache: "no-store" });
          const etag = first.headers.get("etag") ?? "";
          await first.text();
          const again = await fetch(url, { cache: "no-store", headers: { "if-none-match": etag } });
          return again.status;
        }, url);
        assert.equal(status, 304);
      } finally {
        await browser.close();
      }
    });
  } finally {
    await server.shutdown();
  }
});
