/**
 * Tests for src/session/backend.ts: client messages applied to the variable tree and change
 * detection (SPEC 5, 6, 8, 12), driven through a LuaSession's handleFrame.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log.ts";
import type { LuaValue } from "../../src/lua/vm.ts";
import { encodeFrame, type Outgoing } from "../../src/protocol/outgoing.ts";
import { parseMessage } from "../../src/protocol/messages.ts";
import { LuaSession } from "../../src/session/lua_session.ts";
import { ViewdefStore } from "../../src/viewdefs/store.ts";

// deno-lint-ignore no-explicit-any
type Wire = { type: string; data: any };

const MAIN = `
Person = {type = "Person"}
Person.__index = Person
function Person:greet() return "hi " .. self.name end
function Person:setName(value) self.name = value end
function Person:shout(value) self.name = string.upper(value) end
function Person:upper() return string.upper(self.name) end
function Person:bump(...) self.bumps = (self.bumps or 0) + 1 self.lastArgs = select("#", ...) end
function Person:fail() error("getter failed") end
function Person:failIf() if self.broken then error("broken getter") end return "fine" end
function Person:spin() while true do end end
function Person:sum() local n = 0 for i = 1, 3000 do n = n + i end return n end
function Person:becomeText() self.friend = "nobody" end
app = setmetatable({
  name = "ann",
  count = 1,
  list = {10, 20, 30},
  friend = setmetatable({name = "bob"}, Person),
  items = {},
}, Person)
session:createAppVariable(app)
`;

interface Harness {
  session: LuaSession;
  /** Sends messages as one frame; returns the flush as parsed wire messages. */
  send(...messages: unknown[]): Promise<Wire[]>;
  /** Runs Lua in the session (between frames, as a timer would). */
  lua(code: string): LuaValue;
}

function makeSession(options: { maxVariables?: number; budget?: number } = {}): Harness {
  const session = LuaSession.create({
    vendedId: "1",
    site: {
      root: "/in-memory",
      lua: new Map([["main.lua", MAIN]]),
      viewdefs: new ViewdefStore(
        new Map([
          ["Person.DEFAULT", "<template>person</template>"],
          ["Person.list-item", "<template>item</template>"],
          ["Other.DEFAULT", "<template>other</template>"],
        ]),
      ),
      htmlDir: undefined,
    },
    log: silentLogger,
    instructionBudget: options.budget ?? 200_000,
    maxVariables: options.maxVariables ?? 1000,
    inlineLua: false,
    openPaths: true,
  });
  const send = async (...messages: unknown[]): Promise<Wire[]> => {
    const items = messages.map((message) => parseMessage(message));
    const out: Outgoing = await session.handleFrame({ userEvent: true, items });
    return JSON.parse(encodeFrame(out));
  };
  const lua = (code: string): LuaValue => {
    const result = session.evaluate(code);
    if (!result.ok) assert.fail(result.failure.description);
    return result.value[0] ?? null;
  };
  return { session, send, lua };
}

const watch = (varId: number) => ({ type: "watch", data: { varId } });
const unwatch = (varId: number) => ({ type: "unwatch", data: { varId } });
const destroy = (varId: number) => ({ type: "destroy", data: { varId } });
const create = (
  id: number,
  parentId: number,
  properties: Record<string, string>,
  extra: Record<string, unknown> = {},
) => ({ type: "create", data: { id, parentId, properties, ...extra } });
const update = (varId: number, data: Record<string, unknown>) => ({
  type: "update",
  data: { varId, ...data },
});

function updatesOf(frame: Wire[], varId: number): Wire[] {
  return frame.filter((m) => m.type === "update" && m.data.varId === varId);
}

function only(frame: Wire[], varId: number): Wire["data"] {
  const found = updatesOf(frame, varId);
  assert.equal(found.length, 1, `one update for ${varId} in ${JSON.stringify(frame)}`);
  return found[0]?.data;
}

function errors(frame: Wire[]): Wire["data"][] {
  return frame.filter((m) => m.type === "error").map((m) => m.data);
}

function oneError(frame: Wire[], code: string, varId?: number): Wire["data"] {
  const found = errors(frame);
  assert.equal(found.length, 1, `one error in ${JSON.stringify(frame)}`);
  assert.equal(found[0].code, code);
  if (varId !== undefined) assert.equal(found[0].varId, varId);
  return found[0];
}

