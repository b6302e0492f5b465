/**
 * Tests for src/lua/api.ts: the `session` and `ui` globals and `require` (SPEC 10.1, 10.2, 10.4),
 * driven through a real LuaSession over an in-memory site.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import type { LuaValue } from "../../src/lua/vm.ts";
import { encodeFrame, type Outgoing } from "../../src/protocol/outgoing.ts";
import { type ClientMessage, parseMessage } from "../../src/protocol/messages.ts";
import type { Site } from "../../src/site/site.ts";
import { LuaSession } from "../../src/session/lua_session.ts";
import { ViewdefStore } from "../../src/viewdefs/store.ts";

interface Harness {
  session: LuaSession;
  lines: string[];
  /** Runs Lua as a new entry and returns its results; fails the test on a Lua error. */
  run(code: string): LuaValue[];
  /** Runs Lua and returns the failure description, failing the test if it succeeded. */
  fail(code: string): string;
  /** Sends client messages as one frame and returns the resulting frame as parsed JSON. */
  frame(...messages: unknown[]): Promise<WireMessage[]>;
}

interface WireMessage {
  type: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

function decode(out: Outgoing): WireMessage[] {
  return JSON.parse(encodeFrame(out));
}

function makeSession(main: string, files: Record<string, string> = {}, vendedId = "7"): Harness {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (line) => lines.push(line) }).forSession(
    vendedId,
  );
  const site: Site = {
    root: "/in-memory",
    lua: new Map([["main.lua", main], ...Object.entries(files)]),
    viewdefs: new ViewdefStore(),
    htmlDir: undefined,
  };
  const session = LuaSession.create({
    vendedId,
    site,
    log,
    instructionBudget: 1_000_000,
    maxVariables: 1000,
    inlineLua: false,
    openPaths: true,
  });
  const run = (code: string): LuaValue[] => {
    const result = session.evaluate(code);
    if (!result.ok) assert.fail(`Lua failed: ${result.failure.description}`);
    return result.value;
  };
  const fail = (code: string): string => {
    const result = session.evaluate(code);
    if (result.ok) assert.fail(`expected a Lua error from: ${code}`);
    return result.failure.description;
  };
  const frame = async (...messages: unknown[]) => {
    const items: ClientMessage[] = messages.map((message) => parseMessage(message));
    return decode(await session.handleFrame({ userEvent: true, items }));
  };
  return { session, lines, run, fail, frame };
}

const APP = `
App = {type = "App", name = "demo"}
session:createAppVariable(App, {viewdef = "main", count = 5, on = true, skipped = {}})
`;

/** The session's variables, as the assertions below read them. */
function sessionTree(session: LuaSession) {
  return {
    get: (id: number) => session.variable(id),
    get size() {
      return session.variableCount;
    },
  };
}

Deno.test("session fields", async (t) => {
  const h = makeSession(APP, {}, "12");
  await t.step("session.id is the vended id", () => {
    assert.deepEqual(h.run("return session.id"), ["12"]);
  });
  await t.step("session.reloading starts false", () => {
    assert.deepEqual(h.run("return session.reloading"), [false]);
  });
  await t.step("EMPTY is a table", () => {
    assert.deepEqual(h.run("return type(EMPTY)"), ["table"]);
  });
  await t.step("both session:f() and session.f() work", () => {
    assert.deepEqual(h.run("return session:getApp() == App, session.getApp() == App"), [
      true,
      true,
    ]);
  });
  h.session.shutdown();
});

