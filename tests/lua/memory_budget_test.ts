/**
 * Tests for src/lua/memory_budget.ts: the attacks of issue 10 at a 16 MiB budget (a table grown
 * without end, `..` of many large operands, inside pcall and coroutines), that garbage never
 * trips the budget, and that other VMs are not affected.
 */
import assert from "node:assert/strict";
import {
  installMemoryBudget,
  measureLuaHeap,
  type MemoryMeter,
  trackCoroutines,
} from "../../src/lua/memory_budget.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { LuaVm } from "../../src/lua/vm.ts";
import { lua, toLua } from "../../src/lua/fengari.ts";

const MIB = 1024 * 1024;

function makeVm(maxBytes = 16 * MIB): { vm: LuaVm; meter: MemoryMeter } {
  const vm = new LuaVm({ instructionBudget: 200_000_000 });
  const meter = installMemoryBudget(vm, { maxBytes });
  openSandbox(vm);
  trackCoroutines(vm);
  vm.beginEntry();
  return { vm, meter };
}

function expectMemoryStop(vm: LuaVm, code: string): void {
  vm.beginEntry();
  const result = vm.evaluate(code);
  assert.equal(result.ok, false, "expected the memory budget to stop the code");
  if (!result.ok) assert.equal(result.failure.code, "lua-memory", result.failure.description);
}

const rss = () => Deno.memoryUsage().rss;

Deno.test("memory budget", async (t) => {
  await t.step("a table grown without end is stopped near the budget", () => {
    const { vm, meter } = makeVm();
    expectMemoryStop(vm, "big = {} for i = 1, 1e8 do big[i] = i end");
    assert.ok(meter.exceeded);
    // Stopped within the pacing margin: at most 1.5 times the budget live.
    assert.ok(meter.liveBytes > 16 * MIB && meter.liveBytes < 24 * MIB, `${meter.liveBytes}`);
  });

  await t.step("string keys and nested tables are charged too", () => {
    const { vm } = makeVm();
    expectMemoryStop(vm, "big = {} for i = 1, 1e8 do big['k' .. i] = {i} end");
  });

  await t.step("pcall cannot swallow the stop", () => {
    const { vm } = makeVm();
    expectMemoryStop(
      vm,
      "keep = {} for round = 1, 100 do pcall(function() for i = 1, 1e6 do keep[#keep + 1] = {} end end) end",
    );
  });

  await t.step("one .. of many large operands is refused before it is made", () => {
    const { vm } = makeVm();
    const before = rss();
    const operands = Array.from({ length: 40 }, () => "s").join("..");
    expectMemoryStop(
      vm,
      `local s = string.rep(string.rep('x', 65536), 64) local r = ${operands} return #r`,
    );
    // 40 operands of 4 MiB would be 160 MiB; the refusal leaves the process near where it was.
    assert.ok(rss() - before < 100 * MIB, `grew ${(rss() - before) / MIB} MiB`);
  });

  await t.step("the same inside a coroutine", () => {
    const { vm } = makeVm();
    const before = rss();
    const operands = Array.from({ length: 40 }, () => "s").join("..");
    expectMemoryStop(
      vm,
      `local s = string.rep(string.rep('x', 65536), 64)
       return coroutine.wrap(function() return #(${operands}) end)()`,
    );
    assert.ok(rss() - before < 100 * MIB, `grew ${(rss() - before) / MIB} MiB`);
  });

  await t.step("garbage never trips the budget", () => {
    const { vm, meter } = makeVm();
    vm.beginEntry();
    const result = vm.evaluate(
      "local n = 0 for i = 1, 3e5 do local t = {i, 'x' .. i} n = n + #t end return n",
    );
    assert.deepEqual(result, { ok: true, value: [6e5] });
    assert.equal(meter.exceeded, false);
    assert.ok(meter.walks.count >= 2, "the charges led to walks");
  });

  await t.step("settle clears the stop once the data is released", () => {
    const { vm, meter } = makeVm();
    expectMemoryStop(vm, "big = {} for i = 1, 1e8 do big[i] = i end");
    assert.ok(meter.settle() > 15 * MIB, "the global still holds the table");
    // The server may still push values for an over-budget VM without an exception.
    vm.push("a string the server pushes");
    lua.lua_pushnil(vm.L);
    lua.lua_setglobal(vm.L, toLua("big"));
    lua.lua_settop(vm.L, 0);
    assert.ok(meter.settle() < MIB);
    assert.equal(meter.exceeded, false);
    vm.beginEntry();
    assert.deepEqual(vm.evaluate("return 1"), { ok: true, value: [1] });
    assert.ok(measureLuaHeap(vm.L) < MIB);
  });

  await t.step("another VM is not affected", () => {
    const { vm: attacker } = makeVm();
    const { vm: other } = makeVm();
    expectMemoryStop(attacker, "big = {} for i = 1, 1e8 do big[i] = i end");
    other.beginEntry();
    assert.deepEqual(other.evaluate("local t = {} for i = 1, 1000 do t[i] = i end return #t"), {
      ok: true,
      value: [1000],
    });
  });
});
