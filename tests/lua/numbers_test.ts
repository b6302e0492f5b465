/**
 * Tests for src/lua/numbers.ts: every number is a double, exact to 2^53, as in ui-engine's
 * Lua 5.1; integral values print without `.0`.
 */
import assert from "node:assert/strict";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { useExactNumbers } from "../../src/lua/numbers.ts";
import { type LuaValue, LuaVm } from "../../src/lua/vm.ts";

const vm = new LuaVm({ instructionBudget: 1_000_000 });
openSandbox(vm);

function values(code: string): LuaValue[] {
  vm.beginEntry();
  const result = vm.evaluate(code);
  if (!result.ok) assert.fail(`Lua failed: ${result.failure.description}`);
  return result.value;
}

function fails(code: string, pattern: RegExp): void {
  vm.beginEntry();
  const result = vm.evaluate(code);
  assert.equal(result.ok, false, `expected ${code} to fail`);
  if (!result.ok) assert.match(result.failure.description, pattern);
}

/** The text Lua makes of each expression, through tostring. */
function texts(...expressions: string[]): LuaValue[] {
  return values(`return ${expressions.map((e) => `tostring(${e})`).join(", ")}`);
}

Deno.test("exact numbers are on", () => {
  assert.deepEqual(useExactNumbers(), { exact: true });
});

Deno.test("integer arithmetic never wraps", async (t) => {
  await t.step("* past 2^31, with constants and with variables", () => {
    assert.deepEqual(values("return 100000 * 100000, 65536 * 65536"), [1e10, 2 ** 32]);
    assert.deepEqual(values("local a, b = 100000, 65536 return a * a, b * b"), [1e10, 2 ** 32]);
  });
  await t.step("+ and - past 2^31 and -2^31", () => {
    assert.deepEqual(
      values("local m = 2147483647 return m + 1, -m - 2, m + m, (m + 1) - 1"),
      [2 ** 31, -(2 ** 31) - 1, 2 ** 32 - 2, 2 ** 31 - 1],
    );
  });
  await t.step("unary minus of -2^31", () => {
    assert.deepEqual(values("local n = -2147483648 return -n"), [2 ** 31]);
  });
  await t.step("exact up to 2^53", () => {
    assert.deepEqual(values("local n = 2^53 return n - 1, 2^52 + 1, 94906267 * 94906267"), [
      2 ** 53 - 1,
      2 ** 52 + 1,
      94906267 * 94906267,
    ]);
  });
  await t.step("os.time() * 1000 is milliseconds", () => {
    const [ms] = values("return os.time() * 1000");
    assert.ok(Math.abs((ms as number) - Date.now()) < 5000, String(ms));
  });
  await t.step("numeric strings and big literals", () => {
    assert.deepEqual(values("return '100000' * '100000', tonumber('3000000000'), 3000000000"), [
      1e10,
      3e9,
      3e9,
    ]);
  });
  await t.step("for loops step across 2^31 and end", () => {
    assert.deepEqual(
      values(
        "local n, last = 0 for i = 2147483646, 2147483650 do n = n + 1 last = i end return n, last",
      ),
      [5, 2147483650],
    );
    assert.deepEqual(
      values("local n = 0 for i = -2147483647, -2147483652, -2 do n = n + 1 end return n"),
      [3],
    );
    assert.deepEqual(values("local s = 0 for i = 1, 3 do s = s + i * 2^31 end return s"), [
      6 * 2 ** 31,
    ]);
  });
  await t.step("math functions", () => {
    assert.deepEqual(
      values(
        "return math.abs(-2147483648), math.floor(2^40 + 0.5), math.ceil(2^40 - 0.5), " +
          "math.max(2^40, 1), math.min(-2^40, 1), math.fmod(2^40 + 3, 2^20), math.floor(-3.5)",
      ),
      [2 ** 31, 2 ** 40, 2 ** 40, 2 ** 40, -(2 ** 40), 3, -4],
    );
  });
  await t.step("table keys: 2^40, and 1 and 1.0 are one key", () => {
    assert.deepEqual(
      values(
        "local t = {} t[2^40] = 'big' t[1] = 'a' t[1.0] = 'b' t[2147483647 + 1] = 'c' " +
          "local n = 0 for _ in pairs(t) do n = n + 1 end " +
          "return t[1099511627776], t[1], t[2^31], n, #t",
      ),
      ["big", "b", "c", 3, 1],
    );
  });
  await t.step("keys from pairs and ipairs are exact numbers too", () => {
    assert.deepEqual(
      values(
        "local s = 0 for i, v in ipairs({10, 20}) do s = s + i * 100000 * 100000 end return s",
      ),
      [3e10],
    );
  });
});

