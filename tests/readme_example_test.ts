// The README's "Write your first app" runs as written.
import assert from "node:assert/strict";
import { create, startTestServer, TestClient, update, updatesFor } from "./support/ws_client.ts";

async function firstAppFiles(): Promise<{ lua: string; html: string; type: string }> {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("### Write your first app"));
  const lua = /```lua\n([\s\S]*?)```/.exec(section)?.[1];
  const html = /```html\n([\s\S]*?)```/.exec(section)?.[1];
  const viewdef = /`viewdefs\/([A-Za-z.]+)\.html`/.exec(section)?.[1];
  assert.ok(lua && html && viewdef, "the README shows main.lua and a viewdef");
  return { lua, html, type: viewdef };
}

Deno.test("the README's first app works", async () => {
  const { lua, html, type } = await firstAppFiles();
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/lua`);
  await Deno.mkdir(`${dir}/viewdefs`);
  await Deno.writeTextFile(`${dir}/lua/main.lua`, lua);
  await Deno.writeTextFile(`${dir}/viewdefs/${type}.html`, html);
  const server = await startTestServer({ dir });
  const client = await TestClient.connect(server);
  try {
    const first = await client.request([{ type: "watch", data: { varId: 1 } }]);
    const viewdefs = JSON.parse(first[0]?.data.properties.viewdefs);
    assert.ok(type in viewdefs);
    await client.request([
      create(2, 1, { path: "step?keypress" }),
      create(3, 1, { path: "add()", access: "action" }),
      create(4, 1, { path: "label()", access: "r" }),
    ]);
    const frame = await client.request([update(2, "5"), update(3, null)]);
    assert.equal(updatesFor(frame, 4).at(-1)?.data.value, "Clicked up to 5");
  } finally {
    await client.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
