/**
 * Tests for src/site/site.ts: loading a site folder (SPEC 1) from a temporary directory.
 */
import assert from "node:assert/strict";
import {
  EMBEDDED_SITE,
  listFiles,
  loadSite,
  readSiteLua,
  viewdefKey,
} from "../../src/site/site.ts";
import { refreshSite } from "../../src/site/refresh.ts";
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
  await t.step("symbolic links inside the site are followed, files and folders", async () => {
    await withTempDir(async (dir) => {
      await write(dir, {
        "lua/contact.lua": "-- contact",
        "apps/tasks/app.lua": "-- tasks",
        "apps/tasks/viewdefs/Task.list-item.html": "<template>task</template>",
        "apps/lib/util.lua": "return 'util'",
        "shared/Note.DEFAULT.html": "<template>note</template>",
      });
      await Deno.symlink("contact.lua", `${dir}/lua/main.lua`);
      await Deno.symlink("../apps/tasks/app.lua", `${dir}/lua/tasks.lua`);
      await Deno.symlink(`${dir}/apps/lib`, `${dir}/lua/lib`);
      await Deno.mkdir(`${dir}/viewdefs`);
      await Deno.symlink(
        "../apps/tasks/viewdefs/Task.list-item.html",
        `${dir}/viewdefs/Task.list-item.html`,
      );
      await Deno.symlink("../shared", `${dir}/viewdefs/shared`);
      const warnings: string[] = [];
      const site = await loadSite(dir, { warn: (message) => warnings.push(message) });
      assert.deepEqual([...site.lua.keys()], [
        "contact.lua",
        "lib/util.lua",
        "main.lua",
        "tasks.lua",
      ]);
      assert.equal(site.lua.get("main.lua"), "-- contact");
      assert.equal(site.lua.get("tasks.lua"), "-- tasks");
      assert.equal(site.lua.get("lib/util.lua"), "return 'util'");
      assert.equal(site.viewdefs.get("Task.list-item"), "<template>task</template>");
      assert.equal(site.viewdefs.get("Note.DEFAULT"), "<template>note</template>");
      assert.deepEqual(warnings, []);
    });
  });
  await t.step("symbolic links leaving the site are refused, one log line each", async () => {
    await withTempDir(async (dir) => {
      await write(dir, {
        "site/lua/main.lua": "",
        "outside/secret.lua": "return 'secret'",
        "outside/Secret.DEFAULT.html": "<template>secret</template>",
      });
      await Deno.symlink(`${dir}/outside/secret.lua`, `${dir}/site/lua/secret.lua`);
      await Deno.symlink(`${dir}/outside`, `${dir}/site/lua/linked`);
      await Deno.mkdir(`${dir}/site/viewdefs`);
      await Deno.symlink("../../outside/Secret.DEFAULT.html", `${dir}/site/viewdefs/S.html`);
      await Deno.symlink(`${dir}/outside`, `${dir}/site/html`);
      const warnings: string[] = [];
      const site = await loadSite(`${dir}/site`, { warn: (message) => warnings.push(message) });
      assert.deepEqual([...site.lua.keys()], ["main.lua"]);
      assert.equal(site.viewdefs.get("S"), undefined);
      assert.equal(site.htmlDir, undefined);
      assert.equal(warnings.length, 4, warnings.join("\n"));
      for (const name of ["lua/secret.lua", "lua/linked", "viewdefs/S.html", "site/html"]) {
        const lines = warnings.filter((line) => line.includes(name));
        assert.equal(lines.length, 1, `${name}: ${warnings.join("\n")}`);
        assert.match(lines[0] as string, /^Refusing .*leads out of the site/);
      }
    });
  });
  await t.step("a lua/main.lua linking out of the site is refused", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "site/lua/other.lua": "", "outside/main.lua": "" });
      await Deno.symlink(`${dir}/outside/main.lua`, `${dir}/site/lua/main.lua`);
      await assert.rejects(loadSite(`${dir}/site`), /no lua\/main\.lua/);
    });
  });
  await t.step("a site whose lua/ folder is a link inside the site loads", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "src/main.lua": "-- main" });
      await Deno.symlink("src", `${dir}/lua`);
      assert.equal((await loadSite(dir)).lua.get("main.lua"), "-- main");
    });
  });
  await t.step("a site reached through a link resolves links against its real folder", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "real/lua/a.lua": "-- a" });
      await Deno.symlink("a.lua", `${dir}/real/lua/main.lua`);
      await Deno.symlink(`${dir}/real`, `${dir}/alias`);
      const site = await loadSite(`${dir}/alias`);
      assert.equal(site.root, `${dir}/real`);
      assert.equal(site.lua.get("main.lua"), "-- a");
    });
  });
  await t.step("symbolic link loops end with a log line", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "lua/main.lua": "", "lua/a/x.lua": "" });
      await Deno.symlink("..", `${dir}/lua/a/up`);
      await Deno.symlink("self", `${dir}/lua/self`);
      await Deno.symlink("pong", `${dir}/lua/ping`);
      await Deno.symlink("ping", `${dir}/lua/pong`);
      const warnings: string[] = [];
      const site = await loadSite(dir, { warn: (message) => warnings.push(message) });
      assert.deepEqual([...site.lua.keys()], ["a/x.lua", "main.lua"]);
      assert.equal(warnings.length, 4, warnings.join("\n"));
      assert.ok(warnings.some((line) => /lua\/a\/up: a symbolic link loop/.test(line)));
      for (const name of ["lua/self", "lua/ping", "lua/pong"]) {
        assert.ok(warnings.some((line) => line.includes(name)), name);
      }
    });
  });
  await t.step("a dangling link is skipped with a log line", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "lua/main.lua": "" });
      await Deno.symlink("gone.lua", `${dir}/lua/dangling.lua`);
      const warnings: string[] = [];
      const site = await loadSite(dir, { warn: (message) => warnings.push(message) });
      assert.deepEqual([...site.lua.keys()], ["main.lua"]);
      assert.match(warnings.join("\n"), /dangling\.lua: a symbolic link to nothing/);
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
  await t.step("links stay inside the folder listed", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "list/a.lua": "", "other/b.lua": "" });
      await Deno.symlink("a.lua", `${dir}/list/c.lua`);
      await Deno.symlink("../other/b.lua", `${dir}/list/b.lua`);
      assert.deepEqual(await listFiles(`${dir}/list`, ".lua"), ["a.lua", "c.lua"]);
      assert.deepEqual(await listFiles(`${dir}/list`, ".lua", { root: dir }), [
        "a.lua",
        "b.lua",
        "c.lua",
      ]);
    });
  });
});

