/**
 * Tests for src/lua/wire_value.ts: value JSON (SPEC 7) and the `type` the server reports.
 */
import assert from "node:assert/strict";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { type LuaObject, type LuaValue, LuaVm } from "../../src/lua/vm.ts";
import { sequenceElements, typeOf, valueJson } from "../../src/lua/wire_value.ts";
import { FailureError } from "../../src/failure.ts";

function makeVm(): LuaVm {
  const vm = new LuaVm({ instructionBudget: 1_000_000 });
  openSandbox(vm);
  vm.beginEntry();
  return vm;
}

function lua(vm: LuaVm, code: string): LuaValue[] {
  const result = vm.evaluate(code);
  if (!result.ok) assert.fail(result.failure.description);
  return result.value;
}

function one(vm: LuaVm, code: string): LuaValue {
  return lua(vm, code)[0] ?? null;
}

/** Value JSON of the value of a Lua expression, parsed. */
function wire(vm: LuaVm, expression: string): unknown {
  return JSON.parse(valueJson(vm, one(vm, `return ${expression}`)));
}

function ref(value: LuaValue): { obj: number } {
  assert.ok(value !== null && typeof value === "object");
  return { obj: value.id };
}

Deno.test("value JSON of scalars", async (t) => {
  const vm = makeVm();
  await t.step("nil is null", () => assert.equal(valueJson(vm, null), "null"));
  await t.step("booleans", () => {
    assert.equal(valueJson(vm, true), "true");
    assert.equal(valueJson(vm, false), "false");
  });
  await t.step("strings are JSON strings", () => {
    assert.equal(valueJson(vm, 'a "quoted"\nline é'), JSON.stringify('a "quoted"\nline é'));
    assert.equal(wire(vm, "'from lua ü'"), "from lua ü");
  });
  await t.step("integers and floats", () => {
    assert.equal(valueJson(vm, 42), "42");
    assert.equal(valueJson(vm, -1.25), "-1.25");
    assert.equal(wire(vm, "2^31"), 2 ** 31);
    assert.equal(wire(vm, "1e15"), 1e15);
  });
  await t.step("NaN and infinities are null", () => {
    assert.equal(valueJson(vm, NaN), "null");
    assert.equal(valueJson(vm, Infinity), "null");
    assert.equal(valueJson(vm, -Infinity), "null");
    assert.equal(wire(vm, "0/0"), null);
    assert.equal(wire(vm, "math.huge"), null);
    assert.equal(wire(vm, "-math.huge"), null);
  });
  await t.step("negative zero is 0", () => assert.equal(valueJson(vm, -0), "0"));
});

