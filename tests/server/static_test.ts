/**
 * Tests for src/server/static.ts: static files confined to a site's html/ folder.
 */
import assert from "node:assert/strict";
import { contentType, safeJoin, serveFile } from "../../src/server/static.ts";

Deno.test("contentType", async (t) => {
  const cases: [string, string][] = [
    ["index.html", "text/html; charset=utf-8"],
    ["app.js", "text/javascript; charset=utf-8"],
    ["module.mjs", "text/javascript; charset=utf-8"],
    ["site.css", "text/css; charset=utf-8"],
    ["data.json", "application/json"],
    ["logo.svg", "image/svg+xml"],
    ["photo.png", "image/png"],
    ["photo.jpg", "image/jpeg"],
    ["photo.jpeg", "image/jpeg"],
    ["anim.gif", "image/gif"],
    ["pic.webp", "image/webp"],
    ["favicon.ico", "image/x-icon"],
    ["notes.txt", "text/plain; charset=utf-8"],
    ["font.woff2", "font/woff2"],
    ["app.js.map", "application/json"],
  ];
  for (const [name, type] of cases) {
    await t.step(name, () => assert.equal(contentType(name), type));
  }
  await t.step("extensions are case-insensitive", () => {
    assert.equal(contentType("APP.JS"), "text/javascript; charset=utf-8");
    assert.equal(contentType("Index.HTML"), "text/html; charset=utf-8");
  });
  await t.step("unknown or missing extensions are octet-stream", () => {
    assert.equal(contentType("archive.tar.xz"), "application/octet-stream");
    assert.equal(contentType("Makefile"), "application/octet-stream");
    assert.equal(contentType("/dir.d/file"), "application/octet-stream");
  });
  await t.step("only the last extension counts", () => {
    assert.equal(contentType("page.html.txt"), "text/plain; charset=utf-8");
  });
  await t.step("full paths work", () => {
    assert.equal(contentType("/srv/html/css/site.css"), "text/css; charset=utf-8");
  });
});

Deno.test("safeJoin", async (t) => {
  await t.step("joins ordinary paths", () => {
    assert.equal(safeJoin("/srv/html", "/css/site.css"), "/srv/html/css/site.css");
    assert.equal(safeJoin("/srv/html", "index.html"), "/srv/html/index.html");
  });
  await t.step("collapses empty and '.' segments", () => {
    assert.equal(safeJoin("/srv/html", "//a/./b//c.txt"), "/srv/html/a/b/c.txt");
  });
  await t.step("decodes percent-encoding", () => {
    assert.equal(safeJoin("/srv/html", "/my%20file.txt"), "/srv/html/my file.txt");
  });
  const escapes = [
    "/../etc/passwd",
    "/a/../../etc/passwd",
    "/a/../b",
    "..",
    "/%2e%2e/etc/passwd",
    "/%2E%2E/secret",
    "/a/%2e%2e/%2e%2e/x",
    "/..%2fetc%2fpasswd",
    "/a%2f..%2f..%2fx",
    "/..\\etc\\passwd",
    "/a%5c..%5cx",
    "/file%00.html",
    "/%zz",
  ];
  for (const path of escapes) {
    await t.step(`refuses ${path}`, () => assert.equal(safeJoin("/srv/html", path), undefined));
  }
  await t.step("the folder itself is not a file", () => {
    assert.equal(safeJoin("/srv/html", "/"), undefined);
    assert.equal(safeJoin("/srv/html", ""), undefined);
    assert.equal(safeJoin("/srv/html", "/./"), undefined);
  });
  await t.step("names that merely start with dots are fine", () => {
    assert.equal(safeJoin("/srv/html", "/...txt"), "/srv/html/...txt");
    assert.equal(safeJoin("/srv/html", "/.well-known/x"), "/srv/html/.well-known/x");
  });
});

