/**
 * Tests for src/lua/navigate.ts: field lookup through metatables, method calls, and reading and
 * writing through parsed paths (SPEC 5 and 6).
 */
import assert from "node:assert/strict";
import { toLua } from "../../src/lua/fengari.ts";
import {
  callMethod,
  getField,
  peekSegments,
  readSegments,
  writeSegments,
} from "../../src/lua/navigate.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { type LuaObject, type LuaValue, LuaVm } from "../../src/lua/vm.ts";
import { parsePath } from "../../src/variables/path.ts";
import { newStepMemo } from "../../src/lua/fengari_internals/raw_reads.ts";

const FIXTURE = `
Person = {type = "Person"}
Person.__index = Person
function Person:greet(greeting) return (greeting or "hi") .. " " .. self.name end
function Person:setName(value) self.name = value end
function Person:fail() error("method failed") end
function Person:spin() while true do end end
function Person:friends() return self._friends end
app = setmetatable({
  name = "ann",
  list = {10, 20, {deep = "x"}},
  friend = setmetatable({name = "bob"}, Person),
  _friends = {"carl"},
  flag = false,
}, Person)
Base = {inherited = "from base"}
Middle = setmetatable({}, {__index = Base})
chained = setmetatable({}, {__index = Middle})
computed = setmetatable({}, {__index = function(t, k) return "computed:" .. k end})
failing = setmetatable({}, {__index = function() error("index failed") end})
looped = {}
setmetatable(looped, {__index = looped})
locked = setmetatable({}, {__newindex = function() error("read-only table") end})
`;

function setup(): { vm: LuaVm; app: LuaObject } {
  const vm = new LuaVm({ instructionBudget: 100_000 });
  openSandbox(vm);
  vm.beginEntry();
  const result = vm.evaluate(FIXTURE);
  if (!result.ok) throw new Error(result.failure.description);
  return { vm, app: global(vm, "app") as LuaObject };
}

function global(vm: LuaVm, name: string): LuaValue {
  const field = getField(vm, vm.globals(), toLua(name));
  assert.ok(field.ok);
  return field.value;
}

function lua(vm: LuaVm, code: string): LuaValue {
  const result = vm.evaluate(code);
  if (!result.ok) assert.fail(result.failure.description);
  return result.value[0] ?? null;
}

function read(vm: LuaVm, base: LuaValue, path: string): LuaValue {
  const outcome = readSegments(vm, base, parsePath(path).segments);
  if (!outcome.ok) assert.fail(`read of ${path} failed: ${outcome.failure.description}`);
  return outcome.value;
}

Deno.test("getField", async (t) => {
  const { vm, app } = setup();
  await t.step("an own field", () => {
    assert.deepEqual(getField(vm, app, toLua("name")), { ok: true, value: "ann" });
  });
  await t.step("a false field is false, not nil", () => {
    assert.deepEqual(getField(vm, app, toLua("flag")), { ok: true, value: false });
  });
  await t.step("a field inherited through __index", () => {
    assert.deepEqual(getField(vm, app, toLua("type")), { ok: true, value: "Person" });
  });
  await t.step("a chain of __index tables", () => {
    const chained = global(vm, "chained");
    assert.deepEqual(getField(vm, chained, toLua("inherited")), { ok: true, value: "from base" });
  });
  await t.step("an __index function runs", () => {
    const computed = global(vm, "computed");
    assert.deepEqual(getField(vm, computed, toLua("k")), { ok: true, value: "computed:k" });
  });
  await t.step("an error in an __index function is a lua-error", () => {
    const outcome = getField(vm, global(vm, "failing"), toLua("x"));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.failure.code, "lua-error");
      assert.match(outcome.failure.description, /index failed/);
    }
  });
  await t.step("a looping __index chain is an error, not a hang", () => {
    const outcome = getField(vm, global(vm, "looped"), toLua("x"));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.failure.description, /chain too long/);
  });
  await t.step("a missing field is nil", () => {
    assert.deepEqual(getField(vm, app, toLua("nothing")), { ok: true, value: null });
  });
  await t.step("integer keys", () => {
    const list = global(vm, "app") as LuaObject;
    const inner = getField(vm, list, toLua("list"));
    assert.ok(inner.ok);
    assert.deepEqual(getField(vm, inner.value, 2), { ok: true, value: 20 });
  });
  await t.step("non-tables have no fields", () => {
    assert.deepEqual(getField(vm, null, toLua("x")), { ok: true, value: null });
    assert.deepEqual(getField(vm, "text", toLua("len")), { ok: true, value: null });
    assert.deepEqual(getField(vm, 5, toLua("x")), { ok: true, value: null });
    assert.deepEqual(getField(vm, global(vm, "print"), toLua("x")), { ok: true, value: null });
  });
});

