// The fengari internals: their self-check, and compiled chunks shared between sessions (each
// session still gets its own globals, its own closures and correct tracebacks).
import assert from "node:assert/strict";
import { internalsStatus, reportInternals } from "../../src/lua/fengari_internals/self_check.ts";
import { pushCompiled } from "../../src/lua/fengari_internals/shared_chunks.ts";
import { shareKeys } from "../../src/lua/fengari_internals/shared_strings.ts";
import type { RawTable } from "../../src/lua/fengari_internals/raw_reads.ts";
import { capStringOperands, operandHooksOn } from "../../src/lua/fengari_internals/operands.ts";
import { useExactNumbers } from "../../src/lua/numbers.ts";
import { installMemoryBudget } from "../../src/lua/memory_budget.ts";
import { createLogger } from "../../src/log.ts";
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

Deno.test("self-check", async (t) => {
  await t.step("every layout check passes on this fengari", () => {
    const status = internalsStatus();
    assert.equal(status.rawReads, true);
    assert.equal(status.sharedChunks, true);
    assert.equal(status.sharedStrings, true);
    assert.equal(status.operandHooks, true);
    assert.equal(status.allocationHooks, true);
    assert.equal(operandHooksOn(), true);
  });

  await t.step("exact numbers are reported once installed", () => {
    assert.deepEqual(useExactNumbers(), { exact: true });
    assert.equal(internalsStatus().exactNumbers, true);
  });

  await t.step("the patches that use the checks install", () => {
    assert.equal(capStringOperands(16 * 1024 * 1024, () => {}), true);
    const vm = new LuaVm();
    const meter = installMemoryBudget(vm, { maxBytes: 16 * 1024 * 1024 });
    vm.beginEntry();
    const result = vm.evaluate("local t = {} for i = 1, 1e7 do t[i] = i end");
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.failure.code, "lua-memory");
    assert.equal(meter.exceeded, true);
  });

  await t.step("a report with every check passing logs nothing", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", write: (line: string) => lines.push(line) });
    const status = reportInternals(logger);
    assert.equal(status.rawReads && status.sharedChunks && status.allocationHooks, true);
    assert.deepEqual(lines, []);
  });
});

Deno.test("names shared between sessions", async (t) => {
  const sandboxed = () => {
    const vm = new LuaVm();
    openSandbox(vm);
    vm.beginEntry();
    return vm;
  };
  const first = sandboxed();
  const second = sandboxed();

  await t.step("a second session's library names are the first one's copies", () => {
    const table = (vm: LuaVm) => {
      const result = vm.evaluate("return {upper = 1, lower = 2}");
      assert.equal(result.ok, true);
      return ((result.ok ? result.value[0] : null) as { raw: RawTable }).raw;
    };
    shareKeys(table(first));
    assert.equal(shareKeys(table(second)), 2);
    // The sandbox shared the library names already: nothing is left to replace.
    assert.equal(shareKeys(second.globals().raw as RawTable), 0);
  });

  await t.step("each session still changes only its own tables", () => {
    const code = `string.upper = function() return "mine" end
      local names = 0
      for _ in pairs(math) do names = names + 1 end
      return ("x"):upper(), string.lower("AB"), names > 20`;
    assert.deepEqual(first.evaluate(code), { ok: true, value: ["mine", "ab", true] });
    assert.deepEqual(second.evaluate(`return ("x"):upper(), math.floor(2.5)`), {
      ok: true,
      value: ["X", 2],
    });
  });
});
