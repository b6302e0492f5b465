/**
 * Tests for src/lua/vm.ts: the fengari state, marshalling between Lua and JavaScript, object ids,
 * protected calls, text-only loading and the instruction budget.
 */
import assert from "node:assert/strict";
import { luaValues, sandboxedVm } from "../support/lua_vm.ts";
import { lua, toLua } from "../../src/lua/fengari.ts";
import { guard } from "../../src/lua/guard.ts";
import { type LuaObject, type LuaValue, LuaVm } from "../../src/lua/vm.ts";

const sandboxed = (budget = 200_000): LuaVm => sandboxedVm(budget);

const values = luaValues;

function first(vm: LuaVm, code: string): LuaValue {
  return values(vm, code)[0] ?? null;
}

function object(value: LuaValue): LuaObject {
  assert.ok(value !== null && typeof value === "object", `expected a Lua object, got ${value}`);
  return value;
}

/** Pushes a JavaScript value into Lua as global `x` and reads back `x` and `math.type(x)`. */
function roundTrip(vm: LuaVm, value: LuaValue): [LuaValue, LuaValue] {
  vm.push(value);
  lua.lua_setglobal(vm.L, toLua("x"));
  const [back, kind] = values(vm, "return x, math.type(x)");
  return [back ?? null, kind ?? null];
}

Deno.test("LuaVm reads Lua values as JavaScript values", async (t) => {
  const vm = sandboxed();
  await t.step("nil, booleans, numbers and strings", () => {
    assert.deepEqual(values(vm, "return nil, true, false, 42, -1.5, 'héllo'"), [
      null,
      true,
      false,
      42,
      -1.5,
      "héllo",
    ]);
  });
  await t.step("reference values become LuaObjects of the right kind", () => {
    const [table, fn, thread] = values(vm, "return {}, print, coroutine.create(function() end)");
    assert.equal(object(table ?? null).kind, "table");
    assert.equal(object(fn ?? null).kind, "function");
    assert.equal(object(thread ?? null).kind, "thread");
  });
  await t.step("evaluate leaves the stack as it found it", () => {
    const top = lua.lua_gettop(vm.L);
    values(vm, "return 1, 2, 3");
    vm.evaluate("error('x')");
    vm.evaluate("syntax error here");
    assert.equal(lua.lua_gettop(vm.L), top);
  });
  await t.step("read of an absent stack slot is null", () => {
    assert.equal(vm.read(lua.lua_gettop(vm.L) + 5), null);
  });
});