Deno.test("watch of the app variable", async (t) => {
  const h = makeSession();
  await t.step("sends the value, its type and the type's viewdefs first", async () => {
    const frame = await h.send(watch(1));
    assert.equal(frame[0]?.data.varId, 1);
    const viewdefs = JSON.parse(frame[0]?.data.properties.viewdefs);
    assert.deepEqual(viewdefs, {
      "Person.DEFAULT": "<template>person</template>",
      "Person.list-item": "<template>item</template>",
    });
    const app = frame[1]?.data;
    assert.ok(app && "obj" in app.value);
    assert.equal(app.properties.type, "Person");
  });
  await t.step("nothing is sent again while nothing changes", async () => {
    assert.deepEqual(await h.send(), []);
  });
  await t.step("a second watch resends value and type, but not the viewdefs", async () => {
    const frame = await h.send(watch(1));
    assert.equal(frame.length, 1);
    assert.equal(frame[0]?.data.properties.type, "Person");
    assert.ok("value" in (frame[0]?.data ?? {}));
  });
  h.session.shutdown();
});

Deno.test("create", async (t) => {
  const h = makeSession();
  await h.send(watch(1));
  await t.step("the value at the path is sent in the same flush", async () => {
    const frame = await h.send(create(2, 1, { path: "name" }));
    assert.deepEqual(only(frame, 2), { varId: 2, value: "ann" });
  });
  await t.step("an object value is sent with its type", async () => {
    const frame = await h.send(create(3, 1, { path: "friend" }));
    const data = only(frame, 3);
    assert.ok("obj" in data.value);
    assert.equal(data.properties.type, "Person");
  });
  await t.step("an array value is sent as an array without a type", async () => {
    const frame = await h.send(create(4, 1, { path: "list" }));
    assert.deepEqual(only(frame, 4), { varId: 4, value: [10, 20, 30] });
  });
  await t.step("a nil value is sent as null", async () => {
    const frame = await h.send(create(5, 1, { path: "nothing.here" }));
    assert.deepEqual(only(frame, 5), { varId: 5, value: null });
  });
  await t.step("0-based indexes", async () => {
    const frame = await h.send(create(6, 4, { path: "1" }));
    assert.deepEqual(only(frame, 6), { varId: 6, value: 20 });
  });
  await t.step("a getter call", async () => {
    const frame = await h.send(create(7, 3, { path: "greet()" }));
    assert.deepEqual(only(frame, 7), { varId: 7, value: "hi bob" });
  });
  await t.step("'..' starts from the parent's parent", async () => {
    const frame = await h.send(create(8, 7, { path: "...name" }));
    assert.deepEqual(only(frame, 8), { varId: 8, value: "bob" });
    const frame2 = await h.send(create(9, 7, { path: "../../name" }));
    assert.deepEqual(only(frame2, 9), { varId: 9, value: "ann" });
  });
  await t.step("nowatch sends nothing", async () => {
    const frame = await h.send(create(10, 1, { path: "name" }, { nowatch: true }));
    assert.deepEqual(frame, []);
    assert.ok(h.session.variable(10));
  });
  await t.step("query properties are stored; explicit properties win", async () => {
    await h.send(create(11, 1, { path: "name?hint=x&keypress&access=r", access: "rw" }));
    const variable = h.session.variable(11);
    assert.equal(variable?.properties.get("hint"), "x");
    assert.equal(variable?.properties.get("keypress"), "true");
    assert.equal(variable?.access, "rw");
    assert.equal(variable?.path?.text, "name");
  });
  await t.step("priority suffixes are stripped from property names", async () => {
    await h.send(create(12, 1, { "path:high": "name", "viewdef:low": "v" }));
    const variable = h.session.variable(12);
    assert.equal(variable?.properties.get("path"), "name");
    assert.equal(variable?.properties.get("viewdef"), "v");
    assert.ok(!variable?.properties.has("viewdef:low"));
    assert.equal(variable?.propertyPriority.get("path"), 0);
    assert.equal(variable?.propertyPriority.get("viewdef"), 2);
  });
  await t.step("a root variable from the frontend holds the value it was given", async () => {
    const frame = await h.send(create(13, 0, {}, { value: [1, 2] }));
    assert.deepEqual(only(frame, 13).value, [1, 2]);
  });
  await t.step("duplicate-id", async () => {
    const frame = await h.send(create(2, 1, { path: "count" }));
    oneError(frame, "duplicate-id", 2);
    assert.equal(h.session.variable(2)?.path?.text, "name", "nothing changed");
  });
  await t.step("an unknown parent is not-found", async () => {
    const frame = await h.send(create(20, 99, { path: "x" }));
    oneError(frame, "not-found", 20);
    assert.equal(h.session.variable(20), undefined);
  });
  await t.step("a bad path is path-failure", async () => {
    const frame = await h.send(create(21, 1, { path: "a..b" }));
    oneError(frame, "path-failure", 21);
    assert.equal(h.session.variable(21), undefined);
  });
  await t.step("an unknown access is bad-access", async () => {
    oneError(await h.send(create(22, 1, { path: "name", access: "rwx" })), "bad-access", 22);
  });
  h.session.shutdown();
});

