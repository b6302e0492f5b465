/**
 * Fairness bench: latency of a trivial entry in session A (p50/p99), with nothing else running,
 * while session B runs 250 ms actions as sliced entries (time_slice.ts), and while B runs them
 * to completion (an unsliced entry, as before slicing). Latency is measured from the moment the
 * click was due, so time spent waiting behind B counts. In-process.
 *
 * Run: deno run --allow-all bench/fairness.ts [clicks]
 *
 * @module
 */
import { openSandbox } from "../src/lua/sandbox.ts";
import { runSliced } from "../src/lua/time_slice.ts";
import { type LuaValue, LuaVm } from "../src/lua/vm.ts";

const CLICKS = Number(Deno.args[0] ?? 200);
const LONG = "local x, t0 = 0, os.clock() while os.clock() - t0 < 0.25 do x = x + 1 end return x";

function session(): { vm: LuaVm; fn: (code: string) => LuaValue } {
  const vm = new LuaVm({ instructionBudget: 1_000_000_000 });
  openSandbox(vm);
  vm.beginEntry();
  return {
    vm,
    fn: (code) => {
      const result = vm.evaluate(`return function(...) ${code} end`);
      if (!result.ok) throw new Error(result.failure.description);
      return result.value[0] ?? null;
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/** Clicks A every 2-7 ms while `background` runs; returns the sorted latencies. */
async function clicks(background: (() => Promise<void>) | null): Promise<number[]> {
  const a = session();
  const click = a.fn("local t = {n = (...)} return t.n + 1");
  let running = background !== null;
  const loop = (async () => {
    while (running && background) await background();
  })();
  const latencies: number[] = [];
  for (let i = 0; i < CLICKS; i++) {
    const delay = 2 + Math.random() * 5;
    const due = performance.now() + delay;
    await new Promise((resolve) => setTimeout(resolve, delay));
    const result = await runSliced(a.vm, click, [i]);
    if (!result.ok) throw new Error(result.failure.description);
    latencies.push(performance.now() - due);
  }
  running = false;
  await loop;
  return latencies.sort((x, y) => x - y);
}

const b = session();
const long = b.fn(LONG);
const rows: [string, number[]][] = [
  ["idle", await clicks(null)],
  ["B sliced", await clicks(async () => void await runSliced(b.vm, long, []))],
  [
    "B unsliced",
    await clicks(async () => {
      b.vm.beginEntry();
      b.vm.call(long, []);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }),
  ],
];
const [, idle] = rows[0] as [string, number[]];
console.log(`fairness: ${CLICKS} clicks in A, B running 250 ms actions`);
for (const [name, latencies] of rows) {
  const p50 = percentile(latencies, 0.5);
  const p99 = percentile(latencies, 0.99);
  console.log(
    `${name.padEnd(11)} p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  ` +
      `p99/idle ${(p99 / percentile(idle, 0.99)).toFixed(1)}x`,
  );
}