Deno.test("value JSON of tables", async (t) => {
  const vm = makeVm();
  await t.step("a sequence is an array", () => {
    assert.deepEqual(wire(vm, "{1, 'two', true, 4.5}"), [1, "two", true, 4.5]);
  });
  await t.step("the empty table is an empty array", () => {
    assert.deepEqual(wire(vm, "{}"), []);
  });
  await t.step("nested sequences are nested arrays", () => {
    assert.deepEqual(wire(vm, "{{1, {2}}, {}}"), [[1, [2]], []]);
  });
  await t.step("a sequence built out of order is still an array", () => {
    assert.deepEqual(
      wire(vm, "(function() local t = {} t[3] = 'c' t[1] = 'a' t[2] = 'b' return t end)()"),
      [
        "a",
        "b",
        "c",
      ],
    );
    assert.deepEqual(wire(vm, "{[1] = 'x', [2] = 'y'}"), ["x", "y"]);
  });
  await t.step("_-prefixed keys are ignored", () => {
    assert.deepEqual(wire(vm, "{1, 2, _private = 'p', __meta = true}"), [1, 2]);
    assert.deepEqual(wire(vm, "{_only = 1}"), []);
  });
  await t.step("NaN inside an array is null", () => {
    assert.deepEqual(wire(vm, "{1, 0/0}"), [1, null]);
  });
  await t.step("a table with a type is an object reference", () => {
    const table = one(vm, "return {type = 'Contact', 1, 2}");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
  });
  await t.step("an inherited type (metatable __index) makes an object", () => {
    const table = one(
      vm,
      "local P = {type = 'Person'} P.__index = P return setmetatable({1, 2}, P)",
    );
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
    const empty = one(vm, "return setmetatable({}, {__index = {type = 'Empty'}})");
    assert.deepEqual(JSON.parse(valueJson(vm, empty)), ref(empty));
  });
  await t.step("a type from an __index function counts too", () => {
    const table = one(
      vm,
      "return setmetatable({}, {__index = function(_, k) if k == 'type' then return 'Dyn' end end})",
    );
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
  });
  await t.step("non-integer keys make an object", () => {
    for (
      const code of [
        "{a = 1}",
        "{1, 2, x = 3}",
        "{[1.5] = 1}",
        "{[true] = 1}",
        "{[0] = 1}",
        "{[-1] = 1}",
      ]
    ) {
      const table = one(vm, `return ${code}`);
      assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table), code);
    }
  });
  await t.step("a non-string type field makes an object", () => {
    const table = one(vm, "return {type = 5}");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
  });
  await t.step("holes make an object", () => {
    const table = one(vm, "return {1, nil, 3}");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
    const sparse = one(vm, "return {[2] = 'b'}");
    assert.deepEqual(JSON.parse(valueJson(vm, sparse)), ref(sparse));
  });
  await t.step("keys beyond 32 bits make an object", () => {
    const table = one(vm, "return {1, [2^31] = 2}");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
  });
  await t.step("objects inside an array are references", () => {
    const [list, inner] = lua(vm, "local inner = {name = 'x'} return {inner, 5}, inner");
    assert.deepEqual(JSON.parse(valueJson(vm, list ?? null)), [ref(inner ?? null), 5]);
  });
  await t.step("a table containing itself does not loop", () => {
    const table = one(vm, "local t = {} t[1] = t return t");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), [ref(table)]);
  });
  await t.step("elements removed from the end are gone", () => {
    const table = one(vm, "shrinking = {1, 2, 3} return shrinking");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), [1, 2, 3]);
    lua(vm, "shrinking[3] = nil");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), [1, 2]);
    lua(vm, "table.remove(shrinking, 1)");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), [2]);
    lua(vm, "shrinking[1] = nil");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), []);
  });
  await t.step("a key removed from the middle makes an object", () => {
    const table = one(vm, "holey = {1, 2, 3} holey[2] = nil return holey");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
  });
  await t.step("a string key removed again makes it an array", () => {
    const table = one(vm, "mixed = {1, x = 2} return mixed");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
    lua(vm, "mixed.x = nil");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), [1]);
  });
  await t.step("a type set later turns an array into an object and back", () => {
    const table = one(vm, "typed = {1} return typed");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), [1]);
    lua(vm, "typed.type = 'Now'");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), ref(table));
    lua(vm, "typed.type = nil");
    assert.deepEqual(JSON.parse(valueJson(vm, table)), [1]);
  });
  await t.step("encoding twice gives the same text (fresh and known elements)", () => {
    const table = one(vm, "return {{}, {a = 1}, print, {{}}}");
    const first = valueJson(vm, table);
    assert.equal(valueJson(vm, table), first);
    assert.equal(valueJson(vm, table, ""), first);
  });
  await t.step("a known type given by the caller is honoured", () => {
    const table = one(vm, "return {1, 2}");
    assert.equal(valueJson(vm, table, ""), "[1,2]");
    assert.deepEqual(JSON.parse(valueJson(vm, table, "Given")), ref(table));
  });
});

Deno.test("value JSON of other reference values", async (t) => {
  const vm = makeVm();
  await t.step("functions are object references", () => {
    const fn = one(vm, "return function() end");
    assert.deepEqual(JSON.parse(valueJson(vm, fn)), ref(fn));
    const builtin = one(vm, "return print");
    assert.deepEqual(JSON.parse(valueJson(vm, builtin)), ref(builtin));
  });
  await t.step("coroutines are object references", () => {
    const co = one(vm, "return coroutine.create(function() end)");
    assert.deepEqual(JSON.parse(valueJson(vm, co)), ref(co));
  });
});

Deno.test("object ids", async (t) => {
  const vm = makeVm();
  await t.step("stable for the same object", () => {
    const table = one(vm, "kept = {a = 1} return kept");
    const first = valueJson(vm, table);
    const again = valueJson(vm, one(vm, "return kept"));
    assert.equal(again, first);
  });
  await t.step("distinct for distinct objects", () => {
    const values = lua(vm, "return {a = 1}, {a = 1}, {a = 1}");
    const ids = values.map((value) => valueJson(vm, value));
    assert.equal(new Set(ids).size, 3);
  });
  await t.step("positive", () => {
    const { obj } = JSON.parse(valueJson(vm, one(vm, "return {b = 2}")));
    assert.ok(Number.isInteger(obj) && obj > 0);
  });
  await t.step("never reused for a new object", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const { obj } = JSON.parse(valueJson(vm, one(vm, "return {x = 1}")));
      assert.ok(!seen.has(obj));
      seen.add(obj);
    }
  });
  await t.step("the same object inside and outside an array has the same id", () => {
    const [list, inner] = lua(vm, "local inner = {k = 1} return {inner}, inner");
    const [inside] = JSON.parse(valueJson(vm, list ?? null));
    assert.deepEqual(inside, JSON.parse(valueJson(vm, inner ?? null)));
  });
});