Deno.test("callMethod", async (t) => {
  const { vm, app } = setup();
  await t.step("passes self and arguments and returns the first result", () => {
    assert.deepEqual(callMethod(vm, app, toLua("greet"), "greet", []), {
      ok: true,
      value: "hi ann",
    });
    assert.deepEqual(callMethod(vm, app, toLua("greet"), "greet", ["hello"]), {
      ok: true,
      value: "hello ann",
    });
  });
  await t.step("a missing method is a path-failure", () => {
    const outcome = callMethod(vm, app, toLua("absent"), "absent", []);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.failure.code, "path-failure");
      assert.match(outcome.failure.description, /absent/);
    }
  });
  await t.step("an error in the method is a lua-error", () => {
    const outcome = callMethod(vm, app, toLua("fail"), "fail", []);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.failure.code, "lua-error");
  });
  await t.step("a runaway method is a lua-timeout", () => {
    vm.beginEntry();
    const outcome = callMethod(vm, app, toLua("spin"), "spin", []);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.failure.code, "lua-timeout");
    vm.beginEntry();
  });
});

Deno.test("readSegments", async (t) => {
  const { vm, app } = setup();
  await t.step("fields", () => {
    assert.equal(read(vm, app, "name"), "ann");
    assert.equal(read(vm, app, "friend.name"), "bob");
  });
  await t.step("0-based indexes map to Lua index + 1", () => {
    assert.equal(read(vm, app, "list.0"), 10);
    assert.equal(read(vm, app, "list.1"), 20);
    assert.equal(read(vm, app, "list.2.deep"), "x");
    assert.equal(read(vm, app, "list.3"), null);
  });
  await t.step("method calls", () => {
    assert.equal(read(vm, app, "greet()"), "hi ann");
    assert.equal(read(vm, app, "friend.greet()"), "hi bob");
    assert.equal(read(vm, app, "friends().0"), "carl");
  });
  await t.step("an empty path is the base", () => {
    assert.equal(read(vm, app, ""), app);
  });
  await t.step("a nil part way gives nil, not an error", () => {
    assert.equal(read(vm, app, "missing.deeper.name"), null);
    assert.equal(read(vm, app, "missing.call()"), null);
    assert.equal(read(vm, null, "anything.at.all"), null);
  });
  await t.step("a field of a non-table is nil", () => {
    assert.equal(read(vm, app, "name.length"), null);
  });
  await t.step("a failing getter is a lua-error", () => {
    const outcome = readSegments(vm, app, parsePath("fail()").segments);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.failure.code, "lua-error");
  });
  await t.step("a missing method on a live value is a path-failure", () => {
    const outcome = readSegments(vm, app, parsePath("friend.nothing()").segments);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.failure.code, "path-failure");
  });
});