Deno.test("access validation", async (t) => {
  const h = makeSession();
  await h.send(watch(1));
  const accepted = [
    ["greet()", "r"],
    ["greet()", "rw"],
    ["greet()", "action"],
    ["setName(_)", "w"],
    ["setName(_)", "action"],
    ["name", "r"],
    ["name", "w"],
    ["name", "rw"],
    ["name", "action"],
  ];
  const refused = [
    ["greet()", "w"],
    ["setName(_)", "r"],
    ["setName(_)", "rw"],
  ];
  let id = 2;
  for (const [path, access] of accepted) {
    await t.step(`${path} with ${access} is accepted`, async () => {
      const frame = await h.send(create(id, 1, { path: path as string, access: access as string }));
      assert.deepEqual(errors(frame), []);
      assert.equal(h.session.variable(id)?.access, access);
      id++;
    });
  }
  for (const [path, access] of refused) {
    await t.step(`${path} with ${access} is bad-access`, async () => {
      const frame = await h.send(create(id, 1, { path: path as string, access: access as string }));
      oneError(frame, "bad-access", id);
      assert.equal(h.session.variable(id), undefined);
      id++;
    });
  }
  await t.step("m(_) defaults to action, m() and fields to rw", async () => {
    await h.send(
      create(50, 1, { path: "setName(_)" }),
      create(51, 1, { path: "greet()" }),
      create(52, 1, { path: "name" }),
    );
    assert.equal(h.session.variable(50)?.access, "action");
    assert.equal(h.session.variable(51)?.access, "rw");
    assert.equal(h.session.variable(52)?.access, "rw");
  });
  await t.step("changing access later to an invalid one is refused", async () => {
    const frame = await h.send(update(51, { properties: { access: "w" } }));
    oneError(frame, "bad-access", 51);
  });
  await t.step("write-only and action variables send no value", async () => {
    const frame = await h.send(
      create(60, 1, { path: "name", access: "w" }),
      create(61, 1, { path: "bump()", access: "action" }),
    );
    assert.deepEqual(updatesOf(frame, 60), []);
    assert.deepEqual(updatesOf(frame, 61), []);
    assert.equal(h.lua("return app.bumps"), null, "an action is not called by reading");
  });
  h.session.shutdown();
});

Deno.test("update", async (t) => {
  const h = makeSession();
  await h.send(
    watch(1),
    create(2, 1, { path: "name" }),
    create(3, 1, { path: "greet()", access: "r" }),
    create(4, 1, { path: "list" }),
    create(5, 4, { path: "0" }),
  );
  await t.step("a field write is not echoed; dependent variables are updated", async () => {
    const frame = await h.send(update(2, { value: "zoe" }));
    assert.equal(h.lua("return app.name"), "zoe");
    assert.deepEqual(updatesOf(frame, 2), []);
    assert.deepEqual(only(frame, 3), { varId: 3, value: "hi zoe" });
  });
  await t.step("an index write goes to Lua index + 1", async () => {
    const frame = await h.send(update(5, { value: 11 }));
    assert.equal(h.lua("return app.list[1]"), 11);
    assert.deepEqual(updatesOf(frame, 5), []);
    assert.deepEqual(only(frame, 4).value, [11, 20, 30]);
  });
  await t.step("numbers beyond 32 bits are written exactly", async () => {
    await h.send(update(5, { value: 2 ** 31 }));
    assert.equal(h.lua("return app.list[1]"), 2 ** 31);
    assert.equal(h.lua("return math.type(app.list[1])"), "float");
    await h.send(update(5, { value: 1e15 }));
    assert.equal(h.lua("return app.list[1]"), 1e15);
  });
  await t.step("writing to an r variable is bad-access and changes nothing", async () => {
    const frame = await h.send(update(3, { value: "x" }));
    oneError(frame, "bad-access", 3);
    assert.equal(h.lua("return app.name"), "zoe");
  });
  await t.step("an action m() is called without the value", async () => {
    await h.send(create(6, 1, { path: "bump()", access: "action" }));
    await h.send(update(6, { value: "ignored" }));
    assert.equal(h.lua("return app.bumps"), 1);
    assert.equal(h.lua("return app.lastArgs"), 0);
  });
  await t.step("m(_) is called with the value", async () => {
    await h.send(create(7, 1, { path: "setName(_)" }));
    const frame = await h.send(update(7, { value: "via setter" }));
    assert.equal(h.lua("return app.name"), "via setter");
    assert.deepEqual(only(frame, 2), { varId: 2, value: "via setter" });
  });
  await t.step("a rw m() is a getter when read and a setter when written", async () => {
    h.lua(
      "function Person:nick(value) if value ~= nil then self._nick = value end return self._nick end",
    );
    h.lua("app._nick = 'first'");
    const created = await h.send(create(8, 1, { path: "nick()", access: "rw" }));
    assert.deepEqual(only(created, 8), { varId: 8, value: "first" });
    const frame = await h.send(update(8, { value: "second" }));
    assert.equal(h.lua("return app._nick"), "second");
    assert.deepEqual(updatesOf(frame, 8), [], "the written value is not echoed");
  });
  await t.step("a setter that changes what it stores sends the stored value back", async () => {
    await h.send(create(9, 1, { path: "shout(_)" }));
    const frame = await h.send(update(9, { value: "quiet" }));
    assert.deepEqual(only(frame, 2), { varId: 2, value: "QUIET" });
  });
  await t.step("a field write whose read-back differs is sent back", async () => {
    h.lua(
      "setmetatable(app.list, {__newindex = function(t, k, v) rawset(t, k, tostring(v) .. '!') end})",
    );
    await h.send(create(10, 4, { path: "3" }));
    const frame = await h.send(update(10, { value: "four" }));
    assert.deepEqual(only(frame, 10), { varId: 10, value: "four!" });
  });
  await t.step("a nil in the middle of a write path is path-failure", async () => {
    await h.send(create(11, 1, { path: "missing.name" }));
    const frame = await h.send(update(11, { value: "x" }));
    oneError(frame, "path-failure", 11);
    assert.equal(h.lua("return app.missing"), null);
  });
  await t.step("an error in a setter is lua-error", async () => {
    h.lua("function Person:refuse() error('not allowed') end");
    await h.send(create(12, 1, { path: "refuse(_)" }));
    const error = oneError(await h.send(update(12, { value: 1 })), "lua-error", 12);
    assert.match(error.description, /not allowed/);
  });
  await t.step("update of an unknown variable is not-found", async () => {
    oneError(await h.send(update(999, { value: 1 })), "not-found", 999);
  });
  await t.step("properties only: stored, not echoed", async () => {
    const frame = await h.send(update(2, { properties: { selected: "yes", "hint:high": "h" } }));
    assert.deepEqual(frame, []);
    const variable = h.session.variable(2);
    assert.equal(variable?.properties.get("selected"), "yes");
    assert.equal(variable?.properties.get("hint"), "h");
    assert.equal(variable?.propertyPriority.get("hint"), 0);
  });
  await t.step("a new path re-reads and sends the value", async () => {
    const frame = await h.send(update(2, { properties: { path: "count" } }));
    assert.deepEqual(only(frame, 2), { varId: 2, value: 1 });
  });
  await t.step("a value written through a frontend root variable is stored", async () => {
    await h.send(create(40, 0, {}, { value: "start" }));
    const frame = await h.send(update(40, { value: "changed" }));
    assert.deepEqual(updatesOf(frame, 40), []);
    assert.equal(h.session.variable(40)?.value, "changed");
  });
  h.session.shutdown();
});

