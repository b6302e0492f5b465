/**
 * Session cost, measured in its own process (run with `--v8-flags=--expose-gc`):
 *
 * - `session`: the server's own path. A `SessionManager` over the bench site gets a connection
 *   for a fresh sid (the session is created and `main.lua` runs) and the frame `watch 1`; the
 *   time runs until the answer is written to the connection. The session then binds the four
 *   variables the load clients use and stays open, idle.
 * - `bare`: the baseline. A bare fengari state (`luaL_newstate` and `luaL_openlibs`) runs the
 *   same `main.lua` with a stub `session` table.
 *
 * Memory per session is the growth of the heap and of the resident set over all the sessions,
 * each measured after a forced collection. Prints one JSON line.
 *
 * Run as `deno run --allow-read --v8-flags=--expose-gc bench/session_cost.ts KIND COUNT SITE`.
 *
 * @module
 */
import fengari from "fengari";
import { silentLogger } from "../src/log.ts";
import { DEFAULT_CONFIG } from "../src/config.ts";
import type { ConnectionSink } from "../src/session/connection.ts";
import { SessionManager } from "../src/session/manager.ts";
import { loadSite, type Site } from "../src/site/site.ts";
import { memoryAfterGc, summarize, type Summary } from "./stats.ts";
import { BIND_FRAME, WATCH_FRAME } from "./frames.ts";

/** What one run reports. */
export interface SessionCostResult {
  kind: "session" | "bare";
  count: number;
  /** Milliseconds from nothing to the first answer (or to `main.lua` having run). */
  create: Summary;
  /** Sessions made per second, back to back. */
  perSecond: number;
  /** Heap growth per live session, in bytes. */
  heapPerSession: number;
  /** Resident set growth per live session, in bytes. */
  rssPerSession: number;
  /** False when the process ran without an exposed collector. */
  gc: boolean;
}

const STUB_SESSION = `
local app
session = {
  id = "1",
  reloading = false,
  createAppVariable = function(_, value) app = value return 1 end,
  getApp = function() return app end,
  log = function() end,
}
`;

function sid(n: number): string {
  return n.toString(16).padStart(32, "0");
}

/** Makes `count` sessions through the session manager, each answered and left idle. */
async function serverSessions(site: Site, count: number): Promise<[number[], unknown]> {
  const manager = new SessionManager({
    ...DEFAULT_CONFIG,
    site,
    log: silentLogger,
    flushDelayMs: 10,
  });
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const answered = Promise.withResolvers<void>();
    const sink: ConnectionSink = {
      send: () => answered.resolve(),
      close: () => {},
    };
    const start = performance.now();
    const connection = manager.connect(sid(i + 1), sink);
    await connection.receive(WATCH_FRAME);
    await answered.promise;
    times.push(performance.now() - start);
    await connection.receive(BIND_FRAME);
  }
  if (manager.sessionCount !== count) throw new Error("Some sessions were not created");
  return [times, manager];
}

/** Makes `count` bare fengari states running the same main.lua. */
function bareStates(source: string, count: number): [number[], unknown] {
  const { lua, lauxlib, lualib, to_luastring } = fengari;
  const stub = to_luastring(STUB_SESSION);
  const main = to_luastring(source);
  const chunkName = to_luastring("@lua/main.lua");
  const states: unknown[] = [];
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const L = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    if (lauxlib.luaL_loadstring(L, stub) !== lua.LUA_OK || lua.lua_pcall(L, 0, 0, 0) !== 0) {
      throw new Error("Stub session failed");
    }
    if (
      lauxlib.luaL_loadbuffer(L, main, main.length, chunkName) !== lua.LUA_OK ||
      lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK
    ) {
      throw new Error(`main.lua failed: ${lua.lua_tojsstring(L, -1)}`);
    }
    times.push(performance.now() - start);
    states.push(L);
  }
  return [times, states];
}

/**
 * Measures one kind of session.
 *
 * @example
 * ```ts
 * import { measureSessionCost } from "./session_cost.ts";
 * const result = await measureSessionCost("bare", 100, "bench/site");
 * ```
 */
export async function measureSessionCost(
  kind: "session" | "bare",
  count: number,
  siteDir: string,
): Promise<SessionCostResult> {
  const site = await loadSite(siteDir);
  const source = site.lua.get("main.lua") ?? "";
  // Warm up the code paths so that compilation is not counted as session cost.
  const warm = Math.min(100, count);
  if (kind === "session") await serverSessions(site, warm);
  else bareStates(source, warm);
  const before = await memoryAfterGc();
  const gcExposed = "gc" in globalThis;
  const started = performance.now();
  const [times, keep] = kind === "session"
    ? await serverSessions(site, count)
    : bareStates(source, count);
  const elapsed = performance.now() - started;
  const after = await memoryAfterGc();
  if (keep === undefined) throw new Error("Nothing was kept alive");
  return {
    kind,
    count,
    create: summarize(times),
    perSecond: count / (elapsed / 1000),
    heapPerSession: (after.heapUsed - before.heapUsed) / count,
    rssPerSession: (after.rss - before.rss) / count,
    gc: gcExposed,
  };
}

if (import.meta.main) {
  const [kind, count, siteDir] = Deno.args;
  if ((kind !== "session" && kind !== "bare") || !count || !siteDir) {
    console.error("Usage: session_cost.ts session|bare COUNT SITE");
    Deno.exit(2);
  }
  console.log(JSON.stringify(await measureSessionCost(kind, Number(count), siteDir)));
  Deno.exit(0);
}