Deno.test("writeSegments", async (t) => {
  const { vm, app } = setup();
  const write = (path: string, value: LuaValue, callOnly = false) =>
    writeSegments(vm, app, parsePath(path).segments, value, callOnly);
  await t.step("assigns a field", () => {
    assert.deepEqual(write("name", "zoe"), { ok: true, value: "zoe" });
    assert.equal(lua(vm, "return app.name"), "zoe");
  });
  await t.step("assigns a nested field", () => {
    assert.equal(write("friend.name", "bea").ok, true);
    assert.equal(lua(vm, "return app.friend.name"), "bea");
  });
  await t.step("assigns an index (0-based on the wire)", () => {
    assert.equal(write("list.0", 11).ok, true);
    assert.equal(lua(vm, "return app.list[1]"), 11);
    assert.equal(write("list.3", "new").ok, true);
    assert.equal(lua(vm, "return app.list[4], #app.list"), "new");
  });
  await t.step("a number written in Lua keeps its value beyond 32 bits", () => {
    assert.equal(write("big", 2 ** 31).ok, true);
    assert.equal(lua(vm, "return app.big"), 2 ** 31);
    assert.equal(lua(vm, "return math.type(app.big)"), "float");
  });
  await t.step("assigns nil", () => {
    assert.equal(write("flag", null).ok, true);
    assert.equal(lua(vm, "return rawget(app, 'flag') == nil"), true);
  });
  await t.step("m(_) calls the method with the value", () => {
    assert.equal(write("setName(_)", "via setter").ok, true);
    assert.equal(lua(vm, "return app.name"), "via setter");
  });
  await t.step("m() calls the method with the value when written (rw getter/setter)", () => {
    assert.equal(write("setName()", "via rw").ok, true);
    assert.equal(lua(vm, "return app.name"), "via rw");
  });
  await t.step("callOnly calls m() without an argument (action)", () => {
    lua(vm, "function Person:touch(...) self.touched = select('#', ...) end");
    assert.equal(write("touch()", "ignored", true).ok, true);
    assert.equal(lua(vm, "return app.touched"), 0);
  });
  await t.step("a nil in the middle of a write path is a path-failure", () => {
    const outcome = write("missing.name", "x");
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.failure.code, "path-failure");
      assert.match(outcome.failure.description, /missing/);
    }
    assert.equal(lua(vm, "return app.missing"), null);
  });
  await t.step("a nil base is a path-failure", () => {
    const outcome = writeSegments(vm, null, parsePath("name").segments, "x", false);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.failure.code, "path-failure");
  });
  await t.step("an empty path cannot be written", () => {
    const outcome = writeSegments(vm, app, [], "x", false);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.failure.code, "path-failure");
  });
  await t.step("a field of a string cannot be set", () => {
    const outcome = write("name.length", 3);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.failure.code, "path-failure");
  });
  await t.step("a __newindex error is a lua-error", () => {
    const locked = global(vm, "locked");
    const outcome = writeSegments(vm, locked, parsePath("x").segments, 1, false);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.failure.code, "lua-error");
      assert.match(outcome.failure.description, /read-only table/);
    }
  });
  await t.step("a failing setter is a lua-error", () => {
    const outcome = write("fail(_)", 1);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.failure.code, "lua-error");
  });
  await t.step("a LuaObject value is assigned by reference", () => {
    const table = lua(vm, "return {marker = 1}");
    assert.equal(write("ref", table).ok, true);
    assert.equal(read(vm, app, "ref"), table);
  });
  await t.step("a write never replaces a function: inherited, own or in a list", () => {
    lua(vm, "app.own = function() return 1 end; app.list[2] = print");
    for (const path of ["greet", "own", "list.1", "friend.setName"]) {
      const outcome = write(path, "x");
      assert.equal(outcome.ok, false, path);
      if (!outcome.ok) {
        assert.equal(outcome.failure.code, "bad-access");
        assert.match(outcome.failure.description, /is a function; a client write cannot/);
      }
    }
    // Nothing changed: the method still runs, and the instance has no field of its own.
    assert.match(String(lua(vm, "return app:greet('hello')")), /^hello /);
    assert.equal(lua(vm, "return rawget(app, 'greet') == nil and type(app.own)"), "function");
    assert.equal(lua(vm, "return type(app.list[2])"), "function");
  });
  await t.step("data fields, nil fields and method calls are still written", () => {
    assert.equal(write("name", "zoe").ok, true);
    assert.equal(write("brandNew", 1).ok, true);
    assert.equal(write("setName(_)", "ann").ok, true);
    assert.equal(read(vm, app, "name"), "ann");
  });
});

