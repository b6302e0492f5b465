/**
 * The HTTP surface (SPEC 2) against a real `Deno.serve` on port 0: session redirect, the app
 * page, the WebSocket route's sid check, /healthz, and static files confined to `html/`.
 */
import assert from "node:assert/strict";
import { newSid } from "../../src/session/manager.ts";
import { startTestServer, TestBrowser } from "../support/ws_client.ts";
import { withHarness } from "./helpers.ts";

const SITE = "protocol_site";
const SID = /^[0-9a-f]{32}$/;

/** A GET whose body is read (or dropped), so that no resource leaks. */
async function get(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { redirect: "manual", ...init });
  const body = await response.text();
  return { status: response.status, headers: response.headers, body };
}

/**
 * Sends a request line as is over TCP, so that the path reaches the server without the
 * normalisation `fetch` applies (`..`, `%2e%2e`).
 */
async function rawGet(port: number, path: string): Promise<{ status: number; text: string }> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    await connection.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(16 * 1024);
    while (true) {
      const n = await connection.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((all, chunk) => {
        const joined = new Uint8Array(all.length + chunk.length);
        joined.set(all);
        joined.set(chunk, all.length);
        return joined;
      }, new Uint8Array()),
    );
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    assert.ok(Number.isInteger(status), `no status line in ${JSON.stringify(text.slice(0, 80))}`);
    return { status, text };
  } finally {
    connection.close();
  }
}

Deno.test("http: sessions and pages", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("GET / redirects (307) to a fresh 32-hex session id", async () => {
      const first = await get(`${h.url}/`);
      const second = await get(`${h.url}/`);
      assert.equal(first.status, 307);
      const location = first.headers.get("location") ?? "";
      const sid = location.replace(/^\//, "");
      assert.match(sid, SID);
      assert.equal(location, `/${sid}`);
      assert.notEqual(second.headers.get("location"), location);
      assert.match((second.headers.get("location") ?? "").slice(1), SID);
    });

    await t.step("GET /<sid> and /<sid>/<sub/path> serve the site's page", async () => {
      const index = await Deno.readTextFile(
        new URL("../fixtures/protocol_site/html/index.html", import.meta.url),
      );
      const browser = new TestBrowser(h.server.port);
      const sids = [await browser.newSid(), await browser.newSid()];
      for (const path of [`/${sids[0]}`, `/${sids[1]}/contacts/7/edit`]) {
        const page = await get(`${h.url}${path}`, { headers: browser.headers() });
        assert.equal(page.status, 200, path);
        assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
        assert.equal(page.body, index);
      }
    });

    await t.step("/healthz answers JSON with the version and live sessions", async () => {
      const before = await get(`${h.url}/healthz`);
      assert.equal(before.status, 200);
      assert.match(before.headers.get("content-type") ?? "", /^application\/json/);
      const health = JSON.parse(before.body);
      assert.equal(typeof health.version, "string");
      assert.ok(health.version.length > 0);
      assert.equal(typeof health.sessions, "number");
      await h.open();
      await h.open();
      const after = JSON.parse((await get(`${h.url}/healthz`)).body);
      assert.equal(after.sessions, health.sessions + 2);
    });

    await t.step("/ws/<malformed sid> is refused with 400", async () => {
      const bad = [
        "abc",
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef0123456789abcdef0",
        "0123456789abcdef0123456789abcde",
        "%30123456789abcdef0123456789abcde",
      ];
      for (const sid of bad) {
        const response = await get(`${h.url}/ws/${sid}`, {
          headers: { upgrade: "websocket", connection: "Upgrade" },
        });
        assert.equal(response.status, 400, sid);
      }
      assert.equal(h.server.manager.sessionCount, 2);
    });

    await t.step("/ws/<sid> without an upgrade is not a session", async () => {
      const response = await get(`${h.url}/ws/${newSid()}`);
      assert.ok(response.status >= 400 && response.status < 500, String(response.status));
      assert.equal(h.server.manager.sessionCount, 2);
    });
  });

  await t.step("a site without html/index.html gets the built-in page", async () => {
    await withHarness("sandbox_site", {}, async (h) => {
      const browser = new TestBrowser(h.server.port);
      const page = await get(`${h.url}/${await browser.newSid()}`, { headers: browser.headers() });
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(page.body, /<script[^>]+src="\/[^"]+\.js"/);
      const missing = await get(`${h.url}/index.html`);
      assert.equal(missing.status, 404);
    });
  });
});