Deno.test("typeOf", async (t) => {
  const vm = makeVm();
  await t.step("an own string type", () => {
    assert.equal(typeOf(vm, one(vm, "return {type = 'Contact'}")), "Contact");
  });
  await t.step("an inherited type", () => {
    assert.equal(
      typeOf(vm, one(vm, "local P = {type = 'P'} P.__index = P return setmetatable({}, P)")),
      "P",
    );
  });
  await t.step("no type, or a non-string type, is empty", () => {
    assert.equal(typeOf(vm, one(vm, "return {}")), "");
    assert.equal(typeOf(vm, one(vm, "return {type = 1}")), "");
  });
  await t.step("non-tables have no type", () => {
    assert.equal(typeOf(vm, null), "");
    assert.equal(typeOf(vm, "Contact"), "");
    assert.equal(typeOf(vm, 3), "");
    assert.equal(typeOf(vm, one(vm, "return print")), "");
  });
  await t.step("a failing __index gives no type rather than an exception", () => {
    assert.equal(
      typeOf(vm, one(vm, "return setmetatable({}, {__index = function() error('x') end})")),
      "",
    );
  });
});

Deno.test("sequenceElements", async (t) => {
  const vm = makeVm();
  await t.step("the elements of an array-like table", () => {
    const table = one(vm, "return {5, 'x', _hidden = 1}") as LuaObject;
    assert.deepEqual(sequenceElements(vm, table), [5, "x"]);
  });
  await t.step("undefined for an object-like table", () => {
    assert.equal(sequenceElements(vm, one(vm, "return {a = 1}") as LuaObject), undefined);
    assert.equal(sequenceElements(vm, one(vm, "return {type = 'T'}") as LuaObject), undefined);
  });
});

Deno.test("value JSON under a limit", async (t) => {
  const vm = makeVm();
  const tooLarge = (error: unknown) =>
    error instanceof FailureError && error.code === "too-large" &&
    /limit of \d+ bytes/.test(error.message);
  await t.step("text within the limit is built as before", () => {
    const [value] = lua(vm, "return {1, 'two', {3}}");
    assert.equal(valueJson(vm, value ?? null, undefined, 13), '[1,"two",[3]]');
    assert.equal(valueJson(vm, value ?? null, "", 13), '[1,"two",[3]]');
  });
  await t.step("one byte more is too-large", () => {
    const [value] = lua(vm, "return {1, 'two', {3}}");
    assert.throws(() => valueJson(vm, value ?? null, undefined, 12), tooLarge);
    assert.throws(() => valueJson(vm, "x".repeat(100), undefined, 50), tooLarge);
  });
  await t.step("a table shared many times stops at the limit", () => {
    const [value] = lua(
      vm,
      "local k = {} for i = 1, 1000 do k[i] = i end local t = {} for i = 1, 5000 do t[i] = k end return t",
    );
    const start = performance.now();
    assert.throws(() => valueJson(vm, value ?? null, undefined, 100_000), tooLarge);
    assert.ok(performance.now() - start < 500, "it stopped early");
  });
  await t.step("a huge sequence is refused without walking it all", () => {
    const [value] = lua(vm, "local t = {} for i = 1, 200000 do t[i] = 0 end return t");
    assert.throws(() => valueJson(vm, value ?? null, undefined, 1_000), tooLarge);
    assert.equal(valueJson(vm, value ?? null).length, 400_001);
  });
});

