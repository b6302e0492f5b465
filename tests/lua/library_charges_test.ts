/**
 * Tests for the library charges of src/lua/sandbox.ts: JavaScript library functions whose work
 * grows with their input are charged to the instruction budget by that size.
 */
import assert from "node:assert/strict";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { LuaVm } from "../../src/lua/vm.ts";

function makeVm(budget = 10_000_000): LuaVm {
  const vm = new LuaVm({ instructionBudget: budget });
  openSandbox(vm);
  vm.beginEntry();
  return vm;
}

function stoppedQuickly(code: string, withinMs: number): void {
  const vm = makeVm();
  const started = performance.now();
  const result = vm.evaluate(code);
  const elapsed = performance.now() - started;
  assert.equal(result.ok, false, "expected the budget to stop the code");
  if (!result.ok) assert.equal(result.failure.code, "lua-timeout");
  assert.ok(elapsed < withinMs, `took ${elapsed} ms`);
}

Deno.test("library charges", async (t) => {
  const big = "local s = string.rep(string.rep('a', 1000), 15000)";
  await t.step("300 x utf8.len on 15 MB stops with lua-timeout", () => {
    stoppedQuickly(`${big} for i = 1, 300 do utf8.len(s) end`, 3000);
  });
  await t.step("upper, reverse and byte ranges are charged", () => {
    stoppedQuickly(`${big} for i = 1, 300 do local u = s:upper() end`, 3000);
    stoppedQuickly(`${big} for i = 1, 300 do local r = s:reverse() end`, 3000);
    stoppedQuickly(`${big} for i = 1, 300 do local r = s:sub(2) end`, 3000);
  });
  await t.step("os.date with a huge format is charged", () => {
    stoppedQuickly("local f = string.rep('%c', 1e6) for i = 1, 100 do os.date(f) end", 3000);
  });
  await t.step("ordinary use stays within the budget and keeps its results", () => {
    const vm = makeVm();
    const result = vm.evaluate(
      "local s = 'héllo' local n = 0 for i = 1, 1000 do n = n + utf8.len(s) + #s:upper() end " +
        "return n, string.format('%5.2f|%d|%s', 3.14159, 42, 'x'), s:sub(2, 3), s:byte(1), " +
        "utf8.char(72, 233), os.date('%Y', 86400 * 400)",
    );
    assert.deepEqual(result, {
      ok: true,
      value: [11000, " 3.14|42|x", "é", 104, "Hé", "1971"],
    });
  });
});