Deno.test("session:createAppVariable and getApp", async (t) => {
  const h = makeSession(APP);
  const tree = sessionTree(h.session);
  await t.step("variable 1 holds the app object", () => {
    const app = tree.get(1);
    assert.ok(app);
    assert.deepEqual(h.run("return App"), [app.value]);
    assert.equal(app.origin, "lua");
    assert.equal(app.parent, undefined);
  });
  await t.step("scalar props become string properties; tables are skipped", () => {
    const props = Object.fromEntries(tree.get(1)?.properties ?? []);
    assert.deepEqual(props, { viewdef: "main", count: "5", on: "true" });
  });
  await t.step("getApp returns the app object", () => {
    assert.deepEqual(h.run("return session:getApp() == App"), [true]);
  });
  await t.step("createAppVariable returns 1", () => {
    assert.deepEqual(h.run("return session:createAppVariable(App)"), [1]);
  });
  await t.step("a second call re-points variable 1 and sends its new properties", async () => {
    h.run("App2 = {type = 'Other'} session:createAppVariable(App2, {viewdef = 'other'})");
    assert.equal(tree.size, 1);
    assert.deepEqual(h.run("return session:getApp() == App2"), [true]);
    const frame = await h.frame({ type: "watch", data: { varId: 1 } });
    const update = frame.find((m) =>
      m.type === "update" && m.data.varId === 1 && "value" in m.data
    );
    assert.ok(update);
    assert.equal(update.data.properties.viewdef, "other");
    assert.equal(update.data.properties.type, "Other");
  });
  h.session.shutdown();
});

Deno.test("session:createVariable and destroyVariable", async (t) => {
  const h = makeSession(APP);
  const tree = sessionTree(h.session);
  await t.step("ids are negative, starting at -1", () => {
    assert.deepEqual(
      h.run(
        "A = {name = 'a'} B = {name = 'b'} " +
          "return session:createVariable(1, A, {note = 'first'}), session:createVariable(1, B)",
      ),
      [-1, -2],
    );
    assert.equal(tree.get(-1)?.parent?.id, 1);
    assert.equal(tree.get(-1)?.properties.get("note"), "first");
    assert.equal(tree.get(-1)?.origin, "lua");
  });
  await t.step("the parent may be given by the object it holds", () => {
    assert.deepEqual(h.run("C = {} return session:createVariable(A, C)"), [-3]);
    assert.equal(tree.get(-3)?.parent?.id, -1);
  });
  await t.step("a nil parent makes a root variable", () => {
    assert.deepEqual(h.run("return session.createVariable(nil, 'plain')"), [-4]);
    assert.equal(tree.get(-4)?.parent, undefined);
    assert.equal(tree.get(-4)?.value, "plain");
  });
  await t.step("an unknown parent is a Lua error", () => {
    assert.match(h.fail("session:createVariable(999, {})"), /Parent variable not found/);
    assert.match(h.fail("session:createVariable({}, {})"), /Parent variable not found/);
  });
  await t.step("ids keep counting down and are not reused", () => {
    assert.deepEqual(h.run("return session:createVariable(1, {})"), [-5]);
  });
  await t.step("destroyVariable by id removes the subtree, children first", () => {
    h.run("session:destroyVariable(-1)");
    assert.equal(tree.get(-1), undefined);
    assert.equal(tree.get(-3), undefined);
    const out = h.session.afterBatch();
    assert.deepEqual(out.destroys, [-3, -1]);
  });
  await t.step("destroyVariable by object", () => {
    h.run("session:destroyVariable(B)");
    assert.equal(tree.get(-2), undefined);
    assert.deepEqual(h.session.afterBatch().destroys, [-2]);
  });
  await t.step("destroying an unknown variable is a catchable error", () => {
    assert.deepEqual(h.run("local ok, e = pcall(session.destroyVariable, -42) return ok, e"), [
      false,
      "Variable not found",
    ]);
    assert.match(h.fail("session:destroyVariable(B)"), /Variable not found/);
  });
  await t.step("new ids after destroys are still fresh", () => {
    assert.deepEqual(h.run("return session:createVariable(1, {})"), [-6]);
  });
  h.session.shutdown();
});