Deno.test("destroy", async (t) => {
  const h = makeSession();
  await h.send(
    watch(1),
    create(2, 1, { path: "friend" }),
    create(3, 2, { path: "name" }),
    create(4, 2, { path: "greet()" }),
    create(5, 3, { path: ".." }),
    create(6, 1, { path: "name" }),
  );
  await t.step("answers a destroy for each id, children before parents", async () => {
    const frame = await h.send(destroy(2));
    const destroyed = frame.filter((m) => m.type === "destroy").map((m) => m.data.varId);
    assert.equal(destroyed.length, 4);
    assert.equal(destroyed.at(-1), 2);
    assert.ok(destroyed.indexOf(5) < destroyed.indexOf(3));
    for (const id of [2, 3, 4, 5]) assert.equal(h.session.variable(id), undefined);
    assert.ok(h.session.variable(6));
  });
  await t.step("destroyed variables are no longer updated", async () => {
    h.lua("app.friend.name = 'changed'");
    assert.deepEqual(await h.send(), []);
  });
  await t.step("destroy of an unknown id is not-found and nothing else changes", async () => {
    const frame = await h.send(destroy(2));
    oneError(frame, "not-found", 2);
    assert.equal(frame.length, 1);
    assert.ok(h.session.variable(6));
  });
  await t.step("a destroyed id can be created again", async () => {
    const frame = await h.send(create(2, 1, { path: "count" }));
    assert.deepEqual(only(frame, 2), { varId: 2, value: 1 });
  });
  h.session.shutdown();
});