Deno.test("a list's JSON kept between encodings follows every change", async (t) => {
  // Lists of 8 or more elements keep their raw entries with their JSON; each step encodes the
  // same live table again, as change detection does after every batch, and compares it with a
  // fresh encoding (a list inside another table is never kept).
  const vm = makeVm();
  lua(
    vm,
    `Row = {type = "Row"}; Row.__index = Row
     rows = {}
     for i = 1, 10 do rows[i] = setmetatable({value = i}, Row) end`,
  );
  const rows = one(vm, "return rows");
  const json = () => {
    const kept = JSON.parse(valueJson(vm, rows, ""));
    const fresh = (JSON.parse(valueJson(vm, one(vm, "return {rows}"))) as unknown[])[0];
    assert.deepEqual(kept, fresh, "kept and fresh JSON agree");
    return kept;
  };
  const element = (i: number) => one(vm, `return rows[${i}]`);
  const refs = () => Array.from({ length: 10 }, (_, i) => ref(element(i + 1)));

  await t.step("unchanged, the same", () => {
    assert.deepEqual(json(), refs());
    assert.deepEqual(json(), refs());
  });

  await t.step("an element's fields changed in place: still a reference, the same JSON", () => {
    lua(vm, "rows[1].value = 100");
    assert.deepEqual(json(), refs());
  });

  await t.step("an element replaced, appended, removed", () => {
    lua(vm, "rows[2] = setmetatable({}, Row)");
    assert.deepEqual(json(), refs());
    lua(vm, "rows[11] = 'eleven'");
    assert.deepEqual(json(), [...refs(), "eleven"]);
    lua(vm, "rows[11] = 'changed'");
    assert.deepEqual(json(), [...refs(), "changed"]);
    lua(vm, "rows[11] = nil");
    assert.deepEqual(json(), refs());
  });

  await t.step("an element losing its type becomes an array in place", () => {
    lua(vm, "setmetatable(rows[3], nil); rows[3].value = nil; rows[3][1] = 'x'");
    const expected: unknown[] = refs();
    expected[2] = ["x"];
    assert.deepEqual(json(), expected);
    lua(vm, "rows[3][1] = 'y'");
    expected[2] = ["y"];
    assert.deepEqual(json(), expected, "a table inside a list, changed in place");
    lua(vm, "setmetatable(rows[3], Row)");
    assert.deepEqual(json(), refs());
  });

  await t.step("the prototype's type emptied or changed, an own type", () => {
    lua(vm, "Row.type = ''");
    const untyped = json() as unknown[];
    assert.deepEqual(untyped[1], [], "an empty type is no type");
    assert.deepEqual(untyped[2], ["y"]);
    lua(vm, "Row.type = 'Row'");
    assert.deepEqual(json(), refs());
    lua(vm, "rows[2].type = 5");
    assert.deepEqual(json(), refs(), "an own non-string type is no type, and not a sequence");
    lua(vm, "rows[2].type = nil; rows[2][1] = true");
    assert.deepEqual(json(), refs(), "typed again, through its prototype");
    lua(vm, "setmetatable(rows[2], nil)");
    const expected: unknown[] = refs();
    expected[1] = [true];
    assert.deepEqual(json(), expected, "untyped, and a sequence");
    lua(vm, "rows[2][1] = nil; setmetatable(rows[2], Row)");
    assert.deepEqual(json(), refs());
  });

  await t.step("a list with a key that is not an index becomes a reference", () => {
    lua(vm, "rows.extra = true");
    assert.deepEqual(json(), ref(rows));
    lua(vm, "rows.extra = nil");
    assert.deepEqual(json(), refs());
  });

  await t.step("over a limit it is refused, even when kept", () => {
    assert.throws(() => valueJson(vm, rows, "", 20), FailureError);
  });
});

Deno.test("typeOf follows its prototype", async (t) => {
  const vm = makeVm();
  lua(vm, "P = {type = 'A'}; P.__index = P; o = setmetatable({}, P); q = setmetatable({}, P)");
  const o = one(vm, "return o");
  const q = one(vm, "return q");
  await t.step("shared, and changed at the prototype", () => {
    assert.equal(typeOf(vm, o), "A");
    assert.equal(typeOf(vm, q), "A");
    lua(vm, "P.type = 'B'");
    assert.equal(typeOf(vm, o), "B");
  });
  await t.step("an own type, a new __index, a removed type", () => {
    lua(vm, "o.type = 'Own'");
    assert.equal(typeOf(vm, o), "Own");
    assert.equal(typeOf(vm, q), "B");
    lua(vm, "P.__index = {type = 'C'}");
    assert.equal(typeOf(vm, q), "C");
    lua(vm, "P.__index.type = nil");
    assert.equal(typeOf(vm, q), "");
    lua(vm, "P.__index = function(_, k) if k == 'type' then return 'D' end end");
    assert.equal(typeOf(vm, q), "D");
  });
});
