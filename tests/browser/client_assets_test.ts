/**
 * The built-in client as served: JavaScript made from the TypeScript sources on first request,
 * imports that resolve to served modules, the stylesheet, and nothing else.
 */
import assert from "node:assert/strict";
import { startTestServer, TestBrowser } from "../support/ws_client.ts";

Deno.test("the server serves the built-in client", async (t) => {
  const server = await startTestServer();
  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
  try {
    await t.step("the page loads the client's script and stylesheet", async () => {
      const browser = new TestBrowser(server.port);
      const response = await browser.get(`/${await browser.newSid()}`);
      const html = await response.text();
      assert.match(html, /<div ui-app><\/div>/);
      assert.match(html, /<script type="module" src="\/ui-engine-client.js"><\/script>/);
      assert.match(html, /<link rel="stylesheet" href="\/ui-engine-client.css">/);
    });

    const seen = new Set<string>();
    await t.step("the entry module and every module it imports are JavaScript", async () => {
      const queue = ["/ui-engine-client.js"];
      while (queue.length > 0) {
        const path = queue.shift() as string;
        if (seen.has(path)) continue;
        seen.add(path);
        const response = await get(path);
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8");
        const code = await response.text();
        assert.doesNotMatch(code, /^\s*(export )?(interface|type) \w+/m, `${path} has types`);
        const imports = [...code.matchAll(/^import[\s\S]*?from\s*["']([^"']+)["']/gm)]
          .map((match) => match[1] as string);
        assert.ok(imports.every((spec) => spec.endsWith(".js")), `${path} imports ${imports}`);
        // Syntax check: without its import and export keywords, the module parses as a script.
        const script = code.replace(/^import[\s\S]*?from\s*["'][^"']+["'];?/gm, "")
          .replace(/^export /gm, "");
        assert.doesNotThrow(() => new Function(script), path);
        const base = new URL(path, "http://x");
        for (const spec of imports) queue.push(new URL(spec, base).pathname);
      }
      assert.ok(seen.size >= 10, `only ${seen.size} modules`);
      assert.ok(seen.has("/ui-engine-client/view.js"));
    });

    await t.step("the stylesheet is CSS", async () => {
      const response = await get("/ui-engine-client.css");
      assert.equal(response.headers.get("content-type"), "text/css; charset=utf-8");
      assert.match(await response.text(), /\.ui-error\s*\{/);
    });

    await t.step("anything else under the client's paths is 404", async () => {
      for (
        const path of [
          "/ui-engine-client/missing.js",
          "/ui-engine-client/main.js",
          "/ui-engine-client/view.ts",
          "/ui-engine-client/..%2fserver%2fapp.js",
          "/ui-engine-client/client.css",
        ]
      ) {
        const response = await get(path);
        await response.body?.cancel();
        assert.equal(response.status, 404, path);
      }
    });
  } finally {
    await server.shutdown();
  }
});
