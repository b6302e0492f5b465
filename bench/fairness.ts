/**
 * Fairness bench: latency of a trivial click (an action through `handleFrame`) in session A,
 * p50/p99, with nothing else running and while session B runs 250 ms actions, both through the
 * real session path (time-sliced messages, `src/lua/resumable.ts`). Latency is measured from
 * the moment the click was due, so time spent waiting behind B counts. In-process.
 *
 * Run: deno run --allow-all bench/fairness.ts [clicks]
 *
 * @module
 */
import { silentLogger } from "../src/log.ts";
import { parseMessage } from "../src/protocol/messages.ts";
import { LuaSession } from "../src/session/lua_session.ts";
import { ViewdefStore } from "../src/viewdefs/store.ts";

const MAIN = `
app = { count = 0 }
function app:click() self.count = self.count + 1 end
function app:busy() local x, t0 = 0, os.clock() while os.clock() - t0 < 0.25 do x = x + 1 end end
session:createAppVariable(app)
`;

/** p50/p99 of the click, idle and while B is busy, in milliseconds. */
export interface FairnessResult {
  clicks: number;
  idle: { p50: number; p99: number };
  busy: { p50: number; p99: number };
}

async function session(vendedId: string): Promise<(method: string) => Promise<void>> {
  const s = LuaSession.create({
    vendedId,
    site: {
      root: "/in-memory",
      lua: new Map([["main.lua", MAIN]]),
      viewdefs: new ViewdefStore(new Map()),
      htmlDir: undefined,
    },
    log: silentLogger,
    instructionBudget: 1_000_000_000,
    maxVariables: 1000,
    inlineLua: false,
    // The bench binds its actions without templates.
    openPaths: true,
  });
  const frame = (...messages: unknown[]) =>
    s.handleFrame({ userEvent: true, items: messages.map((m) => parseMessage(m)) });
  await frame({ type: "watch", data: { varId: 1 } });
  const ids = new Map<string, number>();
  return async (method) => {
    let id = ids.get(method);
    if (id === undefined) {
      ids.set(method, id = ids.size + 2);
      await frame({
        type: "create",
        data: { id, parentId: 1, properties: { path: `${method}()`, access: "action" } },
      });
    }
    await frame({ type: "update", data: { varId: id, value: null } });
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/** Clicks A every 2-7 ms while `background` runs; returns p50 and p99. */
async function clicks(
  n: number,
  background: (() => Promise<void>) | null,
): Promise<{ p50: number; p99: number }> {
  const a = await session("A");
  await a("click");
  let running = background !== null;
  const loop = (async () => {
    while (running && background) await background();
  })();
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const delay = 2 + Math.random() * 5;
    const due = performance.now() + delay;
    await new Promise((resolve) => setTimeout(resolve, delay));
    await a("click");
    latencies.push(performance.now() - due);
  }
  running = false;
  await loop;
  latencies.sort((x, y) => x - y);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/**
 * Measures the click's latency idle and while another session runs 250 ms actions.
 *
 * @example
 * ```ts ignore
 * const result = await measureFairness(200);
 * // result.busy.p99 <= 2 * result.idle.p99 + 5 is the target
 * ```
 */
export async function measureFairness(n: number): Promise<FairnessResult> {
  const idle = await clicks(n, null);
  const b = await session("B");
  const busy = await clicks(n, () => b("busy"));
  return { clicks: n, idle, busy };
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 200);
  const { idle, busy } = await measureFairness(n);
  console.log(`fairness: ${n} clicks in A, B running 250 ms actions`);
  for (const [name, figures] of [["idle", idle], ["B busy", busy]] as const) {
    console.log(
      `${name.padEnd(7)} p50 ${figures.p50.toFixed(2)} ms  p99 ${figures.p99.toFixed(2)} ms  ` +
        `p99/idle ${(figures.p99 / idle.p99).toFixed(1)}x`,
    );
  }
  console.log(`target: p99 <= 2 x idle p99 + 5 ms = ${(2 * idle.p99 + 5).toFixed(2)} ms`);
}