Deno.test("watch and unwatch", async (t) => {
  const h = makeSession();
  await h.send(watch(1), create(2, 1, { path: "name", viewdef: "v", namespace: "NS" }));
  await t.step("watch resends the value and all properties except path", async () => {
    const frame = await h.send(watch(2));
    assert.deepEqual(only(frame, 2), {
      varId: 2,
      value: "ann",
      properties: { viewdef: "v", namespace: "NS" },
    });
  });
  await t.step("watch of an object resends its type", async () => {
    await h.send(create(3, 1, { path: "friend" }));
    const data = only(await h.send(watch(3)), 3);
    assert.equal(data.properties.type, "Person");
  });
  await t.step("watches are counted: one unwatch of two leaves it watched", async () => {
    await h.send(unwatch(2));
    h.lua("app.name = 'one'");
    assert.deepEqual(only(await h.send(), 2).value, "one");
  });
  await t.step("after the last unwatch no updates are sent", async () => {
    await h.send(unwatch(2));
    h.lua("app.name = 'two'");
    assert.deepEqual(updatesOf(await h.send(), 2), []);
  });
  await t.step("watching again sends the current value", async () => {
    const frame = await h.send(watch(2));
    assert.equal(only(frame, 2).value, "two");
  });
  await t.step("unwatch below zero stays at zero", async () => {
    await h.send(unwatch(2), unwatch(2), unwatch(2));
    assert.equal(h.session.variable(2)?.watchCount, 0);
  });
  await t.step("watch and unwatch of unknown ids are not-found", async () => {
    oneError(await h.send(watch(77)), "not-found", 77);
    oneError(await h.send(unwatch(78)), "not-found", 78);
  });
  await t.step("a variable created from Lua can be watched", async () => {
    const id = h.lua("return session:createVariable(1, {1, 2, 3}, {note = 'n'})");
    assert.equal(id, -1);
    const frame = await h.send(watch(-1));
    assert.deepEqual(only(frame, -1), { varId: -1, value: [1, 2, 3], properties: { note: "n" } });
  });
  h.session.shutdown();
});

Deno.test("change detection", async (t) => {
  const h = makeSession();
  await h.send(
    watch(1),
    create(2, 1, { path: "count" }),
    create(3, 1, { path: "friend" }),
    create(4, 3, { path: "name" }),
    create(5, 1, { path: "list" }),
  );
  await t.step("a batch that changes nothing sends nothing", async () => {
    assert.deepEqual(await h.send(), []);
  });
  await t.step("changes made by Lua are detected", async () => {
    h.lua("app.count = 2 app.list[4] = 40");
    const frame = await h.send();
    assert.deepEqual(only(frame, 2), { varId: 2, value: 2 });
    assert.deepEqual(only(frame, 5), { varId: 5, value: [10, 20, 30, 40] });
    assert.equal(updatesOf(frame, 4).length, 0);
  });
  await t.step("changes made by an action show in the same flush", async () => {
    await h.send(create(6, 1, { path: "bump()", access: "action" }));
    h.lua("function Person:bump() self.count = self.count + 10 end");
    const frame = await h.send(update(6, { value: null }));
    assert.deepEqual(only(frame, 2), { varId: 2, value: 12 });
  });
  await t.step("a replaced object is detected through its children", async () => {
    h.lua("app.friend = setmetatable({name = 'cy'}, Person)");
    const frame = await h.send();
    assert.ok("obj" in only(frame, 3).value);
    assert.deepEqual(only(frame, 4), { varId: 4, value: "cy" });
  });
  await t.step("parents are sent before children", async () => {
    h.lua("app.friend = setmetatable({name = 'dee'}, Person)");
    const frame = await h.send();
    const order = frame.map((m) => m.data.varId);
    assert.ok(order.indexOf(3) < order.indexOf(4));
  });
  await t.step("type is cleared to '' when the value stops being an object", async () => {
    h.lua("app.friend = 'nobody'");
    const frame = await h.send();
    assert.deepEqual(only(frame, 3), { varId: 3, value: "nobody", properties: { type: "" } });
    assert.deepEqual(only(frame, 4), { varId: 4, value: null });
  });
  await t.step("and set again when it becomes an object", async () => {
    h.lua("app.friend = setmetatable({name = 'eve'}, Person)");
    const data = only(await h.send(), 3);
    assert.equal(data.properties.type, "Person");
  });
  await t.step("an array that becomes an object gets a type only if it has one", async () => {
    h.lua("app.list = {a = 1}");
    const data = only(await h.send(), 5);
    assert.ok("obj" in data.value);
    assert.ok(!data.properties, "an untyped object has no type to send");
  });
  await t.step("properties set from Lua on variable 1 are sent", async () => {
    h.lua("session:createAppVariable(app, {title = 'T'})");
    const frame = await h.send();
    assert.deepEqual(only(frame, 1), { varId: 1, properties: { title: "T" } });
  });
  h.session.shutdown();
});