Deno.test("Lua files outside lua/ for require's fallback", async (t) => {
  await t.step(
    "are read by site path, skipping lua/, html/, viewdefs/ and dot folders",
    async () => {
      await withTempDir(async (dir) => {
        await write(dir, {
          "lua/main.lua": "",
          "apps/tasks/app.lua": "return 'tasks'",
          "apps/.hidden/x.lua": "",
          ".git/hooks.lua": "",
          "html/page.lua": "",
          "viewdefs/odd.lua": "",
          "top.lua": "return 'top'",
        });
        const site = await loadSite(dir);
        assert.deepEqual([...(site.rootLua?.keys() ?? [])], ["apps/tasks/app.lua", "top.lua"]);
        assert.equal(readSiteLua(site, "apps/tasks/app.lua", true), "return 'tasks'");
        assert.equal(readSiteLua(site, "apps/tasks/app.lua"), undefined, "not in lua/");
      });
    },
  );
  await t.step("a link out of the site is refused with a log line", async () => {
    await withTempDir(async (dir) => {
      await write(dir, { "site/lua/main.lua": "", "outside/secret.lua": "secret" });
      await Deno.symlink(`${dir}/outside`, `${dir}/site/apps`);
      const warnings: string[] = [];
      const site = await loadSite(`${dir}/site`, { warn: (line) => warnings.push(line) });
      assert.deepEqual([...(site.rootLua?.keys() ?? [])], []);
      assert.ok(warnings.some((line) => line.includes("leads out of the site")), warnings.join());
    });
  });
  await t.step("refreshSite re-reads an edited file and reports it", async () => {
    await withTempDir(async (dir) => {
      await write(dir, {
        "lua/main.lua": "x = 1",
        "apps/a.lua": "return 1",
        "viewdefs/A.DEFAULT.html": "<template>a</template>",
      });
      const site = await loadSite(dir);
      assert.deepEqual(refreshSite(site), []);
      await write(dir, {
        "lua/main.lua": "x = 22",
        "apps/a.lua": "return 22",
        "viewdefs/A.DEFAULT.html": "<template>b2</template>",
      });
      assert.deepEqual(refreshSite(site).sort(), [
        "apps/a.lua",
        "lua/main.lua",
        "viewdefs/A.DEFAULT",
      ]);
      assert.equal(site.lua.get("main.lua"), "x = 22");
      assert.equal(site.rootLua?.get("apps/a.lua"), "return 22");
      assert.equal(site.viewdefs.get("A.DEFAULT"), "<template>b2</template>");
      assert.deepEqual(refreshSite(site), []);
    });
  });
});
