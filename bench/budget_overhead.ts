/**
 * Cost of the memory budget (memory_budget.ts) on Lua code: a CPU-bound loop, table-heavy code
 * and string building, each timed (best of N) before fengari is patched, then in a VM under a
 * 64 MiB budget, in the same process. Also the cost of one heap walk per live megabyte.
 *
 * Run: deno run --allow-all bench/budget_overhead.ts [rounds]
 *
 * @module
 */
import { installMemoryBudget, measureLuaHeap } from "../src/lua/memory_budget.ts";
import { openSandbox } from "../src/lua/sandbox.ts";
import { LuaVm } from "../src/lua/vm.ts";

const ROUNDS = Number(Deno.args[0] ?? 5);
const CASES: Record<string, string> = {
  cpu: "local x = 0 for i = 1, 3e6 do x = (x + i * 3) % 1000003 end return x",
  tables: "local t = {} for i = 1, 1e5 do t[i] = {i, name = 'n' .. (i % 100)} end return #t",
  strings: "local p = {} for i = 1, 1e5 do p[#p + 1] = tostring(i) .. ',' end return #p",
};

function best(budget: boolean, code: string): number {
  const vm = new LuaVm({ instructionBudget: 1e9 });
  if (budget) installMemoryBudget(vm, { maxBytes: 64 * 1024 * 1024 });
  openSandbox(vm);
  let fastest = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    vm.beginEntry();
    const started = performance.now();
    const result = vm.evaluate(code);
    if (!result.ok) throw new Error(result.failure.description);
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

const without = Object.fromEntries(Object.entries(CASES).map(([k, c]) => [k, best(false, c)]));
console.log(`memory budget overhead (best of ${ROUNDS}, ms)`);
for (const [name, code] of Object.entries(CASES)) {
  const withBudget = best(true, code);
  const base = without[name] as number;
  console.log(
    `${name.padEnd(8)} without ${base.toFixed(1)}  with ${withBudget.toFixed(1)}  ` +
      `ratio ${(withBudget / base).toFixed(2)}`,
  );
}
const vm = new LuaVm({ instructionBudget: 1e9 });
openSandbox(vm);
vm.beginEntry();
vm.evaluate("keep = {} for i = 1, 2e5 do keep[i] = {i, 'v' .. i} end");
const started = performance.now();
const bytes = measureLuaHeap(vm.L);
const ms = performance.now() - started;
console.log(
  `walk: ${(bytes / 1048576).toFixed(1)} MiB estimated live in ${ms.toFixed(1)} ms ` +
    `(${(ms / (bytes / 1048576)).toFixed(2)} ms per MiB)`,
);
