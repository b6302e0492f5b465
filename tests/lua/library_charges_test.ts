/**
 * Tests for the library charges of src/lua/sandbox.ts: JavaScript library functions whose work
 * grows with their input are charged to the instruction budget by that size.
 */
import assert from "node:assert/strict";
import { installBulkStrings } from "../../src/lua/bulk_strings.ts";
import { lauxlib, lua, lualib, toLua } from "../../src/lua/fengari.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { runSliced } from "../../src/lua/time_slice.ts";
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

/** A VM with fengari's own base, string and utf8 libraries, unchanged. */
function fengariVm(): LuaVm {
  const vm = new LuaVm({ instructionBudget: 1e12 });
  const libraries = [
    ["_G", lualib.luaopen_base],
    ["string", lualib.luaopen_string],
    ["utf8", lualib.luaopen_utf8],
  ] as const;
  for (const [name, open] of libraries) {
    lauxlib.luaL_requiref(vm.L, toLua(name), open, 1);
    lua.lua_pop(vm.L, 1);
  }
  return vm;
}

Deno.test("string.rep and utf8.len rewritten for large strings", async (t) => {
  const plain = fengariVm();
  const fast = fengariVm();
  installBulkStrings(fast, { maxBytes: 1 << 24, bytesPerInstruction: 4, utf8ChunkBytes: 3 });
  const same = (code: string) => {
    plain.beginEntry();
    fast.beginEntry();
    const expected = plain.evaluate(code);
    const actual = fast.evaluate(code);
    assert.deepEqual(actual.ok, expected.ok, code);
    if (actual.ok && expected.ok) assert.deepEqual(actual.value, expected.value, code);
  };
  await t.step("the same results as Lua 5.3's, in chunks of 3 bytes", () => {
    same(
      "return string.rep('ab', 5), string.rep('ab', 3, ', '), string.rep('x', 0), " +
        "string.rep('', 4, '-'), string.rep('abc', 1, 'sep'), string.rep('a', -2), string.rep(7, 2)",
    );
    const subjects = [
      "",
      "abc",
      "h\\xC3\\xA9llo",
      "\\xE2\\x82\\xAC\\xF0\\x9F\\x98\\x80!",
      "ab\\x80cd",
      "\\xC3",
      "\\xF8\\x88\\x80\\x80\\x80",
      "\\xED\\xA0\\x80",
      "\\xC0\\x80",
    ];
    for (const subject of subjects) {
      for (const range of ["", ", 2", ", -3", ", 2, -2", ", 4, 3", ", 1, 1", ", 7"]) {
        same(`return utf8.len("${subject}"${range})`);
      }
    }
    for (const bad of ["0", "20", "1, 20"]) same(`return utf8.len("abc", ${bad})`);
  });
  await t.step("utf8.len of a large string yields between chunks in a sliced entry", async () => {
    const vm = new LuaVm({ instructionBudget: 1e12 });
    openSandbox(vm);
    installBulkStrings(vm, { maxBytes: 1 << 24, bytesPerInstruction: 4, utf8ChunkBytes: 4096 });
    const fn = vm.evaluate("return function() return utf8.len(string.rep('\\xC3\\xA9', 2^20)) end");
    if (!fn.ok) return assert.fail(fn.failure.description);
    const result = await runSliced(vm, fn.value[0] ?? null, [], { sliceMs: 1 });
    assert.equal(result.ok, true);
    if (result.ok) assert.deepEqual(result.value, [2 ** 20]);
    assert.ok(result.slices > 2, `${result.slices} slices`);
  });
});
