// Lua snapshots: encode a data graph in one VM, decode it into a fresh one, and check it there
// with Lua code; corrupt and truncated bytes fail cleanly.
import assert from "node:assert/strict";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { decodeSnapshot, encodeSnapshot, type SnapshotOptions } from "../../src/lua/snapshot.ts";
import type { LuaObject, LuaValue } from "../../src/lua/vm.ts";
import { LuaVm } from "../../src/lua/vm.ts";

function makeVm(): { vm: LuaVm; lua: (code: string, ...args: LuaValue[]) => LuaValue[] } {
  const vm = new LuaVm({ instructionBudget: 100_000_000 });
  openSandbox(vm, { print: () => {} });
  const lua = (code: string, ...args: LuaValue[]) => {
    vm.beginEntry();
    // The count of results comes first, so that trailing nils are kept and no more are added.
    const fn = vm.evaluate(
      `local function f(...) ${code} end
       return function(...) return (function(...) return select("#", ...), ... end)(f(...)) end`,
    );
    if (!fn.ok) assert.fail(fn.failure.description);
    const result = vm.call(fn.value[0] ?? null, args, 12);
    if (!result.ok) assert.fail(result.failure.description);
    return result.value.slice(1, 1 + (result.value[0] as number));
  };
  return { vm, lua };
}

/** Encodes `code`'s result as root `app` and decodes it into a fresh VM. */
function roundTrip(code: string, options: Partial<SnapshotOptions> = {}) {
  const source = makeVm();
  const [app] = source.lua(code);
  const encoded = encodeSnapshot(source.vm, { app: app ?? null }, options);
  if (!encoded.ok) assert.fail(encoded.error);
  const target = makeVm();
  const decoded = decodeSnapshot(target.vm, encoded.bytes, options);
  if (!decoded.ok) assert.fail(decoded.error);
  return { encoded, decoded, target, app: decoded.roots.get("app") ?? null };
}

Deno.test("snapshot round trips", async (t) => {
  await t.step("cycles, shared references and tables as keys stay shared", () => {
    const { target, app } = roundTrip(`
      local shared = {name = "shared"}
      local t = {a = shared, b = shared, list = {shared, shared}}
      t.self = t
      t.list.owner = t
      t[shared] = "by table"
      return t`);
    assert.deepEqual(
      target.lua(
        `local t = ...
         return t.self == t, t.a == t.b, t.list[1] == t.a, t.list.owner == t, t[t.a], t.a.name`,
        app,
      ),
      [true, true, true, true, "by table", "shared"],
    );
  });

  await t.step("strings keep NUL and invalid UTF-8 bytes; numbers keep their kind", () => {
    const { target, app } = roundTrip(`
      return {s = "a\\0b\\255\\254", [ "k\\0" ] = 1, i = 42, neg = -7, big = 2147483647,
              f = 1.5, whole = 3.0, inf = math.huge, nz = -0.0, yes = true, no = false,
              [2.5] = "float key", [-1] = "negative key"}`);
    assert.deepEqual(
      target.lua(
        `local t = ...
         return t.s == "a\\0b\\255\\254", #t.s, t["k\\0"], math.type(t.i), t.neg, t.big,
                math.type(t.whole), t.inf == math.huge, 1 / t.nz, t.yes`,
        app,
      ),
      // Numbers are exact doubles (see numbers.ts): an integral 3.0 reports as an integer.
      [true, 5, 1, "integer", -7, 2147483647, "integer", true, -Infinity, true],
    );
    assert.deepEqual(target.lua(`local t = ... return t.no, t[2.5], t[-1], t.f`, app), [
      false,
      "float key",
      "negative key",
      1.5,
    ]);
  });

  await t.step("a 100,000-deep chain and a wide graph over 1 MiB", () => {
    const deep = roundTrip(`
      local root = {} local d = root
      for i = 1, 100000 do d.next = {i = i} d = d.next end
      return root`);
    assert.equal(deep.decoded.tables, 100_001);
    assert.deepEqual(
      deep.target.lua(
        `local d, n = ..., 0 while d.next do d = d.next n = n + 1 end return n, d.i`,
        deep.app,
      ),
      [100_000, 100_000],
    );
    const wide = roundTrip(`
      local t = {}
      for i = 1, 20000 do t[i] = {id = i, label = "item " .. i, pad = string.rep("x", 40) .. i} end
      return t`);
    assert.ok(wide.encoded.bytes.length > 1024 * 1024, `${wide.encoded.bytes.length} bytes`);
    assert.deepEqual(wide.target.lua(`local t = ... return #t, t[12345].label`, wide.app), [
      20000,
      "item 12345",
    ]);
  });

  await t.step("prototype instances point at the restoring VM's prototype by name", () => {
    const source = makeVm();
    const [proto, app] = source.lua(`
      local Contact = {type = "Contact"} Contact.__index = Contact
      function Contact:hello() return "old " .. self.name end
      local app = {people = {setmetatable({name = "ann"}, Contact)}, kind = Contact,
                   plain = setmetatable({}, {__index = {fallback = 1}})}
      return Contact, app`);
    const references = new Map([["Contact", proto as LuaObject]]);
    const encoded = encodeSnapshot(source.vm, { app: app ?? null }, { references });
    if (!encoded.ok) assert.fail(encoded.error);
    const target = makeVm();
    const [newProto] = target.lua(`
      local Contact = {type = "Contact"} Contact.__index = Contact
      function Contact:hello() return "new " .. self.name end
      return Contact`);
    const decoded = decodeSnapshot(target.vm, encoded.bytes, {
      references: new Map([["Contact", newProto as LuaObject]]),
    });
    if (!decoded.ok) assert.fail(decoded.error);
    assert.deepEqual(decoded.missing, []);
    assert.deepEqual(
      target.lua(
        `local app, Contact = ...
         return app.people[1]:hello(), getmetatable(app.people[1]) == Contact, app.kind == Contact,
                app.plain.fallback, rawget(Contact, "name")`,
        decoded.roots.get("app") ?? null,
        newProto ?? null,
      ),
      ["new ann", true, true, 1, null],
    );
    const orphan = decodeSnapshot(makeVm().vm, encoded.bytes);
    assert.ok(orphan.ok);
    assert.deepEqual(orphan.missing, ["Contact"]);
  });

  await t.step("functions, coroutines and userdata are dropped and listed", () => {
    const { encoded, target, app } = roundTrip(`
      return {keep = 1, onClick = function() end, co = coroutine.create(function() end),
              items = {{name = "x", render = print}}, [print] = "function key"}`);
    assert.equal(encoded.droppedCount, 4);
    assert.deepEqual([...encoded.dropped].sort(), [
      "app.co (coroutine)",
      "app.items[1].render (function)",
      "app.onClick (function)",
      "app[key] (function)",
    ]);
    assert.deepEqual(
      target.lua(
        `local t = ... local n = 0 for _ in pairs(t) do n = n + 1 end return t.keep, n`,
        app,
      ),
      [1, 2],
    );
  });

  await t.step("several roots share one graph", () => {
    const source = makeVm();
    const [a, b] = source.lua(`local s = {} return {s = s}, {s = s, n = 1}`);
    const encoded = encodeSnapshot(source.vm, { a: a ?? null, b: b ?? null, count: 3 });
    if (!encoded.ok) assert.fail(encoded.error);
    const target = makeVm();
    const decoded = decodeSnapshot(target.vm, encoded.bytes);
    if (!decoded.ok) assert.fail(decoded.error);
    assert.equal(decoded.roots.get("count"), 3);
    assert.deepEqual(
      target.lua(
        `local a, b = ... return a.s == b.s, b.n`,
        decoded.roots.get("a") ?? null,
        decoded.roots.get("b") ?? null,
      ),
      [true, 1],
    );
  });
});

