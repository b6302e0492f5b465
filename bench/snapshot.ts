/**
 * Snapshot size and time for the default app's session (saved as the server saves it, and a new
 * session restored from it against a fresh one), and encode/decode time (`src/lua/snapshot.ts`)
 * for a graph of 10,000 tables. Prints one JSON line per case, medians of `RUNS` runs.
 *
 * Run as `deno run --allow-read --allow-env bench/snapshot.ts [RUNS]` (default 20).
 *
 * @module
 */
import { silentLogger } from "../src/log.ts";
import { decodeSnapshot, encodeSnapshot } from "../src/lua/snapshot.ts";
import type { LuaObject, LuaValue, LuaVm } from "../src/lua/vm.ts";
import { LuaSession } from "../src/session/lua_session.ts";
import { EMBEDDED_SITE, loadSite } from "../src/site/site.ts";

const RUNS = Number(Deno.args[0] ?? 20);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.floor(sorted.length / 2)] as number).toFixed(3));
}

function measure(name: string, vm: LuaVm, root: LuaValue, references: Map<string, LuaObject>) {
  const encodeTimes: number[] = [];
  const decodeTimes: number[] = [];
  let bytes: Uint8Array = new Uint8Array();
  let tables = 0;
  let dropped = 0;
  for (let run = 0; run < RUNS; run++) {
    let start = performance.now();
    const encoded = encodeSnapshot(vm, { app: root }, { references });
    encodeTimes.push(performance.now() - start);
    if (!encoded.ok) throw new Error(encoded.error);
    bytes = encoded.bytes;
    tables = encoded.tables;
    dropped = encoded.droppedCount;
    start = performance.now();
    const decoded = decodeSnapshot(vm, bytes, { references });
    decodeTimes.push(performance.now() - start);
    if (!decoded.ok) throw new Error(decoded.error);
  }
  console.log(JSON.stringify({
    case: name,
    bytes: bytes.length,
    tables,
    dropped,
    encodeMs: median(encodeTimes),
    decodeMs: median(decodeTimes),
  }));
}

const site = await loadSite(EMBEDDED_SITE);
const options = {
  vendedId: "1",
  site,
  log: silentLogger,
  instructionBudget: 100_000_000,
  maxVariables: 100_000,
  inlineLua: false,
};
const session = LuaSession.create(options);

// The default app, the way the server saves and restores it (prototypes by name, shapes kept).
const saveTimes: number[] = [];
let saved: Uint8Array = new Uint8Array();
for (let run = 0; run < RUNS; run++) {
  const start = performance.now();
  const result = await session.snapshot();
  saveTimes.push(performance.now() - start);
  if (!result.ok) throw new Error(result.failure.description);
  saved = result.value.bytes;
}
const freshTimes: number[] = [];
const restoreTimes: number[] = [];
for (let run = 0; run < RUNS; run++) {
  let start = performance.now();
  LuaSession.create(options).shutdown();
  freshTimes.push(performance.now() - start);
  start = performance.now();
  LuaSession.create({ ...options, restoreFrom: saved }).shutdown();
  restoreTimes.push(performance.now() - start);
}
console.log(JSON.stringify({
  case: "default app session",
  bytes: saved.length,
  saveMs: median(saveTimes),
  newSessionMs: median(freshTimes),
  restoredSessionMs: median(restoreTimes),
}));

const vm = session.vmForDiagnostics;
const graph = session.evaluate(`
  local items = {}
  for i = 1, 9999 do items[i] = {id = i, name = "item " .. i, score = i / 7, done = i % 2 == 0} end
  return {items = items}`);
if (!graph.ok) throw new Error(graph.failure.description);
measure("10,000 tables", vm, graph.value[0] ?? null, new Map());
session.shutdown();
