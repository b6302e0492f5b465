/**
 * Tests for client JSON into Lua values (`jsonToLua`, src/lua/wire_value.ts) and Lua values into
 * JSON text (`luaToJsonText` in src/lua/json.ts, behind `ui.json_encode`).
 */
import assert from "node:assert/strict";
import { lua, toLua } from "../../src/lua/fengari.ts";
import { luaToJsonText } from "../../src/lua/json.ts";
import { jsonToLua, valueJson } from "../../src/lua/wire_value.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { type LuaObject, type LuaValue, LuaVm } from "../../src/lua/vm.ts";

function makeVm(): LuaVm {
  const vm = new LuaVm({ instructionBudget: 1_000_000 });
  openSandbox(vm);
  vm.beginEntry();
  return vm;
}

/** Sets global `v` to a value and evaluates code that reads it. */
function inspect(vm: LuaVm, value: LuaValue, code: string): LuaValue[] {
  vm.push(value);
  lua.lua_setglobal(vm.L, toLua("v"));
  const result = vm.evaluate(code);
  if (!result.ok) assert.fail(result.failure.description);
  return result.value;
}

/** Encodes the value of a Lua expression with luaToJsonText. */
function encode(vm: LuaVm, expression: string): string {
  const top = lua.lua_gettop(vm.L);
  const loaded = vm.loadText(`return ${expression}`, "=expr");
  assert.equal(loaded, null);
  assert.equal(vm.pcall(0, 1), null);
  try {
    return luaToJsonText(vm, -1);
  } finally {
    lua.lua_settop(vm.L, top);
  }
}

Deno.test("jsonToLua", async (t) => {
  const vm = makeVm();
  await t.step("scalars pass through", () => {
    assert.equal(jsonToLua(vm, null), null);
    assert.equal(jsonToLua(vm, undefined), null);
    assert.equal(jsonToLua(vm, true), true);
    assert.equal(jsonToLua(vm, "text"), "text");
    assert.equal(jsonToLua(vm, 3.5), 3.5);
  });
  await t.step("arrays become 1-based sequences", () => {
    const table = jsonToLua(vm, [10, "b", true]);
    assert.deepEqual(inspect(vm, table, "return #v, v[1], v[2], v[3], v[0]"), [
      3,
      10,
      "b",
      true,
      null,
    ]);
  });
  await t.step("objects become tables with string keys", () => {
    const table = jsonToLua(vm, { name: "ann", nested: { n: 1 }, list: [1, 2] });
    assert.deepEqual(inspect(vm, table, "return v.name, v.nested.n, #v.list"), ["ann", 1, 2]);
  });
  await t.step("null elements leave holes", () => {
    const table = jsonToLua(vm, [1, null, 3]);
    assert.deepEqual(inspect(vm, table, "return v[1], v[2], v[3]"), [1, null, 3]);
  });
  await t.step("integers in int32 range are Lua integers", () => {
    const table = jsonToLua(vm, [7, 2 ** 31 - 1, -(2 ** 31)]);
    assert.deepEqual(
      inspect(vm, table, "return math.type(v[1]), math.type(v[2]), math.type(v[3])"),
      ["integer", "integer", "integer"],
    );
  });
  await t.step("numbers outside int32 become floats with the same value", () => {
    const table = jsonToLua(vm, [2 ** 31, 1e15, -(2 ** 31) - 1]);
    assert.deepEqual(
      inspect(
        vm,
        table,
        "return v[1], math.type(v[1]), v[2], math.type(v[2]), v[3], v[1] > 0",
      ),
      [2 ** 31, "float", 1e15, "float", -(2 ** 31) - 1, true],
    );
  });
  await t.step("{obj: N} naming a live object is that object once it was shown", () => {
    const result = vm.evaluate("live = {marker = 'here'}; return live");
    assert.ok(result.ok);
    const live = result.value[0] as LuaObject;
    const before = jsonToLua(vm, { obj: live.id });
    assert.notEqual(before, live, "an object never sent to the client cannot be named");
    assert.equal(valueJson(vm, live), `{"obj":${live.id}}`);
    assert.equal(jsonToLua(vm, { obj: live.id }), live);
    const inside = jsonToLua(vm, [{ obj: live.id }]);
    assert.deepEqual(inspect(vm, inside, "return v[1] == live"), [true]);
  });
  await t.step("{obj: N} naming no live object is a plain table", () => {
    const table = jsonToLua(vm, { obj: 987_654 });
    assert.deepEqual(inspect(vm, table, "return type(v), v.obj"), ["table", 987_654]);
  });
  await t.step("an object with obj and other keys is a plain table", () => {
    const table = jsonToLua(vm, { obj: 1, other: 2 });
    assert.deepEqual(inspect(vm, table, "return v.obj, v.other"), [1, 2]);
  });
  await t.step("objects nested up to the depth limit keep every level", () => {
    let json: unknown = "bottom";
    for (let i = 0; i < 60; i++) json = { inner: json };
    const table = jsonToLua(vm, json);
    const [bottom] = inspect(
      vm,
      table,
      "for _ = 1, 60 do v = v.inner end return v",
    );
    assert.equal(bottom, "bottom");
  });
  await t.step("deep nesting is cut off instead of overflowing", () => {
    let json: unknown = "bottom";
    for (let i = 0; i < 200; i++) json = [json];
    const table = jsonToLua(vm, json);
    const [depth] = inspect(
      vm,
      table,
      "local n = 0 while type(v) == 'table' do n = n + 1 v = v[1] end return n",
    );
    assert.ok(typeof depth === "number" && depth >= 20 && depth < 200);
  });
  await t.step("the stack is left balanced", () => {
    const top = lua.lua_gettop(vm.L);
    jsonToLua(vm, { a: [1, { b: 2 }] });
    assert.equal(lua.lua_gettop(vm.L), top);
  });
});