Deno.test("session:watchProperty", async (t) => {
  const h = makeSession(
    APP + `
seen = {}
session:watchProperty(1, "selected", function(value) seen[#seen + 1] = "a:" .. value end)
session:watchProperty(1, "selected", function(value) seen[#seen + 1] = "b:" .. value end)
session:watchProperty(1, "broken", function() error("watcher failed") end)
`,
  );
  await t.step("every watcher runs with the new value when the client sets it", async () => {
    await h.frame({ type: "update", data: { varId: 1, properties: { selected: "x" } } });
    assert.deepEqual(h.run("return table.concat(seen, ',')"), ["a:x,b:x"]);
  });
  await t.step("a priority suffix is stripped before matching", async () => {
    await h.frame({ type: "update", data: { varId: 1, properties: { "selected:high": "y" } } });
    assert.deepEqual(h.run("return table.concat(seen, ',')"), ["a:x,b:x,a:y,b:y"]);
  });
  await t.step("other properties do not trigger it", async () => {
    await h.frame({ type: "update", data: { varId: 1, properties: { other: "z" } } });
    assert.deepEqual(h.run("return #seen"), [4]);
  });
  await t.step("a failing watcher is reported as lua-error on that variable", async () => {
    const frame = await h.frame({
      type: "update",
      data: { varId: 1, properties: { broken: "1" } },
    });
    const error = frame.find((m) => m.type === "error");
    assert.ok(error);
    assert.equal(error.data.varId, 1);
    assert.equal(error.data.code, "lua-error");
    assert.match(error.data.description, /watcher failed/);
    assert.equal(h.session.variable(1)?.properties.get("broken"), "1");
  });
  await t.step("bad arguments are Lua errors", () => {
    assert.match(h.fail("session:watchProperty(1, 'x', 'not a function')"), /function expected/);
    assert.match(h.fail("session:watchProperty('one', 'x', print)"), /number expected/);
  });
  h.session.shutdown();
});

Deno.test("session:log, ui.log and print", async (t) => {
  const h = makeSession(APP, {}, "3");
  const lastLine = () => h.lines.at(-1) ?? "";
  await t.step("a level and a message", () => {
    h.run("session:log('warn', 'careful')");
    assert.match(lastLine(), /^WARN .*\[session 3\] lua: careful$/);
  });
  await t.step("a message alone is info", () => {
    h.run("session:log('plain message')");
    assert.match(lastLine(), /^INFO .* lua: plain message$/);
  });
  await t.step("a first word that is not a level is part of the message", () => {
    h.run("session.log('loud', 'noise')");
    assert.match(lastLine(), /^INFO .* lua: loud noise$/);
  });
  await t.step("several values are joined with spaces through tostring", () => {
    h.run("session:log('error', 'n =', 3, true, nil)");
    assert.match(lastLine(), /^ERROR .* lua: n = 3 true nil$/);
  });
  await t.step("ui.log takes the same arguments", () => {
    h.run("ui.log('debug', 'from ui')");
    assert.match(lastLine(), /^DEBUG .*\[session 3\] lua: from ui$/);
  });
  await t.step("print goes to the session's log", () => {
    h.run("print('printed', 1)");
    assert.match(lastLine(), /^INFO .*\[session 3\] lua: printed\t1$/);
  });
  h.session.shutdown();
});

