/**
 * Tests for src/lua/json_decode.ts: `ui.json_decode`'s parser reads what `JSON.parse` reads and
 * refuses what it refuses; a large document is decoded in time slices, so another VM's trivial
 * entry completes meanwhile; a document malformed part way, or one past the budget, leaves no
 * partial value.
 */
import assert from "node:assert/strict";
import { decodeJson } from "../../src/lua/json_decode.ts";
import { luaToJson } from "../../src/lua/json.ts";
import { runResumable } from "../../src/lua/resumable.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { runSliced } from "../../src/lua/time_slice.ts";
import { type LuaValue, LuaVm } from "../../src/lua/vm.ts";

function makeVm(budget = 1_000_000_000, chunkValues = 16): LuaVm {
  const vm = new LuaVm({ instructionBudget: budget });
  openSandbox(vm);
  vm.setGlobalFunction("decode", (L) => decodeJson(vm, L, { chunkValues }));
  vm.setGlobalFunction("tojson", (L) => {
    RESULT.value = luaToJson(vm, 1, L);
    return 0;
  });
  vm.beginEntry();
  return vm;
}

const RESULT: { value: unknown } = { value: undefined };

function fn(vm: LuaVm, code: string): LuaValue {
  const result = vm.evaluate(`return function(...) ${code} end`);
  if (!result.ok) assert.fail(result.failure.description);
  return result.value[0] ?? null;
}

/** Decodes `text` in `vm` and reads the value back as JSON (null-free documents only). */
function roundTrip(vm: LuaVm, text: string): unknown {
  vm.beginEntry();
  RESULT.value = undefined;
  const result = vm.evaluate(`tojson(decode(...))`.replace("...", JSON.stringify(text)));
  if (!result.ok) assert.fail(result.failure.description);
  return RESULT.value;
}

/** A document of about `n` values, nested: objects holding arrays holding objects. */
function bigDocument(n: number): unknown {
  return Array.from({ length: n / 8 }, (_, i) => ({
    id: i,
    name: `item "${i}" é\u{1F600}`,
    tags: ["a", "b", { deep: [i, i + 0.5, -i * 1e10] }],
    ok: i % 2 === 0,
  }));
}

Deno.test("ui.json_decode reads JSON as JSON.parse does", async (t) => {
  const vm = makeVm();
  await t.step("nested values, escapes and numbers", () => {
    const docs = [
      '{"a": [1, 2.5, "x", true, false], "b": {"c": {"d": []}}}',
      '"tab\\tquote\\"slash\\/back\\\\ nl\\n \\u00e9 \\ud83d\\ude00 \\u0041"',
      "[-0.5, 1e3, 1E-2, 2147483648, -2147483649, 12345678901234567890, 0]",
      ' \n\t [ [ [ "deep" ] ] ] \r\n',
      JSON.stringify(bigDocument(400)),
    ];
    for (const text of docs) assert.deepEqual(roundTrip(vm, text), JSON.parse(text), text);
  });
  await t.step("null leaves holes and absent members; a lone surrogate becomes U+FFFD", () => {
    vm.beginEntry();
    const result = vm.evaluate(
      `local a = decode('[1, null, 3]') local o = decode('{"x": null, "y": 2}') ` +
        `local n = 0 for _ in pairs(o) do n = n + 1 end ` +
        `return a[1], a[2], a[3], n, o.y, decode('"\\\\ud800"'), decode('null')`,
    );
    assert.deepEqual(result, { ok: true, value: [1, null, 3, 1, 2, "\uFFFD", null] });
  });
  await t.step("what JSON.parse refuses is refused with nil and a message", () => {
    const bad = [
      "",
      "{bad",
      "[1,]",
      '{"a"}',
      '{"a":1,}',
      "01",
      "[1 2]",
      "tru",
      '"abc',
      '"\\x"',
      '"\\u12"',
      '"a\u0001b"',
      "-",
      "1.",
      ".5",
      "+1",
      "1 2",
      "[1]]",
      '{"a":1]',
      "[1}",
      "nul",
    ];
    const decode = fn(vm, "return decode(...)");
    for (const text of bad) {
      assert.throws(() => JSON.parse(text), SyntaxError, text);
      vm.beginEntry();
      const result = vm.call(decode, [text], 2);
      assert.equal(result.ok, true, text);
      if (!result.ok) continue;
      assert.equal(result.value[0], null, text);
      assert.match(String(result.value[1]), /^Invalid JSON: /, text);
    }
  });
  await t.step("nesting deeper than the limit is refused, not a crash", () => {
    vm.beginEntry();
    const result = vm.evaluate("return decode(string.rep('[', 100000))");
    assert.equal(result.ok, true);
    if (result.ok) assert.match(String(result.value[1]), /Nested deeper than 512 levels/);
  });
});

Deno.test("ui.json_decode is time-sliced", async (t) => {
  const text = JSON.stringify(bigDocument(40_000));
  await t.step("another VM's trivial entry completes while a large document decodes", async () => {
    const a = makeVm();
    const b = makeVm();
    let decoded = false;
    const long = runSliced(a, fn(a, "tojson(decode(...)) return true"), [text], { sliceMs: 1 })
      .finally(() => decoded = true);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const quick = await runSliced(b, fn(b, "return (...) + 1"), [41]);
    assert.deepEqual(quick, { ok: true, value: [42], slices: 1 });
    assert.equal(decoded, false, "the trivial entry waited for the whole decode");
    const done = await long;
    assert.equal(done.ok, true);
    assert.ok(done.slices > 5, `${done.slices} slices`);
    assert.deepEqual(RESULT.value, JSON.parse(text));
  });
  await t.step("inside a resumable entry (actions), with the value correct", async () => {
    const vm = makeVm();
    const call = fn(vm, "local v = decode(...) return v[3].tags[3].deep[1], #v, v[10].name");
    const stats = { slices: 0, replays: 0 };
    vm.beginEntry();
    const result = await runResumable(vm, () => vm.call(call, [text], 3), { sliceMs: 1 }, stats);
    assert.deepEqual(result, { ok: true, value: [2, 5000, 'item "9" é\u{1F600}'] });
    assert.ok(stats.slices > 5, `${stats.slices} slices`);
  });
  await t.step("a document malformed part way leaves no partial value", async () => {
    const vm = makeVm();
    const broken = `${text.slice(0, -200)} oops`;
    const result = await runSliced(
      vm,
      fn(vm, "X = decode(...) local v, message = decode(...) return X, v, message"),
      [broken],
      { sliceMs: 1 },
      3,
    );
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.ok(result.slices > 5, `${result.slices} slices`);
    assert.equal(result.value[0], null);
    assert.equal(result.value[1], null);
    assert.match(String(result.value[2]), /^Invalid JSON: Unexpected "o" at byte \d+/);
  });
  await t.step("the instruction budget stops a large document part way", async () => {
    const vm = makeVm(500_000);
    const result = await runSliced(vm, fn(vm, "X = decode(...) return X"), [text], {
      sliceMs: 1,
    });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.failure.code, "lua-timeout");
    vm.beginEntry();
    assert.deepEqual(vm.evaluate("return X"), { ok: true, value: [null] });
  });
});
