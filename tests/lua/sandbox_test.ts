/**
 * Tests for src/lua/sandbox.ts (SPEC 10.6): which libraries a session VM gets, what is removed,
 * text-only `load`, the instruction budget surviving pcall / xpcall / coroutines, the capped
 * `string.rep` and `print`.
 */
import assert from "node:assert/strict";
import { luaValues } from "../support/lua_vm.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { LuaVm } from "../../src/lua/vm.ts";

function makeVm(budget = 100_000, maxStringBytes?: number): { vm: LuaVm; printed: string[] } {
  const printed: string[] = [];
  const vm = new LuaVm({ instructionBudget: budget });
  openSandbox(vm, {
    print: (line) => printed.push(line),
    ...(maxStringBytes === undefined ? {} : { maxStringBytes }),
  });
  vm.beginEntry();
  return { vm, printed };
}

const values = luaValues;

function expectTimeout(vm: LuaVm, code: string): void {
  vm.beginEntry();
  const result = vm.evaluate(code);
  assert.equal(result.ok, false, "expected the code to be stopped");
  if (!result.ok) assert.equal(result.failure.code, "lua-timeout");
  vm.beginEntry();
  assert.deepEqual(values(vm, "return 1 + 1"), [2], "the VM works after a timeout");
}

Deno.test("sandbox: libraries present", async (t) => {
  const { vm } = makeVm();
  await t.step("base, table, string, math, utf8 and coroutine are open", () => {
    assert.deepEqual(
      values(
        vm,
        "return type(pairs), type(table.insert), type(string.format), type(math.floor), " +
          "type(utf8.char), type(coroutine.wrap)",
      ),
      ["function", "function", "function", "function", "function", "function"],
    );
  });
  await t.step("os keeps time, clock, date and difftime", () => {
    assert.deepEqual(
      values(
        vm,
        "return type(os.time), type(os.clock), type(os.date), type(os.difftime)",
      ),
      ["function", "function", "function", "function"],
    );
  });
  await t.step("the safe os functions work", () => {
    const [now, clock, year, diff] = values(
      vm,
      "return os.time(), os.clock(), os.date('%Y', 0), os.difftime(10, 4)",
    );
    assert.equal(typeof now, "number");
    assert.ok((now as number) > 1_600_000_000);
    assert.equal(typeof clock, "number");
    assert.match(String(year), /^19(69|70)$/);
    assert.equal(diff, 6);
  });
  await t.step("string methods work through the string metatable", () => {
    assert.deepEqual(values(vm, "return ('abc'):upper(), ('a,b'):find(',')"), ["ABC", 2, 2]);
  });
});

Deno.test("sandbox: dangerous entries are absent", async (t) => {
  const { vm } = makeVm();
  const absent = [
    "io",
    "os.execute",
    "os.exit",
    "os.getenv",
    "os.remove",
    "os.rename",
    "os.tmpname",
    "dofile",
    "loadfile",
    "package.loadlib",
    "package.path",
    "package.cpath",
    "package.searchers",
    "require",
    "module",
    "debug",
  ];
  for (const name of absent) {
    await t.step(`${name} is nil`, () => {
      assert.deepEqual(values(vm, `return ${name} == nil`), [true]);
    });
  }
  await t.step("os has only the four safe functions", () => {
    assert.deepEqual(
      values(
        vm,
        "local names = {} for k in pairs(os) do names[#names + 1] = k end " +
          "table.sort(names) return table.concat(names, ',')",
      ),
      ["clock,date,difftime,time"],
    );
  });
  await t.step("calling a removed function is a catchable error", () => {
    assert.deepEqual(values(vm, "return (pcall(function() os.exit(1) end))"), [false]);
    assert.deepEqual(values(vm, "return 'server still running'"), ["server still running"]);
  });
});

Deno.test("sandbox: load takes text chunks only", async (t) => {
  const { vm } = makeVm();
  await t.step("a text chunk loads and runs", () => {
    assert.deepEqual(values(vm, "return load('return 2 + 3')()"), [5]);
  });
  await t.step("a text chunk with an environment sees that environment", () => {
    assert.deepEqual(values(vm, "return load('return x', 'c', 'bt', {x = 9})()"), [9]);
  });
  await t.step("a reader function still works", () => {
    assert.deepEqual(
      values(
        vm,
        "local parts = {'return ', '7'} local i = 0 " +
          "return load(function() i = i + 1 return parts[i] end)()",
      ),
      [7],
    );
  });
  await t.step("a binary chunk from string.dump is refused even when 'b' is asked for", () => {
    const [fn, message] = values(
      vm,
      "local f = string.dump(function() return 1 end) return load(f, 'dumped', 'b')",
    );
    assert.equal(fn, null);
    assert.match(String(message), /binary/);
  });
  await t.step("a binary chunk is refused with the default mode", () => {
    const [fn, message] = values(
      vm,
      "return load(string.dump(function() return 1 end))",
    );
    assert.equal(fn, null);
    assert.match(String(message), /binary/);
  });
  await t.step("a syntax error gives nil and a message", () => {
    const [fn, message] = values(vm, "return load('return +')");
    assert.equal(fn, null);
    assert.equal(typeof message, "string");
  });
});