Deno.test("reads through a step's memo see every change", async (t) => {
  // The memo keeps a table's entry for the key and the value last decoded from it: each read
  // below goes through the same parsed path (and so the same memos), as change detection does.
  const { vm } = setup();
  lua(vm, "row = setmetatable({value = 1, name = 'a'}, {__index = {kind = 'proto'}})");
  const row = global(vm, "row");
  const paths = ["value", "name", "kind"].map((text) => parsePath(text));
  const [value, name, kind] = paths.map((path) => path.segments) as [
    ReturnType<typeof parsePath>["segments"],
    ReturnType<typeof parsePath>["segments"],
    ReturnType<typeof parsePath>["segments"],
  ];
  const memo = newStepMemo();
  const both = (segments: typeof value, first = newStepMemo()): LuaValue => {
    const peeked = peekSegments(vm, row, segments, first, false);
    const outcome = readSegments(vm, row, segments);
    assert.ok(outcome.ok);
    assert.equal(peeked, outcome.value, "peek and read agree");
    return outcome.value;
  };

  await t.step("an assignment in place", () => {
    assert.equal(both(value, memo), 1);
    lua(vm, "row.value = 2");
    assert.equal(both(value, memo), 2);
    lua(vm, "row.value = 2.5");
    assert.equal(both(value, memo), 2.5);
  });

  await t.step("a key removed, then set again", () => {
    lua(vm, "row.value = nil");
    assert.equal(both(value, memo), null);
    lua(vm, "row.value = 'back'");
    assert.equal(both(value, memo), "back");
  });

  await t.step("a string changed, and the same text made again", () => {
    assert.equal(both(name), "a");
    lua(vm, "row.name = 'b'");
    assert.equal(both(name), "b");
    lua(vm, "row.name = 'a' .. ''");
    assert.equal(both(name), "a");
  });

  await t.step("an own field shadows the inherited one, and its removal uncovers it", () => {
    assert.equal(both(kind), "proto");
    lua(vm, "row.kind = 'own'");
    assert.equal(both(kind), "own");
    lua(vm, "row.kind = nil");
    assert.equal(both(kind), "proto");
    lua(vm, "getmetatable(row).__index.kind = 'changed'");
    assert.equal(both(kind), "changed");
  });

  await t.step("another table read through the same memo", () => {
    lua(vm, "other = {value = 'other'}");
    const other = global(vm, "other");
    assert.equal(peekSegments(vm, other, value, memo, false), "other");
    assert.equal(both(value, memo), "back");
  });

  await t.step("a table value replaced by another", () => {
    // As change detection does: peek, and read when peek cannot answer (an object not seen yet).
    const segments = parsePath("list.2.deep").segments;
    const app = global(vm, "app");
    const current = () =>
      peekSegments(vm, app, segments, undefined, false) ?? read(vm, app, "list.2.deep");
    assert.equal(current(), "x");
    lua(vm, "app.list[3] = {deep = 'y'}");
    assert.equal(current(), "y");
    lua(vm, "app.list[3].deep = 'z'");
    assert.equal(current(), "z");
    assert.equal(peekSegments(vm, app, segments, undefined, false), "z");
  });

  await t.step("what it cannot answer is left to readSegments", () => {
    const computed = global(vm, "computed");
    assert.equal(peekSegments(vm, computed, parsePath("x").segments, undefined, false), undefined);
    const app = global(vm, "app");
    assert.equal(
      peekSegments(vm, app, parsePath("friends()").segments, undefined, false),
      undefined,
    );
    // A nil field, when the caller wants to hear of nil fields.
    assert.equal(peekSegments(vm, app, parsePath("nothing").segments, undefined, true), undefined);
    assert.equal(peekSegments(vm, app, parsePath("nothing").segments, undefined, false), null);
  });
});
