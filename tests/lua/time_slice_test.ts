/**
 * Tests for src/lua/time_slice.ts: a long entry in one VM lets another VM's trivial entry finish
 * within a few milliseconds; the instruction budget counts across slices; errors, the app's own
 * coroutines and a top-level yield behave; slices shorten while another VM runs Lua.
 */
import assert from "node:assert/strict";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { CONTENDED_SLICE_MS, runSliced, sliceDeadline } from "../../src/lua/time_slice.ts";
import { type LuaValue, LuaVm } from "../../src/lua/vm.ts";

function makeVm(budget = 1_000_000_000): LuaVm {
  const vm = new LuaVm({ instructionBudget: budget });
  openSandbox(vm);
  vm.beginEntry();
  return vm;
}

function fn(vm: LuaVm, code: string): LuaValue {
  const result = vm.evaluate(`return function(...) ${code} end`);
  if (!result.ok) assert.fail(result.failure.description);
  return result.value[0] ?? null;
}

const LONG = "local x, t0 = 0, os.clock() while os.clock() - t0 < 0.25 do x = x + 1 end return x";

Deno.test("time slicing", async (t) => {
  await t.step("a trivial entry in another VM waits only a few ms for a 250 ms one", async () => {
    const a = makeVm();
    const b = makeVm();
    const long = runSliced(a, fn(a, LONG), []);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    const quick = await runSliced(b, fn(b, "return (...) + 1"), [41]);
    const waited = performance.now() - started;
    assert.deepEqual(quick, { ok: true, value: [42], slices: 1 });
    assert.ok(waited < 40, `waited ${waited} ms`);
    const done = await long;
    assert.equal(done.ok, true);
    assert.ok(done.slices > 5, `${done.slices} slices`);
  });

  await t.step("the instruction budget counts across slices", async () => {
    const vm = makeVm(2_000_000);
    const result = await runSliced(vm, fn(vm, "while true do end"), [], { sliceMs: 1 });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.failure.code, "lua-timeout");
    assert.ok(result.slices > 1);
  });

  await t.step("a wall-clock limit stops an entry that yields forever", async () => {
    const vm = makeVm();
    const result = await runSliced(vm, fn(vm, "while true do end"), [], { wallClockMs: 50 });
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.failure.description, /wall-clock/);
  });

  await t.step("errors carry a traceback", async () => {
    const vm = makeVm();
    const result = await runSliced(vm, fn(vm, "error('boom')"), []);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.failure.code, "lua-error");
      assert.match(result.failure.description, /boom[\s\S]*stack traceback/);
    }
  });

  await t.step("the app's coroutines and pcall keep working across slices", async () => {
    const vm = makeVm();
    const code = `
      local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
      local s = co() + co() + co()
      local ok, n = pcall(function() local x, t0 = 0, os.clock()
        while os.clock() - t0 < 0.03 do x = x + 1 end return x end)
      return s, ok and n > 0`;
    const result = await runSliced(vm, fn(vm, code), [], {}, 2);
    assert.equal(result.ok, true);
    if (result.ok) assert.deepEqual(result.value, [6, true]);
    assert.ok(result.slices > 1, "the pcall'd loop was sliced");
  });

  await t.step("a yield at the entry's top level is an error", async () => {
    const vm = makeVm();
    const result = await runSliced(vm, fn(vm, "coroutine.yield(1)"), []);
    assert.equal(result.ok, false);
  });
});

Deno.test("a long entry's slices are shorter while another VM runs Lua", async (t) => {
  const a = {};
  const b = {};
  const length = (vm: object, continued = true) =>
    sliceDeadline(vm, 4, continued) - performance.now();
  await t.step("a VM alone gets its full slices", async () => {
    await new Promise((resolve) => setTimeout(resolve, 150)); // earlier tests' VMs are quiet
    length(a);
    assert.ok(length(a) > 3, "a alone");
  });
  await t.step("after another VM's slice, a long entry gets the contended slice", () => {
    assert.ok(length(b, false) > 3, "an entry's first slice is full");
    assert.ok(length(a) <= CONTENDED_SLICE_MS);
    assert.ok(length(b) <= CONTENDED_SLICE_MS);
    assert.ok(length(a) <= CONTENDED_SLICE_MS);
  });
  await t.step("once the other VM has been quiet a while, full slices again", async () => {
    await new Promise((resolve) => setTimeout(resolve, 150));
    length(a);
    assert.ok(length(a) > 3, "a alone again");
  });
});
