/**
 * Tests for session snapshots and restores in src/session/lua_session.ts (with
 * src/lua/session_snapshot.ts): shared references, `session.restoring`, a restore under changed
 * prototypes, and snapshots that cannot be restored.
 */
import assert from "node:assert/strict";
import { inlineSession } from "../support/session_harness.ts";
import type { LuaValue } from "../../src/lua/vm.ts";
import type { LuaSession } from "../../src/session/lua_session.ts";

const V1 = `
Item = session:prototype("Item", {name = "", done = false, old = 0})
Book = session:prototype("Book", {title = "", items = EMPTY})
restoringSeen = session.restoring
app = Book:new({title = "groceries", items = {}})
session:createAppVariable(app, {viewdef = "main"})
`;

const V2 = `
Item = session:prototype("Item", {name = "", done = false, priority = 1})
function Item:mutate() self.migrated = (self.migrated or 0) + 1 end
Book = session:prototype("Book", {title = "", items = EMPTY})
restoringSeen = session.restoring
app = Book:new({title = "fresh", items = {}})
session:createAppVariable(app, {viewdef = "main"})
`;

function makeSession(main: string, restoreFrom?: Uint8Array): LuaSession {
  return inlineSession(main, { instructionBudget: 1_000_000, restoreFrom });
}

function run(session: LuaSession, code: string): LuaValue[] {
  const result = session.evaluate(code);
  if (!result.ok) assert.fail(result.failure.description);
  return result.value;
}

async function saved(session: LuaSession): Promise<Uint8Array> {
  const result = await session.snapshot();
  if (!result.ok) assert.fail(result.failure.description);
  return result.value.bytes;
}

Deno.test("a session restores its data, shared references and prototypes", async (t) => {
  const original = makeSession(V1);
  run(
    original,
    `local milk = Item:new({name = "milk", old = 7})
     app.items = {milk, Item:new({name = "eggs", done = true}), milk}
     app.self = app`,
  );
  const bytes = await saved(original);
  original.shutdown();
  const restored = makeSession(V1, bytes);
  await t.step("main.lua ran with session.restoring set, and it is cleared after", () => {
    assert.deepEqual(run(restored, "return restoringSeen, session.restoring"), [true, false]);
  });
  await t.step("the app object is the restored one, with its data", () => {
    assert.deepEqual(
      run(restored, "local a = session:getApp() return a.title, #a.items, a.items[2].name"),
      ["groceries", 3, "eggs"],
    );
  });
  await t.step("shared references and cycles stay shared", () => {
    assert.deepEqual(
      run(restored, "local a = session:getApp() return a.items[1] == a.items[3], a.self == a"),
      [true, true],
    );
  });
  await t.step("instances use the prototypes of the restoring code", () => {
    assert.deepEqual(
      run(
        restored,
        "local a = session:getApp() return getmetatable(a.items[1]) == Item, a.items[1].type",
      ),
      [true, "Item"],
    );
  });
  await t.step("variable 1 holds it and keeps its properties", () => {
    const app = restored.variable(1);
    assert.equal(app?.properties.get("viewdef"), "main");
    assert.deepEqual(run(restored, "return session:getApp()"), [app?.value]);
  });
  restored.shutdown();
});

Deno.test("a restore under changed prototypes mutates their instances", async () => {
  const original = makeSession(V1);
  run(original, `app.items = {Item:new({name = "milk", old = 7}), Item:new({name = "tea"})}`);
  const bytes = await saved(original);
  original.shutdown();
  const restored = makeSession(V2, bytes);
  assert.deepEqual(
    run(
      restored,
      `local a = session:getApp()
       return a.title, a.items[1].migrated, a.items[2].migrated, rawget(a.items[1], "old"),
         a.items[1].priority`,
    ),
    ["groceries", 1, 1, null, 1],
  );
  restored.shutdown();
});

Deno.test("a snapshot that cannot be restored gives a fresh session and a clear error", async (t) => {
  const original = makeSession(V1);
  const bytes = await saved(original);
  original.shutdown();
  for (
    const [name, broken] of [
      ["truncated", bytes.slice(0, bytes.length - 3)],
      ["garbage", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])],
      ["empty", new Uint8Array()],
    ] as const
  ) {
    await t.step(`${name}: fresh app state and a lua-error on the first flush`, async () => {
      const session = makeSession(V1, broken);
      assert.deepEqual(run(session, "return session:getApp().title, session.restoring"), [
        "groceries",
        false,
      ]);
      const out = await session.handleFrame({
        userEvent: true,
        items: [{ type: "watch", data: { varId: 1 } }],
      });
      assert.ok(out.errors.some((e) => /could not be restored/.test(e.description)));
      session.shutdown();
    });
  }
});

Deno.test("a snapshot marks the session clean until Lua runs again", async () => {
  const session = makeSession(V1);
  assert.equal(session.dirty, false);
  await session.handleFrame({ userEvent: true, items: [{ type: "watch", data: { varId: 1 } }] });
  assert.equal(session.dirty, true);
  await saved(session);
  assert.equal(session.dirty, false);
  await session.runTask(() => {});
  assert.equal(session.dirty, true);
  session.shutdown();
});
