/**
 * Tests for src/lua/lua51.ts: the Lua 5.1 library names ui-engine apps use, in the sandbox.
 */
import assert from "node:assert/strict";
import { luaValues, sandboxedVm } from "../support/lua_vm.ts";
import { type LuaValue, LuaVm } from "../../src/lua/vm.ts";

const makeVm = (budget = 100_000): LuaVm => sandboxedVm(budget);

function values(vm: LuaVm, code: string): LuaValue[] {
  vm.beginEntry();
  return luaValues(vm, code);
}

function fails(vm: LuaVm, code: string, pattern: RegExp): void {
  vm.beginEntry();
  const result = vm.evaluate(code);
  assert.equal(result.ok, false, `expected ${code} to fail`);
  if (!result.ok) assert.match(result.failure.description, pattern);
}

Deno.test("Lua 5.1 names", async (t) => {
  const vm = makeVm();
  await t.step("unpack is table.unpack", () => {
    assert.deepEqual(values(vm, "return unpack({1, 2, 3})"), [1, 2, 3]);
    assert.deepEqual(values(vm, "return unpack({1, 2, 3}, 2)"), [2, 3]);
    assert.deepEqual(values(vm, "return unpack == table.unpack"), [true]);
  });
  await t.step("unpack keeps the table charge: a huge range runs out of budget", () => {
    const small = makeVm(10_000);
    small.beginEntry();
    const result = small.evaluate("return select('#', unpack({}, 1, 1e6))");
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.failure.code, "lua-timeout");
  });
  await t.step("loadstring compiles text", () => {
    assert.deepEqual(values(vm, "return loadstring('return 2 + 3')()"), [5]);
    assert.deepEqual(values(vm, "x51 = 4 return loadstring('return x51 * 2')()"), [8]);
  });
  await t.step("loadstring returns nil and the message on a syntax error", () => {
    const [fn, message] = values(vm, "return loadstring('return +', 'bad')");
    assert.equal(fn, null);
    assert.match(String(message), /bad/);
  });
  await t.step("loadstring refuses binary chunks, as load does", () => {
    const [fn, message] = values(
      vm,
      "return loadstring(string.dump(function() return 1 end))",
    );
    assert.equal(fn, null);
    assert.match(String(message), /binary/);
  });
  await t.step("loadstring takes text only, not a reader function", () => {
    fails(vm, "return loadstring(function() return nil end)", /string expected, got function/);
    fails(vm, "return loadstring()", /bad argument #1 to 'loadstring' \(string expected/);
  });
  await t.step("table.getn is the length", () => {
    assert.deepEqual(values(vm, "return table.getn({}), table.getn({'a', 'b', 'c'})"), [0, 3]);
    fails(vm, "return table.getn('abc')", /table expected, got string/);
  });
  await t.step("table.maxn is the largest positive numeric key", () => {
    assert.deepEqual(values(vm, "return table.maxn({})"), [0]);
    assert.deepEqual(values(vm, "return table.maxn({1, 2, [10] = 'x', [2.5] = 'y', a = 1})"), [
      10,
    ]);
    assert.deepEqual(values(vm, "return table.maxn({[-3] = 1, [0.5] = 2})"), [0.5]);
    fails(vm, "return table.maxn(nil)", /table expected, got no value/);
  });
  await t.step("math.pow is ^", () => {
    assert.deepEqual(values(vm, "return math.pow(2, 10), math.pow(9, 0.5)"), [1024, 3]);
    fails(vm, "return math.pow('x', 2)", /bad argument #1 to 'pow' \(number expected/);
  });
  await t.step("math.mod is math.fmod (the sign follows the dividend)", () => {
    assert.deepEqual(values(vm, "return math.mod(7, 3), math.mod(-7, 3), math.mod(5.5, 2)"), [
      1,
      -1,
      1.5,
    ]);
  });
  await t.step("string.gfind is string.gmatch", () => {
    assert.deepEqual(
      values(
        vm,
        "local t = {} for w in string.gfind('one two', '%a+') do t[#t + 1] = w end " +
          "return t[1], t[2], string.gfind == string.gmatch",
      ),
      ["one", "two", true],
    );
  });
  await t.step("package.loaded holds the opened libraries, not the full os", () => {
    assert.deepEqual(
      values(
        vm,
        "return package.loaded.string == string, package.loaded._G == _G, " +
          "package.loaded.os == os, package.loaded.package == package, package.loaded.io",
      ),
      [true, true, true, true, null],
    );
    assert.deepEqual(values(vm, "return package.loaded.os.exit, package.loaded.os.execute"), [
      null,
      null,
    ]);
  });
  await t.step("package.loaded is an ordinary table apps may read and fill", () => {
    assert.deepEqual(
      values(vm, "package.loaded.mine = {v = 1} return package.loaded.mine.v"),
      [1],
    );
  });
});
