/**
 * Change detection, in-process: one session of the bench site gets a list of rows and a
 * variable tree shaped like the one a list view makes (the list, one variable per row, and the
 * row's `value` and `name` under it), created with `create` messages through `handleFrame`.
 * Then `session.afterBatch()` is timed after a batch that changed nothing, one row, or every row.
 *
 * The baseline is the naive algorithm: for every watched variable, follow its path the same
 * way, re-serialise the whole value (every table walked to the bottom through the Lua API into
 * JSON-like text) and compare the text with the previous one.
 *
 * Run as `deno run --allow-read --v8-flags=--expose-gc bench/change_detection.ts SITE N...`;
 * prints one JSON line.
 *
 * @module
 */
import { fromLua, lua, type LuaState, type LuaString } from "../src/lua/fengari.ts";
import { readSegments } from "../src/lua/navigate.ts";
import type { LuaValue, LuaVm } from "../src/lua/vm.ts";
import { silentLogger } from "../src/log.ts";
import type { CreateMessage, ParsedFrame } from "../src/protocol/messages.ts";
import { LuaSession } from "../src/session/lua_session.ts";
import { loadSite } from "../src/site/site.ts";
import type { Variable } from "../src/variables/variable.ts";
import { collectGarbage, median } from "./stats.ts";

/** The three batches timed at each size. */
export type Scenario = "none" | "one" | "all";

/** One size and scenario. */
export interface DetectionFigure {
  /** Watched variables (besides variable 1). */
  variables: number;
  scenario: Scenario;
  /** Updates the batch produced. */
  updates: number;
  /** Median time of `afterBatch`, in microseconds. */
  micros: number;
  /** The naive algorithm's median time on the same tree, in microseconds. */
  naiveMicros: number;
  /** Values the naive algorithm found changed. */
  naiveChanged: number;
}

/**
 * Untimed passes of both algorithms before the timed ones: at least 10, and about 30,000
 * variables' worth, so that a small tree is timed on optimised code as a large one is. (After
 * 3 passes over 10,000 variables the times still fell by half over the next ten: the code was
 * still being optimised.)
 */
function warmUpPasses(variables: number): number {
  return Math.max(10, Math.round(30_000 / variables));
}

/** Rows per size: the list variable plus three variables per row. */
function rowsFor(variables: number): number {
  return Math.max(1, Math.round((variables - 1) / 3));
}

function createMessage(id: number, parentId: number, path: string): CreateMessage {
  return {
    type: "create",
    data: { id, parentId, properties: { path, access: "r" }, nowatch: false, unbound: false },
  };
}

function treeFrame(rows: number): ParsedFrame {
  const items: CreateMessage[] = [createMessage(2, 1, "rows")];
  for (let r = 0; r < rows; r++) {
    const rowId = 3 + 3 * r;
    items.push(createMessage(rowId, 2, String(r)));
    items.push(createMessage(rowId + 1, rowId, "value"));
    items.push(createMessage(rowId + 2, rowId, "name"));
  }
  return { userEvent: true, items };
}

/**
 * The naive change detector: full serialisation of every watched value, compared as text.
 * It keeps the last text of every variable, as a server doing it this way would.
 */
class NaiveDetector {
  readonly #vm: LuaVm;
  readonly #last = new Map<number, string>();
  readonly #values = new Map<number, LuaValue>();

  constructor(vm: LuaVm) {
    this.#vm = vm;
  }

  /** One pass over the tree, parents first; returns how many values changed. */
  detect(roots: Iterable<Variable<LuaValue>>): number {
    let changed = 0;
    const stack = [...roots].reverse();
    while (stack.length > 0) {
      const variable = stack.pop() as Variable<LuaValue>;
      let value = variable.value;
      if (variable.path) {
        const base = variable.parent ? this.#values.get(variable.parent.id) ?? null : null;
        const read = readSegments(this.#vm, base, variable.path.segments);
        value = read.ok ? read.value : null;
      }
      this.#values.set(variable.id, value);
      const text = this.#serialise(value);
      if (this.#last.get(variable.id) !== text) {
        this.#last.set(variable.id, text);
        changed++;
      }
      const children = [...variable.children];
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Variable<LuaValue>);
    }
    return changed;
  }

  #serialise(value: LuaValue): string {
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    const L = this.#vm.L;
    const top = lua.lua_gettop(L);
    value.push(L);
    const parts: string[] = [];
    encodeAt(L, lua.lua_gettop(L), parts, new Set());
    lua.lua_settop(L, top);
    return parts.join("");
  }
}

