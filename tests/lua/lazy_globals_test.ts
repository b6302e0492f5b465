/**
 * Tests for src/lua/lazy_globals.ts, through the sandbox that uses it: the libraries made on
 * first read behave as if opened at once (with the sandbox's changes to them), from any thread,
 * and the whole-table functions see them all.
 */
import assert from "node:assert/strict";
import { luaValues, sandboxedVm } from "../support/lua_vm.ts";
import { installLazyGlobals } from "../../src/lua/lazy_globals.ts";
import { LuaVm } from "../../src/lua/vm.ts";
import { lua, toLua } from "../../src/lua/fengari.ts";

const makeVm = (budget = 100_000): LuaVm => sandboxedVm(budget);

const values = luaValues;

const LAZY = ["table", "unpack", "math", "utf8", "coroutine", "os", "package"];

Deno.test("globals made on first read", async (t) => {
  await t.step("a fresh session holds none of them until read", () => {
    const vm = makeVm();
    for (const name of LAZY) {
      assert.deepEqual(values(vm, `return rawget(_G, "${name}")`), [null], name);
    }
    assert.deepEqual(values(vm, "return math.floor(2.5), rawequal(rawget(_G, 'math'), math)"), [
      2,
      true,
    ]);
    assert.deepEqual(values(vm, `return rawget(_G, "utf8")`), [null], "only what was read");
  });

  await t.step("with the sandbox's changes: 5.1 names, integer rules, safe os", () => {
    const vm = makeVm();
    assert.deepEqual(
      values(vm, "return math.pow(2, 10), math.mod(7, 3), math.type(2^40), math.tointeger(3.0)"),
      [1024, 1, "float", 3],
    );
    assert.deepEqual(
      values(vm, "return table.getn({1, 2}), table.maxn({[7] = 1}), unpack({4, 5})"),
      [
        2,
        7,
        4,
        5,
      ],
    );
    assert.deepEqual(values(vm, "return os.exit, os.execute, type(os.time())"), [
      null,
      null,
      "number",
    ]);
    assert.deepEqual(
      values(vm, "return package.loaded.math == math, package.loaded.os == os, utf8.char(72)"),
      [true, true, "H"],
    );
  });

  await t.step("first read inside a coroutine, budget still enforced through resume", () => {
    const vm = makeVm(50_000);
    assert.deepEqual(
      values(
        vm,
        `local co = coroutine.create(function() return math.max(3, 4), coroutine.isyieldable() end)
         return coroutine.resume(co)`,
      ),
      [true, 4, true],
    );
    vm.beginEntry();
    const spent = vm.evaluate(
      "local co = coroutine.create(function() while true do end end) " +
        "return pcall(coroutine.resume, co)",
    );
    assert.equal(spent.ok, false);
    if (!spent.ok) assert.equal(spent.failure.code, "lua-timeout");
  });

  await t.step("pairs, getmetatable and setmetatable see every library", () => {
    const vm = makeVm();
    assert.deepEqual(values(vm, "return getmetatable(_G)"), [null]);
    const vm2 = makeVm();
    assert.deepEqual(
      values(
        vm2,
        `local seen = {}
         for k in pairs(_G) do seen[k] = true end
         return seen.math, seen.os, seen.utf8, seen.coroutine, seen.package`,
      ),
      [true, true, true, true, true],
    );
    const vm3 = makeVm();
    assert.deepEqual(
      values(
        vm3,
        `setmetatable(_G, {__index = function(_, k) error("undeclared " .. k) end})
         local ok, err = pcall(function() return nope end)
         return math.abs(-1), ok, err:find("undeclared nope") ~= nil`,
      ),
      [1, false, true],
    );
  });

  await t.step("each session's libraries are its own", () => {
    const one = makeVm();
    const two = makeVm();
    values(one, "math.answer = 42; string.shout = string.upper");
    assert.deepEqual(values(two, "return math.answer, string.shout"), [null, null]);
    assert.deepEqual(values(one, "return math.answer, ('x'):shout()"), [42, "X"]);
  });

  await t.step("read through the API too, and any other global is still nil", () => {
    const vm = makeVm();
    assert.equal(lua.lua_getglobal(vm.L, toLua("os")), lua.LUA_TTABLE);
    lua.lua_pop(vm.L, 1);
    assert.deepEqual(values(vm, "return undefinedName, rawget(_G, 'os') ~= nil"), [null, true]);
  });

  await t.step("a maker stopped half way is run again, whole, on the next read", () => {
    const vm = new LuaVm();
    let calls = 0;
    installLazyGlobals(vm, {
      lib: (L) => {
        calls++;
        lua.lua_createtable(L, 0, 0);
        lua.lua_setglobal(L, toLua("lib"));
        if (calls === 1) lua.lua_error((lua.lua_pushstring(L, toLua("stopped")), L));
        lua.lua_getglobal(L, toLua("lib"));
        lua.lua_pushinteger(L, 7);
        lua.lua_setfield(L, -2, toLua("done"));
        lua.lua_pop(L, 1);
      },
    });
    vm.beginEntry();
    const first = vm.evaluate("return lib");
    assert.equal(first.ok, false);
    if (!first.ok) assert.match(first.failure.description, /stopped/);
    assert.deepEqual(values(vm, "return lib.done, lib.done"), [7, 7]);
    assert.equal(calls, 2);
  });

  await t.step("a plain maker on a bare VM", () => {
    const vm = new LuaVm();
    installLazyGlobals(vm, {
      answer: (L) => {
        lua.lua_pushinteger(L, 42);
        lua.lua_setglobal(L, toLua("answer"));
      },
    });
    vm.beginEntry();
    assert.deepEqual(values(vm, "return answer, answer"), [42, 42]);
  });
});
