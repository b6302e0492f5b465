/**
 * The debug view over real HTTP: `/<sid>/variables` and `/<sid>/variables.json` with `--debug`,
 * a plain 404 without it.
 */
import assert from "node:assert/strict";
import { newSid } from "../../src/session/manager.ts";
import { escapeHtml } from "../../src/server/debug.ts";
import {
  create,
  defaultBrowser,
  startTestServer,
  TestClient,
  update,
} from "../support/ws_client.ts";

const SITE = new URL("./fixtures/debug_site", import.meta.url).pathname;
const HOSTILE = `<script>alert("x")</script>&'`;

/** Opens a session on the fixture app with a few variables worth looking at. */
async function populate(client: TestClient): Promise<void> {
  await client.request([{ type: "watch", data: { varId: 1 } }]);
  await client.request([
    create(2, 1, { path: "name", "data-note": HOSTILE }),
    create(3, 1, { path: "missing()" }),
  ]);
  // A client's write is not echoed: wait until the frame has been handled.
  client.send([update(2, HOSTILE)]);
  await client.quiet(100);
}

async function get(port: number, path: string): Promise<Response> {
  return await fetch(`http://127.0.0.1:${port}${path}`);
}

Deno.test("debug view with --debug", async (t) => {
  const server = await startTestServer({ dir: SITE, debug: true });
  const client = await TestClient.connect(server);
  try {
    await populate(client);

    await t.step("variables.json gives the session's variable tree", async () => {
      const response = await get(server.port, `/${client.sid}/variables.json`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const body = await response.json();
      assert.equal(body.vendedId, "1");
      assert.equal(body.variableCount, 3);
      const [app, name, broken] = body.variables;
      assert.equal(app.id, 1);
      assert.equal(app.parentId, null);
      assert.deepEqual(app.children, [2, 3]);
      assert.equal(app.watchers, 1);
      assert.equal(app.type, "App");
      assert.match(app.json, /^\{"obj":\d+\}$/);
      assert.equal(name.id, 2);
      assert.equal(name.parentId, 1);
      assert.equal(name.depth, 1);
      assert.equal(name.origin, "frontend");
      assert.equal(name.path, "name");
      assert.equal(name.properties["data-note"], HOSTILE);
      assert.equal(name.json, JSON.stringify(HOSTILE));
      assert.equal(name.lastError, null);
      assert.equal(broken.id, 3);
      assert.equal(broken.path, "missing()");
      assert.equal(broken.lastError, "No method 'missing' on this value");
    });

    await t.step("variables shows the same as HTML, escaped", async () => {
      const response = await get(server.port, `/${client.sid}/variables`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(response.headers.get("content-security-policy") ?? "", /default-src 'none'/);
      const html = await response.text();
      assert.match(html, /<title>Session 1: 3 variables<\/title>/);
      assert.ok(!html.includes("<script"), "unescaped markup in the page");
      assert.ok(html.includes(escapeHtml(HOSTILE)), "property not shown escaped");
      assert.ok(html.includes(escapeHtml(JSON.stringify(HOSTILE))), "value not shown escaped");
      for (const id of [1, 2, 3]) assert.ok(html.includes(`<tr id="v${id}">`));
      assert.ok(html.includes("<code>missing()</code>"));
      assert.ok(html.includes(escapeHtml("No method 'missing' on this value")));
    });

    await t.step("an unknown session is a 404", async () => {
      for (const path of [`/${newSid()}/variables`, `/${newSid()}/variables.json`]) {
        const response = await get(server.port, path);
        assert.equal(response.status, 404);
        assert.equal(await response.text(), "No such session");
      }
    });

    await t.step("the view follows the live tree", async () => {
      await client.request([{ type: "destroy", data: { varId: 3 } }]);
      const body = await (await get(server.port, `/${client.sid}/variables.json`)).json();
      assert.deepEqual(body.variables.map((v: { id: number }) => v.id), [1, 2]);
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("debug view without --debug", async (t) => {
  const server = await startTestServer({ dir: SITE });
  const client = await TestClient.connect(server);
  try {
    await populate(client);
    const unknown = await get(server.port, "/no-such-file.txt");
    const unknownBody = await unknown.text();
    assert.equal(unknown.status, 404);

    for (const suffix of ["variables", "variables.json"]) {
      await t.step(`/<sid>/${suffix} is a plain 404 that leaks nothing`, async () => {
        const response = await get(server.port, `/${client.sid}/${suffix}`);
        const body = await response.text();
        assert.equal(response.status, 404);
        assert.equal(body, unknownBody);
        assert.equal(response.headers.get("content-type"), unknown.headers.get("content-type"));
        assert.ok(!body.includes("alert"));
        assert.equal(response.headers.get("cache-control"), null);
      });
    }

    await t.step("the session is live and the app page is still served", async () => {
      assert.equal(server.manager.sessionCount, 1);
      // As the browser that owns the session: another one would be sent to a fresh session.
      const page = await defaultBrowser(server).get(`/${client.sid}`);
      assert.equal(page.status, 200);
      await page.body?.cancel();
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});