Deno.test("snapshot limits and corrupt input", async (t) => {
  const source = makeVm();
  const [app] = source.lua(`
    local t = {name = "root", list = {}}
    for i = 1, 50 do t.list[i] = {i = i, s = "v" .. i, f = i / 3, back = t} end
    return t`);
  const encoded = encodeSnapshot(source.vm, { app: app ?? null });
  if (!encoded.ok) assert.fail(encoded.error);
  const bytes = encoded.bytes;

  await t.step("over the size or table limit, encoding fails with a reason", () => {
    const small = encodeSnapshot(source.vm, { app: app ?? null }, { maxBytes: 100 });
    assert.deepEqual(small, { ok: false, error: "Snapshot is larger than its limit of 100 bytes" });
    const few = encodeSnapshot(source.vm, { app: app ?? null }, { maxTables: 10 });
    assert.deepEqual(few, { ok: false, error: "Snapshot has more than its limit of 10 tables" });
    const target = makeVm();
    const decoded = decodeSnapshot(target.vm, bytes, { maxTables: 10 });
    assert.deepEqual(decoded, {
      ok: false,
      error: "Snapshot has more than its limit of 10 tables",
    });
  });

  await t.step("every truncation fails cleanly and leaves the stack as it was", () => {
    const target = makeVm();
    for (let length = 0; length < bytes.length; length++) {
      const result = decodeSnapshot(target.vm, bytes.subarray(0, length));
      assert.equal(result.ok, false, `length ${length}`);
      assert.equal(target.vm.evaluate("return 1").ok, true);
    }
  });

  await t.step(
    "foreign bytes, other versions and flipped bytes fail or decode, never throw",
    () => {
      const target = makeVm();
      assert.deepEqual(
        decodeSnapshot(target.vm, new TextEncoder().encode("not a snapshot at all")),
        {
          ok: false,
          error: "Bytes are not a Lua snapshot",
        },
      );
      const future = bytes.slice();
      future[4] = 99;
      assert.deepEqual(decodeSnapshot(target.vm, future), {
        ok: false,
        error: "Snapshot format version 99 is not supported",
      });
      let failures = 0;
      let seed = 7;
      for (let round = 0; round < 2000; round++) {
        const bad = bytes.slice();
        seed = (seed * 1103515245 + 12345) >>> 0;
        const at = 16 + (seed % (bad.length - 16));
        bad[at] = (bad[at] as number) ^ (1 + (seed >>> 24) % 255);
        const result = decodeSnapshot(target.vm, bad);
        if (!result.ok) {
          failures++;
          assert.match(result.error, /^Snapshot/);
        }
      }
      assert.ok(failures > 500, `${failures} of 2000 flips detected`);
    },
  );
});