Deno.test("LuaVm object ids", async (t) => {
  const vm = sandboxed();
  await t.step("the same Lua object always gives the same LuaObject", () => {
    const [a, b] = values(vm, "shared = {}; return shared, shared");
    assert.equal(a, b);
    assert.equal(object(first(vm, "return shared")).id, object(a ?? null).id);
  });
  await t.step("different objects get distinct positive ids", () => {
    const objects = values(vm, "return {}, {}, {}, print, function() end").map((v) => object(v));
    const ids = objects.map((o) => o.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(Number.isInteger(id) && id > 0);
  });
  await t.step("new objects always get new ids, never an earlier one", () => {
    const seen = new Set<number>();
    let last = 0;
    for (let i = 0; i < 50; i++) {
      const id = object(first(vm, "return {}")).id;
      assert.ok(!seen.has(id), `id ${id} reused`);
      assert.ok(id > last);
      seen.add(id);
      last = id;
    }
  });
  await t.step("objectById finds a live object once it was exposed", () => {
    const table = object(first(vm, "return {marker = 7}"));
    assert.equal(vm.objectById(table.id), undefined);
    vm.expose(table);
    assert.equal(vm.objectById(table.id), table);
    assert.equal(vm.objectById(999_999), undefined);
  });
  await t.step("globals() is the global table", () => {
    const globals = vm.globals();
    assert.equal(globals, object(first(vm, "return _G")));
  });
  await t.step("a pushed LuaObject is the same Lua object", () => {
    const table = object(first(vm, "return {}"));
    vm.push(table);
    lua.lua_setglobal(vm.L, toLua("pushed"));
    assert.equal(first(vm, "return pushed"), table);
  });
});

Deno.test("LuaVm pushes numbers without wrapping to 32 bits", async (t) => {
  const vm = sandboxed();
  await t.step("int32 values become Lua integers", () => {
    assert.deepEqual(roundTrip(vm, 0), [0, "integer"]);
    assert.deepEqual(roundTrip(vm, 2 ** 31 - 1), [2 ** 31 - 1, "integer"]);
    assert.deepEqual(roundTrip(vm, -(2 ** 31)), [-(2 ** 31), "integer"]);
  });
  await t.step("2^31 crosses as a float and reads back equal", () => {
    assert.deepEqual(roundTrip(vm, 2 ** 31), [2 ** 31, "float"]);
  });
  await t.step("1e15 crosses as a float and reads back equal", () => {
    assert.deepEqual(roundTrip(vm, 1e15), [1e15, "float"]);
  });
  await t.step("values below int32 and 2^53 stay exact", () => {
    assert.deepEqual(roundTrip(vm, -(2 ** 31) - 1), [-(2 ** 31) - 1, "float"]);
    assert.deepEqual(roundTrip(vm, 2 ** 53), [2 ** 53, "float"]);
  });
  await t.step("a big value keeps its sign and magnitude in Lua arithmetic", () => {
    vm.push(2 ** 31);
    lua.lua_setglobal(vm.L, toLua("big"));
    assert.deepEqual(values(vm, "return big > 0, big + 1, big * 2"), [true, 2 ** 31 + 1, 2 ** 32]);
  });
  await t.step("fractions are floats", () => {
    assert.deepEqual(roundTrip(vm, 0.25), [0.25, "float"]);
  });
  await t.step("booleans, strings and nil", () => {
    assert.deepEqual(roundTrip(vm, true), [true, null]);
    assert.deepEqual(roundTrip(vm, "ü"), ["ü", null]);
    assert.deepEqual(roundTrip(vm, null), [null, null]);
  });
});

Deno.test("LuaVm protected calls", async (t) => {
  const vm = sandboxed();
  await t.step("a Lua error is a lua-error with message and traceback", () => {
    const result = vm.evaluate("local function inner() error('kaput') end inner()", "=chunk");
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.failure.code, "lua-error");
    assert.match(result.failure.description, /kaput/);
    assert.match(result.failure.description, /stack traceback/);
  });
  await t.step("a non-string error object is described", () => {
    const result = vm.evaluate("error({})");
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.failure.code, "lua-error");
  });
  await t.step("a syntax error is reported by loadText without running anything", () => {
    const top = lua.lua_gettop(vm.L);
    const failure = vm.loadText("ran = true; this is not lua", "=bad");
    assert.equal(failure?.code, "lua-error");
    assert.match(failure?.description ?? "", /bad:1/);
    assert.equal(lua.lua_gettop(vm.L), top);
    assert.equal(first(vm, "return ran"), null);
  });
  await t.step("loadText refuses a binary chunk", () => {
    const dumped = first(vm, "return string.dump(function() return 1 end)");
    assert.equal(typeof dumped, "string");
    const failure = vm.loadText(dumped as string, "=binary");
    assert.equal(failure?.code, "lua-error");
    assert.match(failure?.description ?? "", /binary/);
  });
  await t.step("call passes arguments and returns the requested results", () => {
    const fn = first(vm, "return function(a, b) return a + b, a * b, 'extra' end");
    const result = vm.call(fn, [3, 4], 2);
    assert.deepEqual(result, { ok: true, value: [7, 12] });
  });
  await t.step("call of a failing function returns the failure", () => {
    const fn = first(vm, "return function() error('nope') end");
    const result = vm.call(fn, [], 1);
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.failure.description, /nope/);
  });
  await t.step("call of a non-function fails cleanly", () => {
    const top = lua.lua_gettop(vm.L);
    const result = vm.call(5, [], 1);
    assert.equal(result.ok, false);
    assert.equal(lua.lua_gettop(vm.L), top);
  });
});