Deno.test("numbers print as ui-engine prints them", async (t) => {
  await t.step("integral values without .0", () => {
    assert.match(String(texts("2^63")[0]), /^92233720368547\d{5}$/, "past 2^53: no .0 either");
    assert.deepEqual(texts("10 / 2", "2^53", "1e15", "-2^31 - 1", "3.0"), [
      "5",
      "9007199254740992",
      "1000000000000000",
      "-2147483649",
      "3",
    ]);
    assert.deepEqual(values("return 'n=' .. 10 / 2, 2^40 .. '', table.concat({1.0, 2^33}, ',')"), [
      "n=5",
      "1099511627776",
      "1,8589934592",
    ]);
  });
  await t.step("non-integral values as Lua's %.14g", () => {
    assert.deepEqual(texts("0.1", "1 / 3", "0.1 + 0.2", "-2.5", "1.5e-3", "123456.789"), [
      "0.1",
      "0.33333333333333",
      "0.3",
      "-2.5",
      "0.0015",
      "123456.789",
    ]);
  });
  await t.step("string.format %d past 2^31, with flags and width", () => {
    assert.deepEqual(
      values(
        "return string.format('%d', 2^40), string.format('[%15d]', 2^40), " +
          "string.format('[%-15d]', -2^35), string.format('%+d %d %5.1f %s', 2^32, 7, 2.5, 2^53), " +
          "string.format('%d%%', 3000000000), string.format('%i', os.time() * 1000) == tostring(os.time() * 1000)",
      ),
      [
        "1099511627776",
        "[  1099511627776]",
        "[-34359738368   ]",
        "+4294967296 7   2.5 9007199254740992",
        "3000000000%",
        true,
      ],
    );
  });
  await t.step("string.format %d refuses a non-integral number, as Lua does", () => {
    fails("return string.format('%d', 2.5)", /number has no integer representation/);
    fails("return string.format('%d', 2^40 + 0.5)", /number has no integer representation/);
  });
  await t.step("error messages keep their integers", () => {
    fails("local x = nil return x + 1", /^eval:1: attempt to perform arithmetic/);
    fails("return string.rep('x', {})", /^eval:1: bad argument #2 to 'rep'/);
  });
  await t.step("print writes the same text", () => {
    const printed: string[] = [];
    const other = new LuaVm();
    openSandbox(other, { print: (line) => printed.push(line) });
    other.beginEntry();
    other.evaluate("print(10 / 2, 2^53, 0.5, 100000 * 100000)");
    assert.deepEqual(printed, ["5\t9007199254740992\t0.5\t10000000000"]);
  });
});

Deno.test("integer-only corners", async (t) => {
  await t.step("math.type: integral values in 32 bits are integers, others floats", () => {
    assert.deepEqual(
      values(
        "return math.type(1), math.type(10 / 2), math.type(2147483647), math.type(2^31), " +
          "math.type(-2^31), math.type(0.5), math.type('1')",
      ),
      ["integer", "integer", "integer", "float", "integer", "float", null],
    );
    fails("return math.type()", /bad argument #1 to 'type'/);
  });
  await t.step("math.tointeger agrees; maxinteger + 1 does not wrap", () => {
    assert.deepEqual(
      values(
        "return math.tointeger(3.0), math.tointeger(2^40), math.tointeger(0.5), " +
          "math.tointeger('x')",
      ),
      [3, null, null, null],
    );
    assert.deepEqual(values("return math.maxinteger + 1, math.mininteger - 1"), [
      2 ** 31,
      -(2 ** 31) - 1,
    ]);
  });
  await t.step("// and % are floor division and modulo, never errors", () => {
    assert.deepEqual(values("return 7 // 2, -7 // 2, 7 % -3, -7 % 3, 5.5 % 2, 2^40 // 3"), [
      3,
      -4,
      -2,
      2,
      1.5,
      Math.floor(2 ** 40 / 3),
    ]);
    assert.deepEqual(values("return 1 // 0 == math.huge, -1 // 0 == -math.huge, 5 % 0 ~= 5 % 0"), [
      true,
      true,
      true,
    ]);
  });
  await t.step("bitwise operators stay 32-bit (Lua 5.1 has none)", () => {
    assert.deepEqual(values("return 5 & 3, 5 | 3, 5 ~ 3, ~0, 1 << 4, 256 >> 4, 3.0 | 0"), [
      1,
      7,
      6,
      -1,
      16,
      16,
      3,
    ]);
    assert.deepEqual(values("return 1 << 31, 0x7FFFFFFF + 1"), [-(2 ** 31), 2 ** 31]);
    fails("return 2^31 | 0", /number has no integer representation/);
    fails("return 1.5 | 0", /number has no integer representation/);
  });
  await t.step("comparisons across the old integer and float kinds", () => {
    assert.deepEqual(values("return 1 == 1.0, 2^31 > 2147483647, 3 < 3.5, math.huge > 2^53"), [
      true,
      true,
      true,
      true,
    ]);
  });
});