Deno.test("priorities", async (t) => {
  const h = makeSession();
  await h.send(watch(1));
  await t.step("updates are grouped high, medium, low", async () => {
    const frame = await h.send(
      create(2, 1, { path: "count", priority: "low" }),
      create(3, 1, { path: "name" }),
      create(4, 1, { path: "list", priority: "high" }),
      create(5, 1, { path: "friend", priority: "medium" }),
      create(6, 1, { path: "greet()", priority: "med" }),
    );
    assert.deepEqual(frame.map((m) => m.data.varId), [4, 3, 5, 6, 2]);
  });
  await t.step("a priority given with a suffix still names the priority", async () => {
    h.lua("app.count = 5 app.name = 'x'");
    await h.send(update(3, { properties: { "priority:high": "low" } }));
    h.lua("app.count = 6 app.name = 'y'");
    const frame = await h.send();
    assert.deepEqual(frame.map((m) => m.data.varId), [6, 2, 3]);
  });
  await t.step("an unknown priority is medium", async () => {
    await h.send(create(7, 1, { path: "items", priority: "urgent" }));
    h.lua("app.items = {1} app.count = 7");
    const frame = await h.send();
    assert.deepEqual(frame.map((m) => m.data.varId), [7, 2]);
  });
  h.session.shutdown();
});

Deno.test("inactive", async (t) => {
  const h = makeSession();
  await h.send(watch(1));
  await t.step("an inactive variable and its subtree send nothing", async () => {
    const frame = await h.send(
      create(2, 1, { path: "friend", inactive: "true" }),
      create(3, 2, { path: "name" }),
    );
    assert.deepEqual(frame, []);
    h.lua("app.friend.name = 'changed'");
    assert.deepEqual(await h.send(), []);
  });
  await t.step("clearing inactive sends the current values", async () => {
    const frame = await h.send(update(2, { properties: { inactive: "" } }));
    assert.equal(only(frame, 2).properties.type, "Person");
    assert.deepEqual(only(frame, 3), { varId: 3, value: "changed" });
  });
  await t.step("inactive=false counts as active", async () => {
    await h.send(update(2, { properties: { inactive: "false" } }));
    h.lua("app.friend.name = 'again'");
    assert.deepEqual(only(await h.send(), 3).value, "again");
  });
  await t.step("setting it again suppresses later changes", async () => {
    await h.send(update(2, { properties: { inactive: "1" } }));
    h.lua("app.friend.name = 'hidden'");
    assert.deepEqual(await h.send(), []);
  });
  h.session.shutdown();
});

Deno.test("Lua failures during change detection", async (t) => {
  const h = makeSession({ budget: 100_000 });
  await h.send(watch(1));
  await t.step("a failing getter is lua-error in the same flush, with null value", async () => {
    const frame = await h.send(create(2, 1, { path: "fail()" }));
    assert.deepEqual(only(frame, 2), { varId: 2, value: null });
    const error = oneError(frame, "lua-error", 2);
    assert.match(error.description, /getter failed/);
  });
  await t.step("the same failure is not reported after every batch", async () => {
    h.lua("app.count = 99");
    assert.deepEqual(errors(await h.send()), []);
  });
  await t.step("a getter that recovers and fails again is reported again", async () => {
    await h.send(create(3, 1, { path: "failIf()" }));
    h.lua("app.broken = true");
    oneError(await h.send(), "lua-error", 3);
    h.lua("app.broken = false");
    const recovered = await h.send();
    assert.deepEqual(errors(recovered), []);
    assert.equal(only(recovered, 3).value, "fine");
    h.lua("app.broken = true");
    oneError(await h.send(), "lua-error", 3);
  });
  await t.step("a runaway getter is lua-timeout and spends the frame's budget", async () => {
    h.lua("app.broken = false");
    const frame = await h.send(
      create(4, 1, { path: "spin()" }),
      create(5, 1, { path: "greet()" }),
      create(6, 1, { path: "failIf()", access: "r" }),
      create(8, 1, { path: "sum()", access: "r" }),
    );
    assert.deepEqual(errors(frame).map((e) => [e.code, e.varId]), [
      ["lua-timeout", 4],
      ["lua-timeout", 8],
    ]);
    // Getters that stay under the hook's interval still answer; a costly one finds the
    // frame's budget spent.
    assert.equal(only(frame, 5).value, "hi ann");
    assert.equal(only(frame, 6).value, "fine");
  });
  await t.step(
    "without the runaway getter, the next frame has room for the costly one",
    async () => {
      assert.equal(only(await h.send(destroy(4)), 8).value, 4501500);
    },
  );
  await t.step("later batches still work", async () => {
    h.lua("app.name = 'later'");
    assert.equal(only(await h.send(), 5).value, "hi later");
  });
  await t.step("a runaway action is lua-timeout and the session goes on", async () => {
    await h.send(create(7, 1, { path: "spin()", access: "action" }));
    const frame = await h.send(update(7, { value: null }));
    assert.ok(errors(frame).some((e) => e.code === "lua-timeout" && e.varId === 7));
    h.lua("app.name = 'after'");
    assert.equal(only(await h.send(), 5).value, "hi after");
  });
  h.session.shutdown();
});