Deno.test("luaToJsonText", async (t) => {
  const vm = makeVm();
  await t.step("scalars", () => {
    assert.equal(encode(vm, "nil"), "null");
    assert.equal(encode(vm, "true"), "true");
    assert.equal(encode(vm, "42"), "42");
    assert.equal(encode(vm, "1.5"), "1.5");
    assert.equal(encode(vm, "'say \"hi\"'"), '"say \\"hi\\""');
  });
  await t.step("NaN and infinities become null", () => {
    assert.equal(encode(vm, "{0/0, 1/0, -1/0}"), "[null,null,null]");
  });
  await t.step("sequences become arrays, including the empty table", () => {
    assert.equal(encode(vm, "{1, 'two', {3}}"), '[1,"two",[3]]');
    assert.equal(encode(vm, "{}"), "[]");
  });
  await t.step("tables with string keys become objects", () => {
    assert.deepEqual(JSON.parse(encode(vm, "{a = 1, b = {c = true}}")), { a: 1, b: { c: true } });
  });
  await t.step("sparse and mixed tables become objects with string keys", () => {
    assert.deepEqual(JSON.parse(encode(vm, "{[1] = 'a', [3] = 'c'}")), { "1": "a", "3": "c" });
    assert.deepEqual(JSON.parse(encode(vm, "{'a', x = 'y'}")), { "1": "a", x: "y" });
  });
  await t.step("deeply nested tables within the limit encode", () => {
    const text = encode(
      vm,
      "(function() local t = {} local c = t for i = 1, 40 do c.next = {} c = c.next end " +
        "c.leaf = 1 return t end)()",
    );
    let value = JSON.parse(text);
    for (let i = 0; i < 40; i++) value = value.next;
    assert.deepEqual(value, { leaf: 1 });
  });
  await t.step("functions are refused", () => {
    assert.throws(() => encode(vm, "{f = print}"), /function/);
  });
  await t.step("cycles are refused", () => {
    assert.throws(
      () => encode(vm, "(function() local t = {} t.self = t return t end)()"),
      /contains itself/,
    );
  });
  await t.step("a table reached twice without a cycle is fine", () => {
    assert.equal(
      encode(vm, "(function() local s = {1} return {s, s} end)()"),
      "[[1],[1]]",
    );
  });
  await t.step("non-string, non-integer keys are refused", () => {
    assert.throws(() => encode(vm, "{[1.5] = 1}"), /key/);
    assert.throws(() => encode(vm, "{[true] = 1}"), /key/);
  });
  await t.step("nesting beyond the limit is refused", () => {
    assert.throws(
      () =>
        encode(
          vm,
          "(function() local t = {} local c = t for i = 1, 500 do c[1] = {} c = c[1] end " +
            "return t end)()",
        ),
      /nested too deeply/,
    );
  });
});