Deno.test("LuaVm bridge functions", async (t) => {
  const vm = sandboxed();
  await t.step("a JavaScript exception becomes a Lua error catchable by pcall", () => {
    vm.setGlobalFunction("explode", () => {
      throw new Error("JS side failed");
    });
    assert.deepEqual(
      values(vm, "local ok, e = pcall(explode); return ok, e:match('JS side failed')"),
      [
        false,
        "JS side failed",
      ],
    );
    assert.deepEqual(values(vm, "return 'still alive'"), ["still alive"]);
  });
  await t.step("an uncaught JavaScript exception is a lua-error, not a thrown exception", () => {
    const result = vm.evaluate("explode()");
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.failure.code, "lua-error");
      assert.match(result.failure.description, /JS side failed/);
    }
  });
  await t.step("a bridge function reads arguments and returns results", () => {
    vm.setGlobalFunction("double", (L) => {
      lua.lua_pushnumber(L, lua.lua_tonumber(L, 1) * 2);
      return 1;
    });
    assert.equal(first(vm, "return double(21)"), 42);
  });
  await t.step("guard lets Lua errors raised inside through unchanged", () => {
    vm.setGlobalFunction("luaerr", (L) => {
      lua.lua_pushstring(L, toLua("raised from Lua API"));
      return lua.lua_error(L);
    });
    assert.deepEqual(values(vm, "return pcall(luaerr)"), [false, "raised from Lua API"]);
  });
  await t.step("guard returns the wrapped function's result count", () => {
    const wrapped = guard((L) => {
      lua.lua_pushinteger(L, 1);
      lua.lua_pushinteger(L, 2);
      return 2;
    });
    lua.lua_pushcfunction(vm.L, wrapped);
    lua.lua_setglobal(vm.L, toLua("two"));
    assert.deepEqual(values(vm, "return two()"), [1, 2]);
  });
});

Deno.test("LuaVm instruction budget", async (t) => {
  const vm = sandboxed(100_000);
  await t.step("a runaway loop ends with lua-timeout", () => {
    vm.beginEntry();
    const result = vm.evaluate("while true do end");
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.failure.code, "lua-timeout");
    assert.equal(vm.timedOut, true);
  });
  await t.step("beginEntry resets the budget and the VM works again", () => {
    vm.beginEntry();
    assert.equal(vm.timedOut, false);
    assert.equal(first(vm, "local n = 0 for i = 1, 100 do n = n + i end return n"), 5050);
  });
  await t.step("work within the budget completes", () => {
    vm.beginEntry();
    assert.equal(first(vm, "local n = 0 for i = 1, 10000 do n = n + 1 end return n"), 10000);
  });
  const loop = "local n = 0 for i = 1, 30000 do n = n + 1 end return n";
  await t.step("the budget is per entry: several entries that each fit all succeed", () => {
    for (let i = 0; i < 5; i++) {
      vm.beginEntry();
      assert.equal(first(vm, loop), 30000);
    }
  });
  await t.step("without beginEntry the spent budget carries over", () => {
    vm.beginEntry();
    const results = [1, 2, 3, 4].map(() => vm.evaluate(loop));
    assert.equal(results[0]?.ok, true);
    const last = results[3];
    assert.equal(last?.ok, false);
    if (last && !last.ok) assert.equal(last.failure.code, "lua-timeout");
  });
  await t.step("a called function is stopped too", () => {
    vm.beginEntry();
    const fn = first(vm, "return function() while true do end end");
    const result = vm.call(fn, [], 0);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.failure.code, "lua-timeout");
    vm.beginEntry();
    assert.equal(first(vm, "return 'recovered'"), "recovered");
  });
});

Deno.test("LuaVm close", () => {
  const vm = sandboxed();
  assert.equal(vm.closed, false);
  vm.close();
  assert.equal(vm.closed, true);
});