Deno.test("ui.json_encode and ui.json_decode", async (t) => {
  const h = makeSession(APP);
  await t.step("encode", () => {
    assert.deepEqual(h.run("return ui.json_encode({1, 2, {a = 'b'}})"), ['[1,2,{"a":"b"}]']);
    assert.deepEqual(h.run("return ui.json_encode({}), ui.json_encode(nil), ui.json_encode(0/0)"), [
      "[]",
      "null",
      "null",
    ]);
  });
  await t.step("encode refuses functions and cycles with a catchable error", () => {
    const [ok, message] = h.run("return pcall(ui.json_encode, {f = print})");
    assert.equal(ok, false);
    assert.match(String(message), /function/);
    const [ok2] = h.run("local t = {} t.t = t return pcall(ui.json_encode, t)");
    assert.equal(ok2, false);
  });
  await t.step("encode needs an argument", () => {
    assert.deepEqual(h.run("return (pcall(ui.json_encode))"), [false]);
  });
  await t.step("decode", () => {
    assert.deepEqual(
      h.run(
        'local v = ui.json_decode(\'{"a": [1, 2.5, "x", true], "b": {"c": null}}\') ' +
          "return v.a[1], v.a[2], v.a[3], v.a[4], #v.a, type(v.b), v.b.c",
      ),
      [1, 2.5, "x", true, 4, "table", null],
    );
    assert.deepEqual(h.run("return ui.json_decode('\"s\"'), ui.json_decode('null')"), ["s", null]);
  });
  await t.step("decoded numbers beyond int32 are floats with the same value", () => {
    assert.deepEqual(
      h.run(
        "local big, int = ui.json_decode('2147483648'), ui.json_decode('3') " +
          "return big, math.type(big), math.type(int), ui.json_decode('1e15')",
      ),
      [2 ** 31, "float", "integer", 1e15],
    );
  });
  await t.step("bad input returns nil and a message", () => {
    const [value, message] = h.run("return ui.json_decode('{bad')");
    assert.equal(value, null);
    assert.match(String(message), /Invalid JSON/);
    const [value2, message2] = h.run("return ui.json_decode('')");
    assert.equal(value2, null);
    assert.equal(typeof message2, "string");
  });
  await t.step("decode needs a string", () => {
    assert.deepEqual(h.run("return (pcall(ui.json_decode))"), [false]);
    assert.deepEqual(h.run("return (pcall(ui.json_decode, {}))"), [false]);
  });
  await t.step("round trip of nested data deeper than the Lua stack's minimum", () => {
    assert.deepEqual(
      h.run(
        "local t = {} local c = t for i = 1, 40 do c.next = {i} c = c.next end " +
          "local back = ui.json_decode(ui.json_encode(t)) local n = 0 " +
          "while back.next do n = n + 1 back = back.next end return n, back[1]",
      ),
      [40, 40],
    );
  });
  await t.step("decode of deeply nested arrays", () => {
    assert.deepEqual(
      h.run(
        "local v = ui.json_decode(string.rep('[', 100) .. '7' .. string.rep(']', 100)) " +
          "local n = 0 while type(v) == 'table' do n = n + 1 v = v[1] end return n, v",
      ),
      [100, 7],
    );
  });
  await t.step("decode charges the values it builds, so the budget stops a large document", () => {
    // 100,000 values: more than the session's 1,000,000 instructions at 50 each.
    const start = performance.now();
    const message = h.fail("ui.json_decode('[' .. string.rep('0,', 99999) .. '0]')");
    assert.match(message, /instruction budget/);
    assert.ok(performance.now() - start < 2000);
    assert.deepEqual(h.run("return #ui.json_decode('[' .. string.rep('0,', 999) .. '0]')"), [1000]);
  });
  h.session.shutdown();
});

Deno.test("ui.registerPresenter and ui.registerWrapper", async (t) => {
  const h = makeSession(
    APP + `
Presenter = {type = "Presenter"}
ui.registerPresenter("P", Presenter)
Wrapper = {new = function(self, variable) return {} end}
ui.registerWrapper("W", Wrapper)
`,
  );
  await t.step("a presenter is registered by name", () => {
    assert.deepEqual(h.run("return Presenter"), [h.session.findType("P") ?? "missing"]);
  });
  await t.step("a wrapper is registered by name", () => {
    assert.deepEqual(h.run("return Wrapper"), [h.session.findType("W") ?? "missing"]);
  });
  await t.step("the name must be a string", () => {
    assert.deepEqual(h.run("return (pcall(ui.registerWrapper, {}, Wrapper))"), [false]);
  });
  h.session.shutdown();
});