Deno.test("sandbox: the instruction budget cannot be escaped", async (t) => {
  const { vm } = makeVm();
  await t.step("plain loop", () => expectTimeout(vm, "while true do end"));
  await t.step("inside pcall", () => {
    expectTimeout(vm, "pcall(function() while true do end end) return 'swallowed'");
  });
  await t.step("inside xpcall with a handler", () => {
    expectTimeout(
      vm,
      "xpcall(function() while true do end end, function(m) return m end) return 'swallowed'",
    );
  });
  await t.step("inside a coroutine resumed with coroutine.resume", () => {
    expectTimeout(
      vm,
      "local co = coroutine.create(function() while true do end end) " +
        "local ok = coroutine.resume(co) return 'swallowed'",
    );
  });
  await t.step("inside coroutine.wrap called under pcall", () => {
    expectTimeout(
      vm,
      "local f = coroutine.wrap(function() while true do end end) pcall(f) return 'swallowed'",
    );
  });
  await t.step("pcall in a loop that keeps catching", () => {
    expectTimeout(
      vm,
      "for i = 1, 1e9 do pcall(function() while true do end end) end return 'swallowed'",
    );
  });
  await t.step("nested pcalls", () => {
    expectTimeout(
      vm,
      "pcall(pcall, pcall, function() while true do end end) return 'swallowed'",
    );
  });
  await t.step("an xpcall handler that loops", () => {
    expectTimeout(
      vm,
      "xpcall(function() error('x') end, function() while true do end end) return 'swallowed'",
    );
  });
  await t.step("a loop in the body and another in the xpcall handler", () => {
    expectTimeout(
      vm,
      "xpcall(function() while true do end end, function() while true do end end) " +
        "return 'swallowed'",
    );
  });
  await t.step("a redefined global type does not unwrap the xpcall handler", () => {
    expectTimeout(
      vm,
      "local realType = type type = function() return 'number' end " +
        "local ok = pcall(xpcall, function() while true do end end, " +
        "function() while true do end end) type = realType return 'swallowed'",
    );
  });
  await t.step("a loop in an __index metamethod", () => {
    expectTimeout(
      vm,
      "local t = setmetatable({}, {__index = function() while true do end end}) " +
        "pcall(function() return t.x end) return 'swallowed'",
    );
  });
  await t.step("a loop in a table.sort comparator", () => {
    expectTimeout(
      vm,
      "pcall(table.sort, {3, 2, 1}, function() while true do end end) return 'swallowed'",
    );
  });
  await t.step("pcall and coroutines still work normally within the budget", () => {
    vm.beginEntry();
    assert.deepEqual(values(vm, "return pcall(error, 'e')"), [false, "e"]);
    assert.deepEqual(values(vm, "return pcall(function(a) return a * 2 end, 4)"), [true, 8]);
    assert.deepEqual(
      values(vm, "return xpcall(function() error('e', 0) end, function(m) return 'h:' .. m end)"),
      [false, "h:e"],
    );
    assert.deepEqual(
      values(vm, "return xpcall(function(a, b) return a + b end, print, 2, 3)"),
      [true, 5],
    );
    assert.deepEqual(
      values(vm, "return xpcall(error, function(m) return m .. '!' end, 'msg', 0)"),
      [false, "msg!"],
    );
    const [ok, message] = values(vm, "return pcall(xpcall, print, 'not a function')");
    assert.equal(ok, false);
    assert.match(String(message), /bad argument #2/);
    assert.deepEqual(
      values(
        vm,
        "local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end) " +
          "local _, x = coroutine.resume(co, 1) local _, y = coroutine.resume(co, 10) return x, y",
      ),
      [2, 20],
    );
    assert.deepEqual(
      values(
        vm,
        "local co = coroutine.wrap(function() coroutine.yield(pcall(coroutine.yield, 1)) end) " +
          "return co(), select('#', co())",
      ),
      [1, 1],
    );
  });
});

Deno.test("sandbox: string.rep is capped", async (t) => {
  const { vm } = makeVm(100_000, 1024);
  await t.step("a small repeat works", () => {
    assert.deepEqual(values(vm, "return string.rep('ab', 3), ('x'):rep(2, '-')"), [
      "ababab",
      "x-x",
    ]);
  });
  await t.step("zero and negative counts give an empty string", () => {
    assert.deepEqual(values(vm, "return string.rep('ab', 0), string.rep('ab', -5)"), ["", ""]);
  });
  await t.step("exactly the limit is allowed", () => {
    assert.deepEqual(values(vm, "return #string.rep('x', 1024)"), [1024]);
  });
  await t.step("one byte over the limit is refused", () => {
    const [ok, message] = values(vm, "return pcall(string.rep, 'x', 1025)");
    assert.equal(ok, false);
    assert.match(String(message), /too large/);
  });
  await t.step("the separator counts", () => {
    const [ok] = values(vm, "return pcall(string.rep, 'x', 600, 'y')");
    assert.equal(ok, false);
  });
  await t.step("a huge repeat is refused without building the string", () => {
    const [ok, message] = values(vm, "return pcall(string.rep, 'abc', 1e9)");
    assert.equal(ok, false);
    assert.match(String(message), /too large/);
  });
  await t.step("the default cap refuses a gigabyte", () => {
    const { vm: plain } = makeVm();
    const [ok] = values(plain, "return pcall(string.rep, 'x', 2^30)");
    assert.equal(ok, false);
  });
});

Deno.test("sandbox: print goes to the print option", async (t) => {
  const { vm, printed } = makeVm();
  await t.step("arguments are joined by tabs through tostring", () => {
    values(vm, "print('a', 1, nil, true, 2.5)");
    assert.deepEqual(printed, ["a\t1\tnil\ttrue\t2.5"]);
  });
  await t.step("__tostring is honoured", () => {
    printed.length = 0;
    values(vm, "print(setmetatable({}, {__tostring = function() return 'custom' end}))");
    assert.deepEqual(printed, ["custom"]);
  });
  await t.step("print with no arguments prints an empty line", () => {
    printed.length = 0;
    values(vm, "print()");
    assert.deepEqual(printed, [""]);
  });
});

Deno.test("sandbox: each VM is isolated", () => {
  const { vm: a } = makeVm();
  const { vm: b } = makeVm();
  values(a, "shared = 'from a'; string.custom = 1");
  assert.deepEqual(values(b, "return shared, string.custom"), [null, null]);
});

Deno.test("sandbox: table functions are charged to the budget", async (t) => {
  await t.step("front inserts into a huge table end with lua-timeout", () => {
    const { vm } = makeVm(10_000_000);
    vm.beginEntry();
    assert.ok(vm.evaluate("big = {} for i = 1, 200000 do big[i] = i end").ok);
    expectTimeout(vm, "for i = 1, 50 do table.insert(big, 1, i) end");
  });
  await t.step("joining a huge table ends with lua-timeout", () => {
    const { vm } = makeVm(10_000_000);
    vm.beginEntry();
    assert.ok(vm.evaluate("big = {} for i = 1, 200000 do big[i] = 'x' end").ok);
    expectTimeout(vm, "return table.concat(big, ',')");
  });
  await t.step("sorting a huge table ends with lua-timeout", () => {
    const { vm } = makeVm(10_000_000);
    vm.beginEntry();
    assert.ok(vm.evaluate("big = {} for i = 1, 200000 do big[i] = -i end").ok);
    expectTimeout(vm, "table.sort(big)");
  });
  await t.step("a join past the string cap is refused", () => {
    const { vm } = makeVm(100_000_000, 1024);
    vm.beginEntry();
    const result = vm.evaluate(
      "local t = {} for i = 1, 10 do t[i] = string.rep('a', 200) end " +
        "return pcall(table.concat, t)",
    );
    assert.ok(result.ok);
    assert.equal(result.value[0], false);
    assert.match(String(result.value[1]), /resulting string too large/);
  });
  await t.step("ordinary use is unchanged", () => {
    const { vm } = makeVm();
    vm.beginEntry();
    assert.deepEqual(
      values(
        vm,
        "local t = {3, 1, 2} table.sort(t) table.insert(t, 1, 0) table.insert(t, 9) " +
          "local r = table.remove(t, 1) return table.concat(t, ','), r, table.unpack({7, 8})",
      ),
      ["1,2,3,9", 0, 7, 8],
    );
  });
});

Deno.test("sandbox: the .. operator cannot build a huge string", async (t) => {
  await t.step("a doubling loop ends with a clear error and the VM goes on", () => {
    const { vm } = makeVm(10_000_000);
    const result = vm.evaluate("local s = 'xxxxxxxxxxxxxxxx' for i = 1, 40 do s = s .. s end");
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.failure.code, "lua-error");
      assert.match(result.failure.description, /string too large/);
    }
    vm.beginEntry();
    assert.deepEqual(values(vm, "return #('ab' .. 'cd')"), [4]);
  });
  await t.step("pcall catches it like any error", () => {
    const { vm } = makeVm(10_000_000);
    assert.deepEqual(
      values(
        vm,
        "local s = string.rep('x', 16 * 1024 * 1024) .. 'x' " +
          "return pcall(function() return s .. s end), #string.rep('y', 1000)",
      ),
      [false, 1000],
    );
  });
});