Deno.test("http: static files", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const html = new URL("../fixtures/protocol_site/html/", import.meta.url);

    await t.step("files from html/ with their content type", async () => {
      const cases: [string, RegExp][] = [
        ["/css/site.css", /^text\/css/],
        ["/app.js", /^text\/javascript/],
        ["/data.json", /^application\/json/],
        ["/index.html", /^text\/html/],
      ];
      for (const [path, type] of cases) {
        const response = await get(`${h.url}${path}`);
        assert.equal(response.status, 200, path);
        assert.match(response.headers.get("content-type") ?? "", type, path);
        assert.equal(response.body, await Deno.readTextFile(new URL(`.${path}`, html)), path);
      }
    });

    await t.step("404 for anything else", async () => {
      for (const path of ["/missing.txt", "/css/missing.css", "/css", "/css/", "/lua/main.lua"]) {
        const response = await get(`${h.url}${path}`);
        assert.equal(response.status, 404, path);
      }
    });

    await t.step("no path leaves html/ (raw request lines)", async () => {
      const escapes = [
        "/..%2f..%2fetc/passwd",
        "/..%2flua%2fmain.lua",
        "/%2e%2e/",
        "/%2e%2e/lua/main.lua",
        "/%2e%2e%2flua%2fmain.lua",
        "/../lua/main.lua",
        "/css/../../lua/main.lua",
        "/css/..%2f..%2flua%2fmain.lua",
        "/..%5clua%5cmain.lua",
        "/.%2e/lua/main.lua",
        "/%252e%252e/lua/main.lua",
        "/app.js%00.css",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
      ];
      // The raw client itself works: a plain file comes back whole.
      const control = await rawGet(h.server.port, "/app.js");
      assert.equal(control.status, 200);
      assert.ok(control.text.includes('export const fixture = "protocol";'));
      for (const path of escapes) {
        const { status, text } = await rawGet(h.server.port, path);
        assert.ok(status === 404 || status === 400, `${path}: ${status}`);
        assert.equal(text.includes("createAppVariable"), false, path);
        assert.equal(text.includes("root:"), false, path);
      }
    });
  });

  await t.step("symlinks out of html/ are not followed", async () => {
    const root = await Deno.makeTempDir({ prefix: "protocol_ws_site_" });
    try {
      await Deno.mkdir(`${root}/lua`);
      await Deno.mkdir(`${root}/html`);
      await Deno.writeTextFile(`${root}/lua/main.lua`, "session:createAppVariable({})\n");
      await Deno.writeTextFile(`${root}/secret.txt`, "TOP SECRET");
      await Deno.writeTextFile(`${root}/html/ok.txt`, "public");
      await Deno.symlink(`${root}/secret.txt`, `${root}/html/leak.txt`);
      await Deno.symlink(root, `${root}/html/up`);
      const server = await startTestServer({ dir: root });
      try {
        const url = `http://127.0.0.1:${server.port}`;
        const ok = await get(`${url}/ok.txt`);
        assert.equal(ok.status, 200);
        assert.equal(ok.body, "public");
        assert.match(ok.headers.get("content-type") ?? "", /^text\/plain/);
        for (const path of ["/leak.txt", "/up/secret.txt", "/up/lua/main.lua"]) {
          const response = await get(`${url}${path}`);
          assert.equal(response.status, 404, path);
          assert.equal(response.body.includes("TOP SECRET"), false);
        }
      } finally {
        await server.shutdown();
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
});