Deno.test("require", async (t) => {
  const h = makeSession(APP, {
    "lib/util.lua": "loads = (loads or 0) + 1 return {name = ..., value = 42}",
    "lib/nothing.lua": "nothingLoads = (nothingLoads or 0) + 1",
    "cycle_a.lua": "local b = require('cycle_b') return {b = b}",
    "cycle_b.lua": "local a = require('cycle_a') return {a = a}",
    "failing.lua": "failingLoads = (failingLoads or 0) + 1 error('module exploded')",
    "syntax.lua": "return {",
    "dash-name.lua": "return 'dashed'",
  });
  await t.step("loads lua/a/b.lua for a.b and passes the module name", () => {
    assert.deepEqual(h.run("local u = require('lib.util') return u.value, u.name"), [
      42,
      "lib.util",
    ]);
  });
  await t.step("is cached: the module runs once and the same value comes back", () => {
    assert.deepEqual(
      h.run("return require('lib.util') == require('lib.util'), loads"),
      [true, 1],
    );
  });
  await t.step("a module returning nothing gives true, and is cached", () => {
    assert.deepEqual(h.run("return require('lib.nothing'), require('lib.nothing'), nothingLoads"), [
      true,
      true,
      1,
    ]);
  });
  await t.step("cycles are safe: the inner require gets true", () => {
    assert.deepEqual(
      h.run("local a = require('cycle_a') return type(a), type(a.b), a.b.a"),
      ["table", "table", true],
    );
  });
  await t.step("a missing module is a catchable error", () => {
    const [ok, message] = h.run("return pcall(require, 'no.such.module')");
    assert.equal(ok, false);
    assert.match(String(message), /not found/);
  });
  for (const name of ["../x", "a/b", "", ".a", "a..b", "a.", "/etc/passwd", "x y", "1abc"]) {
    await t.step(`the bad name ${JSON.stringify(name)} is refused`, () => {
      const [ok, message] = h.run(`return pcall(require, ${JSON.stringify(name)})`);
      assert.equal(ok, false);
      assert.match(String(message), /Bad module name/);
    });
  }
  await t.step("dashes are allowed in names", () => {
    assert.deepEqual(h.run("return require('dash-name')"), ["dashed"]);
  });
  await t.step("an error in the module propagates and the module is not cached", () => {
    const [ok, message] = h.run("return pcall(require, 'failing')");
    assert.equal(ok, false);
    assert.match(String(message), /module exploded/);
    h.run("pcall(require, 'failing')");
    assert.deepEqual(h.run("return failingLoads"), [2]);
  });
  await t.step("a syntax error in the module is a catchable error", () => {
    const [ok, message] = h.run("return pcall(require, 'syntax')");
    assert.equal(ok, false);
    assert.match(String(message), /syntax\.lua/);
  });
  await t.step("the name must be a string", () => {
    assert.deepEqual(h.run("return (pcall(require))"), [false]);
  });
  h.session.shutdown();
});

Deno.test("an error in main.lua is reported on the first flush and the session goes on", async () => {
  const h = makeSession(
    "App = {type = 'App'} session:createAppVariable(App) error('startup failed')",
  );
  assert.ok(h.lines.some((line) => line.startsWith("ERROR") && line.includes("startup failed")));
  const first = await h.frame({ type: "watch", data: { varId: 1 } });
  const error = first.find((m) => m.type === "error");
  assert.ok(error);
  assert.equal(error.data.code, "lua-error");
  assert.match(error.data.description, /startup failed/);
  assert.ok(first.some((m) => m.type === "update" && m.data.varId === 1));
  const second = await h.frame({ type: "watch", data: { varId: 1 } });
  assert.ok(!second.some((m) => m.type === "error"), "reported once");
  h.session.shutdown();
});