/** Writes the value at `idx` as JSON-like text, walking tables completely. */
function encodeAt(L: LuaState, idx: number, out: string[], seen: Set<object>): void {
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TNIL:
      out.push("null");
      return;
    case lua.LUA_TBOOLEAN:
      out.push(lua.lua_toboolean(L, idx) ? "true" : "false");
      return;
    case lua.LUA_TNUMBER:
      out.push(String(lua.lua_tonumber(L, idx)));
      return;
    case lua.LUA_TSTRING:
      out.push(JSON.stringify(fromLua(lua.lua_tolstring(L, idx) as LuaString)));
      return;
    case lua.LUA_TTABLE: {
      const pointer = lua.lua_topointer(L, idx) as object;
      if (seen.has(pointer)) {
        out.push('"<cycle>"');
        return;
      }
      seen.add(pointer);
      out.push("{");
      let first = true;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, idx) !== 0) {
        if (!first) out.push(",");
        first = false;
        const keyType = lua.lua_type(L, -2);
        const key = keyType === lua.LUA_TSTRING
          ? fromLua(lua.lua_tolstring(L, -2) as LuaString)
          : String(lua.lua_tonumber(L, -2));
        out.push(JSON.stringify(key), ":");
        encodeAt(L, lua.lua_gettop(L), out, seen);
        lua.lua_pop(L, 1);
      }
      out.push("}");
      seen.delete(pointer);
      return;
    }
    default:
      out.push('"<function>"');
  }
}

function micros(task: () => void): number {
  const start = performance.now();
  task();
  return (performance.now() - start) * 1000;
}

/**
 * Builds a session with about `variables` watched variables and times the three batches.
 *
 * @example
 * ```ts
 * import { measureChangeDetection } from "./change_detection.ts";
 * const figures = await measureChangeDetection("bench/site", 1000, 5);
 * ```
 */
export async function measureChangeDetection(
  siteDir: string,
  variables: number,
  reps: number,
): Promise<DetectionFigure[]> {
  const site = await loadSite(siteDir);
  const session = LuaSession.create({
    vendedId: "1",
    site,
    log: silentLogger,
    instructionBudget: 100_000_000,
    maxVariables: variables + 1000,
    // The variables' properties alone pass the default client budget past ~60,000 variables.
    limits: { maxClientValueBytes: 1024 * variables + 16 * 1024 * 1024 },
    inlineLua: false,
  });
  try {
    const rows = rowsFor(variables);
    const filled = session.evaluate(`session:getApp():fill(${rows})`);
    if (!filled.ok) throw new Error(`Filling the rows failed: ${filled.failure.description}`);
    await session.handleFrame({ userEvent: true, items: [{ type: "watch", data: { varId: 1 } }] });
    const first = await session.handleFrame(treeFrame(rows));
    if (first.errors.length > 0) {
      throw new Error(`Creating variables failed: ${first.errors[0]?.description}`);
    }
    const created = session.variableCount - 1;
    const naive = new NaiveDetector(session.vmForDiagnostics);
    naive.detect(roots(session));
    // Warm-up: the timed batches run compiled code, as they would in a long-lived server.
    for (let i = 0; i < warmUpPasses(created); i++) {
      session.afterBatch();
      naive.detect(roots(session));
    }
    const figures: DetectionFigure[] = [];
    for (const scenario of ["none", "one", "all"] as const) {
      await collectGarbage();
      const ours: number[] = [];
      const theirs: number[] = [];
      let updates = 0;
      let naiveChanged = 0;
      // Each algorithm is timed in a run of its own, after the same change each time.
      for (let rep = 0; rep < reps; rep++) {
        change(session, scenario);
        ours.push(micros(() => {
          const out = session.afterBatch();
          updates = out.updates.reduce((n, group) => n + group.length, 0);
        }));
      }
      await collectGarbage();
      for (let rep = 0; rep < reps; rep++) {
        change(session, scenario);
        theirs.push(micros(() => {
          naiveChanged = naive.detect(roots(session));
        }));
      }
      figures.push({
        variables: created,
        scenario,
        updates,
        micros: median(ours),
        naiveMicros: median(theirs),
        naiveChanged,
      });
    }
    return figures;
  } finally {
    session.shutdown();
  }
}

function roots(session: LuaSession): Variable<LuaValue>[] {
  return [...session.variables()].filter((variable) => variable.parent === undefined);
}

function change(session: LuaSession, scenario: Scenario): void {
  if (scenario === "none") return;
  const code = `session:getApp():bump(${scenario === "all"})`;
  const changed = session.evaluate(code);
  if (!changed.ok) throw new Error(`Changing the rows failed: ${changed.failure.description}`);
}

if (import.meta.main) {
  const [siteDir, repsText, ...sizes] = Deno.args;
  if (!siteDir || !repsText || sizes.length === 0) {
    console.error("Usage: change_detection.ts SITE REPS N...");
    Deno.exit(2);
  }
  const figures: DetectionFigure[] = [];
  for (const size of sizes) {
    figures.push(...await measureChangeDetection(siteDir, Number(size), Number(repsText)));
  }
  console.log(JSON.stringify(figures));
  Deno.exit(0);
}
