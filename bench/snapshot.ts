/**
 * Snapshot size and encode/decode time (`src/lua/snapshot.ts`) for the default app's data (the
 * app object after `lua/main.lua` ran in a session, prototypes kept by name) and for a graph of
 * 10,000 tables. Prints one JSON line per case: bytes, tables, median milliseconds of 20 runs.
 *
 * Run as `deno run --allow-read --allow-env bench/snapshot.ts`.
 *
 * @module
 */
import { lua } from "../src/lua/fengari.ts";
import { silentLogger } from "../src/log.ts";
import { decodeSnapshot, encodeSnapshot } from "../src/lua/snapshot.ts";
import type { LuaObject, LuaValue, LuaVm } from "../src/lua/vm.ts";
import { LuaSession } from "../src/session/lua_session.ts";
import { EMBEDDED_SITE, loadSite } from "../src/site/site.ts";

const RUNS = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.floor(sorted.length / 2)] as number).toFixed(3));
}

/** The `name → prototype` pairs of a registry table. */
function namedTables(vm: LuaVm, registry: LuaObject): Map<string, LuaObject> {
  const names = new Map<string, LuaObject>();
  registry.push(vm.L);
  lua.lua_pushnil(vm.L);
  while (lua.lua_next(vm.L, -2) !== 0) {
    const name = vm.read(-2);
    if (typeof name === "string" && lua.lua_type(vm.L, -1) === lua.LUA_TTABLE) {
      names.set(name, vm.objectAt(-1));
    }
    lua.lua_pop(vm.L, 1);
  }
  lua.lua_pop(vm.L, 1);
  return names;
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

const session = LuaSession.create({
  vendedId: "1",
  site: await loadSite(EMBEDDED_SITE),
  log: silentLogger,
  instructionBudget: 100_000_000,
  maxVariables: 100_000,
  inlineLua: false,
});
const references = namedTables(session.vm, session.appModel.registry);
measure("default app", session.vm, session.getApp(), references);

session.vm.beginEntry();
const graph = session.vm.evaluate(`
  local items = {}
  for i = 1, 9999 do items[i] = {id = i, name = "item " .. i, score = i / 7, done = i % 2 == 0} end
  return {items = items}`);
if (!graph.ok) throw new Error(graph.failure.description);
measure("10,000 tables", session.vm, graph.values[0] ?? null, new Map());
session.shutdown();
