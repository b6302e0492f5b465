// The Lua app model over a real WebSocket: prototypes, lists with presenters, wrappers,
// presenter types, timers, require, the `lua` property and hot reload.
import assert from "node:assert/strict";
import {
  create,
  fixture,
  type Received,
  startTestServer,
  TestClient,
  update,
  updatesFor,
} from "../support/ws_client.ts";

const SITE = fixture("app_model");

function last(messages: Received[], varId: number): Received | undefined {
  return updatesFor(messages, varId).at(-1);
}

function lastWithValue(client: TestClient, varId: number): unknown {
  const found = updatesFor(client.messages(), varId).filter((m) => "value" in m.data);
  return found.at(-1)?.data.value;
}

async function waitForValue(client: TestClient, varId: number, expected: unknown): Promise<void> {
  await client.until(() => {
    try {
      assert.deepEqual(lastWithValue(client, varId), expected);
      return true;
    } catch {
      return false;
    }
  });
}

Deno.test("lists, presenters, selection and actions", async (t) => {
  const server = await startTestServer({ dir: SITE });
  const client = await TestClient.connect(server);
  try {
    const first = await client.request([{ type: "watch", data: { varId: 1 } }]);
    assert.equal(updatesFor(first, 1).at(-1)?.data.properties.type, "App");

    await t.step("a ViewList with an itemWrapper presents each element", async () => {
      const frame = await client.request([
        create(2, 1, { path: "contacts?wrapper=lua.ViewList&itemWrapper=ContactPresenter" }),
      ]);
      const list = last(frame, 2);
      assert.ok(list);
      assert.equal(list.data.properties.type, "lua.ViewList");
      assert.equal(list.data.properties.fallbackNamespace, "list-item");
      assert.equal(list.data.value.length, 2);
      const viewdefs = JSON.parse(frame[0]?.data.properties.viewdefs);
      assert.ok("lua.ViewList.DEFAULT" in viewdefs, "list viewdefs come with the list's type");

      const items = await client.request([
        create(3, 2, { path: "0", wrapper: "ContactPresenter" }),
        create(4, 3, { path: "item.name()", access: "r" }),
        create(5, 3, { path: "item" }),
        create(6, 3, { path: "index", access: "r" }),
      ]);
      assert.equal(last(items, 3)?.data.properties.type, "lua.ViewListItem");
      assert.equal(last(items, 4)?.data.value, "Ada");
      assert.equal(last(items, 5)?.data.properties.type, "ContactPresenter");
      assert.equal(last(items, 6)?.data.value, 0);
    });

    await t.step("a presenter method edits its element", async () => {
      const frame = await client.request([
        create(7, 3, { path: "item.rename(_)", access: "action" }),
        update(7, "Ada Lovelace"),
      ]);
      assert.equal(last(frame, 4)?.data.value, "Ada Lovelace");
    });

    await t.step("selection shows through a view and clears to an empty type", async () => {
      await client.request([create(8, 1, { path: "selected" })]);
      const selected = await client.request([
        create(9, 3, { path: "item.select()", access: "action" }),
        update(9, null),
      ]);
      assert.equal(last(selected, 8)?.data.properties.type, "Contact");
      assert.ok("Contact.DEFAULT" in JSON.parse(selected[0]?.data.properties.viewdefs));
      const cleared = await client.request([
        create(10, 1, { path: "clearSelection()", access: "action" }),
        update(10, null),
      ]);
      assert.equal(last(cleared, 8)?.data.properties.type, "");
      assert.equal(last(cleared, 8)?.data.value, null);
    });

    await t.step("a presenter's delete removes the element; positions are reused", async () => {
      const frame = await client.request([
        create(11, 3, { path: "item.delete()", access: "action" }),
        update(11, null),
      ]);
      assert.equal(last(frame, 2)?.data.value.length, 1);
      assert.equal(last(frame, 4)?.data.value, "Bob");
    });

    await t.step("adding grows the list at the end", async () => {
      const frame = await client.request([
        create(12, 1, { path: "add()", access: "action" }),
        update(12, null),
      ]);
      assert.equal(last(frame, 2)?.data.value.length, 2);
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("wrappers and presenter types", async (t) => {
  const server = await startTestServer({ dir: SITE });
  const client = await TestClient.connect(server);
  try {
    await client.request([{ type: "watch", data: { varId: 1 } }]);

    await t.step("a Lua global wrapper keeps its state across value changes", async () => {
      const frame = await client.request([
        create(2, 1, { path: "word?wrapper=Counter" }),
        create(3, 2, { path: "changes", access: "r" }),
        create(4, 2, { path: "current", access: "r" }),
        create(5, 1, { path: "word" }),
      ]);
      assert.equal(last(frame, 2)?.data.properties.type, "Counter");
      assert.equal(last(frame, 2)?.data.properties.wrapped, "yes");
      assert.equal(last(frame, 3)?.data.value, 0);
      const changed = await client.request([update(5, "bye")]);
      assert.equal(last(changed, 3)?.data.value, 1);
      assert.equal(last(changed, 4)?.data.value, "bye");
    });

    await t.step("ui.registerWrapper wins the lookup", async () => {
      const frame = await client.request([
        create(6, 1, { path: "word?wrapper=Shout" }),
        create(7, 6, { path: "text", access: "r" }),
      ]);
      assert.equal(last(frame, 6)?.data.properties.type, "Shout");
      assert.equal(last(frame, 7)?.data.value, "BYE");
    });

    await t.step("create=NAME makes a new presenter instance", async () => {
      const frame = await client.request([
        create(8, 1, { path: "editor?create=Editor" }),
        create(9, 8, { path: "draft" }),
      ]);
      assert.equal(last(frame, 8)?.data.properties.type, "Editor");
      assert.equal(last(frame, 9)?.data.value, "new");
    });

    await t.step("an unknown wrapper is reported on its variable", async () => {
      const frame = await client.request([create(10, 1, { path: "word?wrapper=Nope" })]);
      const error = frame.find((m) => m.type === "error" && m.data.varId === 10);
      assert.equal(error?.data.code, "lua-error");
      assert.match(error?.data.description, /Unknown wrapper 'Nope'/);
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("timers push changes on their own", async (t) => {
  const server = await startTestServer({ dir: SITE });
  const client = await TestClient.connect(server);
  try {
    await client.request([{ type: "watch", data: { varId: 1 } }]);
    await client.request([create(2, 1, { path: "ticks", access: "r" })]);

    await t.step("one-shot, interval and cancelled timers", async () => {
      client.send([create(3, 1, { path: "startTimers()", access: "action" }), update(3, null)]);
      await waitForValue(client, 2, 31);
      await client.quiet(80);
      assert.equal(
        lastWithValue(client, 2),
        31,
        "the interval stopped and the cancelled timer never ran",
      );
    });

    await t.step("a failing callback is sent as lua-error and the session goes on", async () => {
      client.send([create(4, 1, { path: "failingTimer()", access: "action" }), update(4, null)]);
      await client.until(() =>
        client.messages().some((m) =>
          m.type === "error" && /timer exploded/.test(m.data.description)
        )
      );
      const error = client.messages().find((m) => m.type === "error");
      assert.equal(error?.data.code, "lua-error");
      const frame = await client.request([create(5, 1, { path: "word", access: "r" })]);
      assert.equal(last(frame, 5)?.data.value, "hi");
    });

    await t.step("timers stop when the session shuts down", async () => {
      const session = server.manager.session(client.sid);
      assert.ok(session);
      client.send([update(3, null)]);
      await poll(() => session.timerCount > 0);
      await client.close();
      server.manager.shutdown();
      assert.equal(session.timerCount, 0);
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("require and the lua property", async (t) => {
  const server = await startTestServer({ dir: SITE });
  const inline = await startTestServer({ dir: SITE, inlineLua: true });
  const client = await TestClient.connect(server);
  const inlineClient = await TestClient.connect(inline);
  try {
    await client.request([{ type: "watch", data: { varId: 1 } }]);
    await inlineClient.request([{ type: "watch", data: { varId: 1 } }]);

    await t.step("require caches, survives cycles and stays in lua/", async () => {
      const frame = await client.request([
        create(2, 1, { path: "utilName()", access: "r" }),
        create(3, 1, { path: "requireEscape()", access: "r" }),
      ]);
      assert.equal(last(frame, 2)?.data.value, "util+boolean");
      assert.match(last(frame, 3)?.data.value, /^false:.*Bad module name/);
      const session = server.manager.session(client.sid);
      assert.deepEqual(session?.evaluate("return utilLoads"), { ok: true, value: [1] });
    });

    await t.step("a .lua value loads that file, then change detection runs", async () => {
      await client.request([create(4, 1, { path: "word", access: "r" })]);
      const frame = await client.request([
        { type: "update", data: { varId: 1, properties: { lua: "extra.lua" } } },
      ]);
      assert.equal(last(frame, 4)?.data.value, "loaded");
    });

    await t.step("inline code is refused without --inline-lua", async () => {
      const frame = await client.request([
        { type: "update", data: { varId: 1, properties: { lua: "app.word = 'hacked'" } } },
      ]);
      const error = frame.find((m) => m.type === "error");
      assert.equal(error?.data.code, "forbidden");
      assert.equal(error?.data.varId, 1);
    });

    await t.step("a path outside lua/ is refused", async () => {
      const frame = await client.request([
        { type: "update", data: { varId: 1, properties: { lua: "../html/x.lua" } } },
      ]);
      assert.equal(frame.find((m) => m.type === "error")?.data.code, "not-found");
    });

    await t.step("inline code runs with --inline-lua", async () => {
      await inlineClient.request([create(2, 1, { path: "word", access: "r" })]);
      const frame = await inlineClient.request([
        { type: "update", data: { varId: 1, properties: { lua: "app.word = 'inline'" } } },
      ]);
      assert.equal(last(frame, 2)?.data.value, "inline");
    });
  } finally {
    await client.close();
    await inlineClient.close();
    await server.shutdown();
    await inline.shutdown();
  }
});

Deno.test("hot reload mutates live instances and re-sends viewdefs", async (t) => {
  const dir = await Deno.makeTempDir();
  await copyDir(SITE, dir);
  const server = await startTestServer({ dir, hotload: true });
  const client = await TestClient.connect(server);
  try {
    await client.request([{ type: "watch", data: { varId: 1 } }]);
    await client.request([
      create(2, 1, { path: "contacts.0.phone", access: "r" }),
      create(3, 1, { path: "contacts.0.shout()", access: "r" }),
      create(4, 1, { path: "contacts.0.mutated", access: "r" }),
      create(5, 1, { path: "contacts.0.name", access: "r" }),
    ]);

    await t.step("a prototype gains a field and a method without reconnecting", async () => {
      const main = await Deno.readTextFile(`${dir}/lua/main.lua`);
      const edited = main.replace(
        'Contact = session:prototype("Contact", {name = "", email = EMPTY})',
        'Contact = session:prototype("Contact", {name = "", email = EMPTY, phone = "555"})\n' +
          "function Contact:shout() return self.name:upper() end\n" +
          'function Contact:mutate() self.mutated = "yes" end',
      );
      assert.notEqual(edited, main);
      const applied = server.hotload?.applied();
      await Deno.writeTextFile(`${dir}/lua/main.lua`, edited);
      await applied;
      await waitForValue(client, 2, "555");
      await waitForValue(client, 3, "ADA");
      await waitForValue(client, 4, "yes");
      assert.equal(lastWithValue(client, 5), "Ada", "state survives the reload");
    });

    await t.step("an edited viewdef is re-sent", async () => {
      const applied = server.hotload?.applied();
      await Deno.writeTextFile(
        `${dir}/viewdefs/App.DEFAULT.html`,
        "<template><p>edited</p></template>\n",
      );
      await applied;
      await client.until(() =>
        client.messages().some((m) =>
          m.data.varId === 1 && typeof m.data.properties?.viewdefs === "string" &&
          JSON.parse(m.data.properties.viewdefs)["App.DEFAULT"]?.includes("edited")
        )
      );
      assert.ok(client.socket.readyState === WebSocket.OPEN);
    });
  } finally {
    await client.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

async function poll(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Condition never held");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function copyDir(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) {
      await Deno.mkdir(`${to}/${entry.name}`, { recursive: true });
      await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}