Deno.test("serveFile", async (t) => {
  const base = await Deno.makeTempDir({ prefix: "static_test_" });
  const root = `${base}/html`;
  try {
    await Deno.mkdir(`${root}/css`, { recursive: true });
    await Deno.mkdir(`${root}/sub`, { recursive: true });
    await Deno.writeTextFile(`${root}/index.html`, "<h1>hi</h1>");
    await Deno.writeTextFile(`${root}/css/site.css`, "body {}");
    await Deno.writeTextFile(`${root}/app.js`, "export {}");
    await Deno.writeFile(`${root}/blob.bin`, new Uint8Array([0, 1, 2, 255]));
    await Deno.writeTextFile(`${base}/secret.txt`, "top secret");
    await Deno.mkdir(`${base}/outside`);
    await Deno.writeTextFile(`${base}/outside/file.txt`, "outside");
    await Deno.symlink(`${base}/secret.txt`, `${root}/leak.txt`);
    await Deno.symlink(`${base}/outside`, `${root}/linkdir`);
    await Deno.symlink(`${root}/index.html`, `${root}/alias.html`);
    await Deno.mkdir(`${base}/html-sibling`);
    await Deno.writeTextFile(`${base}/html-sibling/x.txt`, "sibling");
    await Deno.symlink(`${base}/html-sibling/x.txt`, `${root}/sibling.txt`);

    await t.step("serves a file with its content type", async () => {
      const response = await serveFile(root, "/index.html");
      assert.ok(response);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(await response.text(), "<h1>hi</h1>");
    });
    await t.step("serves nested files and JavaScript as text/javascript", async () => {
      const css = await serveFile(root, "/css/site.css");
      assert.equal(await css?.text(), "body {}");
      const js = await serveFile(root, "/app.js");
      assert.equal(js?.headers.get("content-type"), "text/javascript; charset=utf-8");
      await js?.body?.cancel();
    });
    await t.step("serves binary content unchanged", async () => {
      const response = await serveFile(root, "/blob.bin");
      assert.ok(response);
      assert.equal(response.headers.get("content-type"), "application/octet-stream");
      assert.deepEqual(
        new Uint8Array(await response.arrayBuffer()),
        new Uint8Array([0, 1, 2, 255]),
      );
    });
    await t.step("a missing file is undefined", async () => {
      assert.equal(await serveFile(root, "/nope.html"), undefined);
    });
    await t.step("a folder is undefined", async () => {
      assert.equal(await serveFile(root, "/css"), undefined);
      assert.equal(await serveFile(root, "/"), undefined);
    });
    await t.step("'..' cannot reach outside the folder", async () => {
      assert.equal(await serveFile(root, "/../secret.txt"), undefined);
      assert.equal(await serveFile(root, "/%2e%2e/secret.txt"), undefined);
      assert.equal(await serveFile(root, "/css/../../secret.txt"), undefined);
    });
    await t.step("a symlink pointing outside the folder is refused", async () => {
      assert.equal(await serveFile(root, "/leak.txt"), undefined);
      assert.equal(await serveFile(root, "/linkdir/file.txt"), undefined);
    });
    await t.step(
      "a symlink into a sibling folder whose name starts the same is refused",
      async () => {
        assert.equal(await serveFile(root, "/sibling.txt"), undefined);
      },
    );
    await t.step("a symlink inside the folder is served", async () => {
      const response = await serveFile(root, "/alias.html");
      assert.equal(await response?.text(), "<h1>hi</h1>");
    });
    await t.step("a root given through a symlink still works", async () => {
      await Deno.symlink(root, `${base}/html-link`);
      const response = await serveFile(`${base}/html-link`, "/index.html");
      assert.equal(await response?.text(), "<h1>hi</h1>");
      assert.equal(await serveFile(`${base}/html-link`, "/leak.txt"), undefined);
    });
    await t.step("a missing root is undefined", async () => {
      assert.equal(await serveFile(`${base}/no-such-root`, "/index.html"), undefined);
    });
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