Deno.test("viewdefs per connection", async (t) => {
  const h = makeSession();
  await t.step("a type's viewdefs come with the first variable that has it", async () => {
    const first = await h.send(watch(1));
    assert.ok(first[0]?.data.properties.viewdefs);
    const again = await h.send(create(2, 1, { path: "friend" }));
    assert.ok(again.every((m) => !m.data.properties?.viewdefs), "Person was already sent");
  });
  await t.step("a new type brings its own viewdefs in the same flush", async () => {
    h.lua("app.friend = {type = 'Other'}");
    const frame = await h.send();
    assert.deepEqual(JSON.parse(frame[0]?.data.properties.viewdefs), {
      "Other.DEFAULT": "<template>other</template>",
    });
    assert.equal(only(frame, 2).properties.type, "Other");
  });
  await t.step("a type without viewdefs sends none", async () => {
    h.lua("app.friend = {type = 'Unknown'}");
    const frame = await h.send();
    assert.ok(frame.every((m) => !m.data.properties?.viewdefs));
  });
  h.session.shutdown();
});

Deno.test("connection closed", async (t) => {
  const h = makeSession();
  await h.send(watch(1), create(2, 1, { path: "name" }), create(3, 2, { path: ".." }));
  const luaId = h.lua("return session:createVariable(1, {})");
  await t.step("frontend variables are dropped without notices; Lua's stay", async () => {
    await h.session.connectionClosed();
    assert.equal(h.session.variable(2), undefined);
    assert.equal(h.session.variable(3), undefined);
    assert.ok(h.session.variable(1));
    assert.ok(h.session.variable(luaId as number));
    assert.deepEqual(await h.send(), []);
  });
  await t.step("the Lua state survives and a new connection gets everything again", async () => {
    h.lua("app.name = 'kept'");
    const frame = await h.send(watch(1), create(2, 1, { path: "name" }));
    assert.ok(frame[0]?.data.properties.viewdefs, "viewdefs are sent again");
    assert.equal(only(frame, 2).value, "kept");
  });
  h.session.shutdown();
});

Deno.test("variable limit", async () => {
  const h = makeSession({ maxVariables: 3 });
  await h.send(watch(1), create(2, 1, { path: "name" }), create(3, 1, { path: "count" }));
  const frame = await h.send(create(4, 1, { path: "list" }));
  oneError(frame, "limit", 4);
  assert.equal(h.session.variable(4), undefined);
  await h.send(destroy(3));
  assert.deepEqual(errors(await h.send(create(4, 1, { path: "list" }))), []);
  h.session.shutdown();
});

Deno.test("frame-level errors go out in the same flush as the frame's updates", async () => {
  const h = makeSession();
  await h.send(watch(1));
  const out = await h.session.handleFrame({
    userEvent: false,
    items: [
      { error: { code: "unknown-type", description: "Unknown message type 'x'" } },
      parseMessage(create(2, 1, { path: "name" })),
    ],
  });
  const frame: Wire[] = JSON.parse(encodeFrame(out));
  assert.deepEqual(frame.map((m) => m.type), ["update", "error"]);
  h.session.shutdown();
});

Deno.test("Lua's own variables are protected from the client", async (t) => {
  const h = makeSession();
  await h.send(watch(1));
  await t.step("writing a value to the app variable is refused", async () => {
    oneError(await h.send(update(1, { value: "replaced" })), "bad-access", 1);
    assert.equal(h.lua("return session:getApp() == app"), true);
  });
  await t.step("properties of the app variable may still be set", async () => {
    const frame = await h.send(update(1, { properties: { url: "/x" } }));
    assert.deepEqual(errors(frame), []);
  });
  await t.step("destroying the app variable is refused", async () => {
    oneError(await h.send(destroy(1)), "bad-access", 1);
    const frame = await h.send(create(2, 1, { path: "name" }));
    assert.equal(only(frame, 2).value, "ann");
  });
});

Deno.test("errors under a view whose type changed are not reported", async () => {
  const h = makeSession();
  await h.send(watch(1));
  await h.send(create(2, 1, { path: "friend" }), create(3, 2, { path: "greet()" }));
  const frame = await h.send(
    create(4, 1, { path: "becomeText()", access: "action" }),
    update(4, {
      value: null,
    }),
  );
  assert.equal(only(frame, 2).properties.type, "");
  assert.deepEqual(errors(frame), [], "the client replaces those views; no error for them");
});

Deno.test("a failing wrapper is reported once, not after every batch", async () => {
  const h = makeSession();
  await h.send(watch(1));
  const first = await h.send(create(2, 1, { path: "name?wrapper=NoSuchWrapper" }));
  oneError(first, "lua-error", 2);
  const again = await h.send(create(3, 1, { path: "count" }));
  assert.deepEqual(errors(again), []);
});

