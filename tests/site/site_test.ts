/**
 * Tests for src/site/site.ts: loading a site folder (SPEC 1) from a temporary directory.
 */
import assert from "node:assert/strict";
import { EMBEDDED_SITE, listFiles, loadSite, viewdefKey } from "../../src/site/site.ts";
import { BUILTIN_VIEWDEFS } from "../../src/viewdefs/builtin.ts";

async function write(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    const at = path.lastIndexOf("/");
    if (at > 0) await Deno.mkdir(`${root}/${path.slice(0, at)}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "site_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadSite", async (t) => {
  await t.step("reads lua/**.lua by relative path with / separators", async () => {
    await withTempDir(async (dir) => {
      await write(dir, {
        "lua/main.lua": "-- main",
        "lua/a/b.lua": "return 'ab'",
        "lua/a/deep/c.lua": "return 'c'",
        "lua/notes.txt": "not lua",
      });
      const site = await loadSite(dir);
      assert.deepEqual([...site.lua.keys()].sort(), ["a/b.lua", "a/deep/c.lua", "main.lua"]);
      assert.equal(site.lua.get("a/b.lua"), "return 'ab'");
      assert.equal(site.root, dir);
    });
  });
  await t.step("reads viewdefs/**.html keyed by file name without .html", async () => {
    await withTempDir(async (dir) => {
      await write(dir, {
        "lua/main.lua": "",
        "viewdefs/App.DEFAULT.html": "<template>app</template>",
        "viewdefs/contacts/Contact.list-item.html": "<template>item</template>",
        "viewdefs/readme.md": "ignored",
      });
      const site = await loadSite(dir);
      assert.equal(site.viewdefs.get("App.DEFAULT"), "<template>app</template>");
      assert.equal(site.viewdefs.get("Contact.list-item"), "<template>item</template>");
      assert.equal(site.viewdefs.get("readme"), undefined);
    });
  });
  await t.step("the built-in viewdefs are present, and a site file replaces one", async () => {
    await withTempDir(async (dir) => {
      await write(dir, {
        "lua/main.lua": "",
        "viewdefs/lua.ViewList.DEFAULT.html": "<template>mine</template>",
      });
      const site = await loadSite(dir);
      for (const key of BUILTIN_VIEWDEFS.keys()) assert.ok(site.viewdefs.get(key), key);
      assert.equal(site.viewdefs.get("lua.ViewList.DEFAULT"), "<template>mine</template>");
      assert.notEqual(
        BUILTIN_VIEWDEFS.get("lua.ViewList.DEFAULT"),
        "<template>mine</template>",
        "the built-ins themselves are not changed",
      );
    });
  });
  await t.step("html/ is noted when present", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "lua/main.lua": "", "html/index.html": "<html></html>" });
      const site = await loadSite(dir);
      assert.equal(site.htmlDir, `${dir}/html`);
    });
  });
  await t.step("no html/ means no htmlDir; an html file is not a folder", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "lua/main.lua": "" });
      assert.equal((await loadSite(dir)).htmlDir, undefined);
      await write(dir, { html: "not a folder" });
      assert.equal((await loadSite(dir)).htmlDir, undefined);
    });
  });
  await t.step("a trailing slash is dropped from the root", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "lua/main.lua": "" });
      assert.equal((await loadSite(`${dir}/`)).root, dir);
    });
  });
  await t.step("a missing folder is an error", async () => {
    await assert.rejects(loadSite("/no/such/site/folder"), /does not exist/);
  });
  await t.step("a file instead of a folder is an error", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "file.txt": "x" });
      await assert.rejects(loadSite(`${dir}/file.txt`), /does not exist/);
    });
  });
  await t.step("a site without lua/main.lua is an error", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "lua/other.lua": "" });
      await assert.rejects(loadSite(dir), /no lua\/main\.lua/);
    });
  });
  await t.step("symbolic links are not followed out of lua/", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "site/lua/main.lua": "", "outside/secret.lua": "return 'secret'" });
      await Deno.symlink(`${dir}/outside/secret.lua`, `${dir}/site/lua/secret.lua`);
      await Deno.symlink(`${dir}/outside`, `${dir}/site/lua/linked`);
      const site = await loadSite(`${dir}/site`);
      assert.deepEqual([...site.lua.keys()], ["main.lua"]);
    });
  });
  await t.step("the embedded default app loads", async () => {
    const site = await loadSite(EMBEDDED_SITE);
    assert.ok(site.lua.has("main.lua"));
    assert.equal(site.root, EMBEDDED_SITE);
  });
});

Deno.test("viewdefKey", () => {
  assert.equal(viewdefKey("App.DEFAULT.html"), "App.DEFAULT");
  assert.equal(viewdefKey("contacts/Contact.list-item.html"), "Contact.list-item");
  assert.equal(viewdefKey("a/b/lua.ViewList.DEFAULT.html"), "lua.ViewList.DEFAULT");
  assert.equal(viewdefKey("NoExtension"), "NoExtension");
});

Deno.test("listFiles", async (t) => {
  await t.step("sorted relative paths with the ending, recursively", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "b.lua": "", "a/z.lua": "", "a/y.txt": "", "c/d/e.lua": "" });
      assert.deepEqual(await listFiles(dir, ".lua"), ["a/z.lua", "b.lua", "c/d/e.lua"]);
    });
  });
  await t.step("a missing folder has no files", async () => {
    assert.deepEqual(await listFiles("/no/such/folder", ".lua"), []);
  });
});
