/**
 * The embedded app loads wherever the package is (src/site/embedded_site.ts,
 * src/package_files.ts): from the disk, and by URL from a web server, as from a registry.
 */
import assert from "node:assert/strict";
import { EMBEDDED_FILES, loadEmbeddedSite } from "../../src/site/embedded_site.ts";
import { PACKAGE_ROOT, readUrlText } from "../../src/package_files.ts";
import { testApp } from "../../src/testing/app_tester.ts";

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, PACKAGE_ROOT))) {
    if (entry.isDirectory) found.push(...await filesUnder(`${dir}${entry.name}/`));
    else found.push(`${dir}${entry.name}`);
  }
  return found;
}

/** Serves the package folder over HTTP, counting requests. */
function servePackage() {
  const requested: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requested.push(path);
    try {
      return new Response(await Deno.readFile(new URL(`.${path}`, PACKAGE_ROOT)));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { server, requested, root: new URL(`http://127.0.0.1:${server.addr.port}/`) };
}

Deno.test("embedded site", async (t) => {
  await t.step("the list of files is the lua/ and viewdefs/ folders", async () => {
    const onDisk = [...await filesUnder("lua/"), ...await filesUnder("viewdefs/")];
    assert.deepEqual([...EMBEDDED_FILES].sort(), onDisk.sort());
  });

  await t.step("from the disk, the folder is loaded as a site", async () => {
    const site = await loadEmbeddedSite();
    assert.ok(site.lua.has("contacts/book.lua"));
    assert.ok(site.sources && site.sources.length > 0);
  });

  const { server, requested, root } = servePackage();
  try {
    await t.step("from an http URL, the files are fetched and the app runs", async () => {
      const site = await loadEmbeddedSite(root);
      assert.equal(
        site.lua.get("main.lua"),
        await Deno.readTextFile(new URL("lua/main.lua", PACKAGE_ROOT)),
      );
      assert.ok(requested.includes("/viewdefs/ContactBook.DEFAULT.html"));
      await using app = await testApp({ site });
      assert.equal(app.count(".contact-list .row"), 8);
    });

    await t.step("a missing file is a clear error", async () => {
      await assert.rejects(
        () => readUrlText(new URL("lua/absent.lua", root)),
        /Cannot read http:\/\/127\.0\.0\.1:\d+\/lua\/absent\.lua: HTTP 404/,
      );
    });
  } finally {
    await server.shutdown();
  }
});