Deno.test("a property's priority suffix raises the priority of its update", async () => {
  const h = makeSession();
  await h.send(watch(1));
  await h.send(
    create(2, 1, { path: "friend", priority: "low", "type:high": "" }),
    create(3, 1, { path: "count" }),
  );
  h.lua("app.count = 5 app.friend = setmetatable({name = 'cy'}, Person)");
  const plain = await h.send();
  assert.ok(
    plain.indexOf(updatesOf(plain, 3)[0] as Wire) < plain.indexOf(updatesOf(plain, 2)[0] as Wire),
    "a low variable goes after a medium one",
  );
  h.lua("app.count = 6 app.friend = 'text'");
  const typed = await h.send();
  assert.equal(only(typed, 2).properties.type, "");
  assert.ok(
    typed.indexOf(updatesOf(typed, 2)[0] as Wire) < typed.indexOf(updatesOf(typed, 3)[0] as Wire),
    "carrying a high property moves it first",
  );
});

Deno.test("a refused create leaves nothing behind", async (t) => {
  const h = makeSession();
  await h.send(watch(1));
  await t.step("create= with an unknown presenter type is an error", async () => {
    const frame = await h.send(create(5, 1, { path: "name", create: "Unknown" }));
    oneError(frame, "lua-error", 5);
    assert.equal(h.session.variable(5), undefined);
  });
  await t.step("a bad path or access adds no variable either", async () => {
    oneError(await h.send(create(6, 1, { path: "a..b" })), "path-failure", 6);
    oneError(await h.send(create(6, 1, { path: "name", access: "nope" })), "bad-access", 6);
    assert.equal(h.session.variable(6), undefined);
  });
  await t.step("a retry with the same id is not a duplicate", async () => {
    const frame = await h.send(create(5, 1, { path: "name" }));
    assert.deepEqual(errors(frame), []);
    assert.equal(only(frame, 5).value, "ann");
  });
  h.session.shutdown();
});

Deno.test("property watchers die with their variable", async (t) => {
  const h = makeSession();
  await h.send(watch(1), create(5, 1, { path: "name" }));
  h.lua(`seen = {}
         session:watchProperty(5, "selected", function(v) seen[#seen + 1] = v end)`);
  await t.step("the watcher runs while its variable lives", async () => {
    await h.send(update(5, { properties: { selected: "a" } }));
    assert.equal(h.lua("return table.concat(seen, ',')"), "a");
  });
  await t.step("a new variable with the same id does not inherit it", async () => {
    await h.send(destroy(5), create(5, 1, { path: "name" }));
    await h.send(update(5, { properties: { selected: "b" } }));
    assert.equal(h.lua("return table.concat(seen, ',')"), "a");
  });
  await t.step("watching a variable that does not exist is a Lua error", () => {
    assert.throws(() => h.lua(`session:watchProperty(99, "x", function() end)`), /does not exist/);
  });
  h.session.shutdown();
});

Deno.test("change detection's kept reads follow every change", async (t) => {
  // Reads are kept per variable between batches (the table's entry for the key, the value
  // decoded); each step changes what a kept read would have to notice.
  const h = makeSession();
  await h.send(watch(1));
  await h.send(
    create(2, 1, { path: "friend" }),
    create(3, 2, { path: "name" }),
    create(4, 1, { path: "list" }),
    create(5, 4, { path: "2" }),
    create(6, 2, { path: "../name" }),
  );
  const value = async (code: string, varId: number): Promise<unknown> => {
    h.lua(code);
    const frame = await h.send();
    return only(frame, varId).value;
  };
  await t.step("a field set in place, removed, set again", async () => {
    assert.equal(await value("app.friend.name = 'carl'", 3), "carl");
    assert.equal(await value("app.friend.name = nil", 3), null);
    assert.equal(await value("app.friend.name = 'dora'", 3), "dora");
  });
  await t.step("the parent's table replaced", async () => {
    assert.equal(await value("app.friend = setmetatable({name = 'eve'}, Person)", 3), "eve");
  });
  await t.step("an element of a list, and a long list changed in place", async () => {
    assert.equal(await value("app.list[3] = 31", 5), 31);
    assert.deepEqual(await value("for i = 4, 12 do app.list[i] = i end", 4), [
      10,
      20,
      31,
      4,
      5,
      6,
      7,
      8,
      9,
      10,
      11,
      12,
    ]);
    assert.deepEqual(await value("app.list[12] = {1}", 4), [
      10,
      20,
      31,
      4,
      5,
      6,
      7,
      8,
      9,
      10,
      11,
      [1],
    ]);
    assert.deepEqual(await value("app.list[12][1] = 2", 4), [
      10,
      20,
      31,
      4,
      5,
      6,
      7,
      8,
      9,
      10,
      11,
      [2],
    ]);
  });
  await t.step("a path changed by the client, and a '..' path", async () => {
    const frame = await h.send(update(3, { properties: { path: "greet()" } }));
    assert.equal(only(frame, 3).value, "hi eve");
    assert.equal(await value("app.name = 'gus'", 6), "gus");
    assert.equal(await value("app.friend.name = 'fay'", 3), "hi fay");
  });
});
