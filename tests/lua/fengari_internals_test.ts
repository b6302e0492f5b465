// Compiled chunks shared between sessions: each session still gets its own globals, its own
// closures and correct tracebacks.
import assert from "node:assert/strict";
import { pushCompiled } from "../../src/lua/fengari_internals.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { LuaVm } from "../../src/lua/vm.ts";

const CODE = `
counter = (counter or 0) + 1
make = function() return function() return counter end end
function fail() error("boom") end
return counter
`;

function freshVm(): LuaVm {
  const vm = new LuaVm();
  openSandbox(vm);
  vm.beginEntry();
  return vm;
}

Deno.test("chunk cache", async (t) => {
  const name = `@lua/shared_${crypto.randomUUID()}.lua`;
  const first = freshVm();
  const second = freshVm();

  await t.step("a chunk compiled once is reused by another state", () => {
    assert.equal(pushCompiled(second.L, CODE, name), false, "unknown before the first load");
    assert.deepEqual(first.evaluate(CODE, name), { ok: true, value: [1] });
    assert.equal(pushCompiled(second.L, CODE, name), true, "known after it");
  });

  await t.step("each state keeps its own globals", () => {
    const again = second.evaluate(CODE, name);
    assert.deepEqual(again, { ok: true, value: [1] }, "the second state starts from nil");
    assert.deepEqual(first.evaluate(CODE, name), { ok: true, value: [2] });
    assert.deepEqual(second.evaluate("return counter"), { ok: true, value: [1] });
  });

  await t.step("closures made from shared code are distinct", () => {
    assert.deepEqual(second.evaluate("return make() ~= make()"), { ok: true, value: [true] });
    assert.deepEqual(second.evaluate("return make()()"), { ok: true, value: [1] });
  });

  await t.step("errors in shared code name the chunk and line", () => {
    const result = second.evaluate("fail()", "=caller");
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.failure.description, /shared_.*\.lua:4: boom/);
  });

  await t.step("a state that shared code is closed without touching the other", () => {
    first.close();
    assert.deepEqual(second.evaluate(CODE, name), { ok: true, value: [2] });
  });
});
