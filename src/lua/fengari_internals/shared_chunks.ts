/**
 * Shared compiled chunks. Every session runs the same code (the sandbox prelude, the app model,
 * the site's `main.lua`); compiling it again per session was most of a new session's cost and
 * memory. A compiled prototype is read-only, so a chunk is compiled once per process and each
 * later load makes a new closure over the shared prototype with its own `_ENV`, as `lua_load`
 * does after parsing. The public API cannot make a closure from a prototype, so this uses a
 * closure's `p` and `upvals` and a cell's `setclLvalue`. Shared prototypes never cache closures
 * (Lua 5.3's `cache` field; Lua 5.4 has none), since a cached closure could hand one session a
 * function made in another. Checked once, on first use ({@link sharedChunksOn}); off, every load
 * compiles.
 *
 * @module
 */
import { lauxlib, lua, type LuaState, toLua } from "../fengari.ts";

/** A state, as far as used here: its stack of cells. */
interface State {
  readonly stack: (Cell | undefined)[];
  readonly top: number;
}

/** The cell on top of a state's stack. */
function topCell(L: LuaState): Cell | undefined {
  const state = L as unknown as State;
  return state.stack[state.top - 1];
}

/** fengari's function prototype, as far as used here. */
interface Proto {
  readonly p: Proto[];
  readonly upvalues: unknown[];
}

/** fengari's Lua closure. */
interface Closure {
  p: Proto | null;
  readonly upvals: unknown[];
}

/** fengari's stack cell (`TValue`), as the chunk cache uses it. */
interface Cell {
  readonly type: number;
  readonly value: unknown;
  setclLvalue(closure: Closure): void;
}

interface Compiled {
  proto: Proto;
  newClosure: (L: LuaState, upvalues: number) => Closure;
  newCell: () => unknown;
}

/** fengari's tag of a Lua closure (`LUA_TFUNCTION` with variant 0). */
const LUA_TLCL = 6;
/** Most chunks kept; the oldest is dropped first. */
const MAX_CHUNKS = 256;
/** Larger chunks are not kept (inline code sent by a client in development, say). */
const MAX_SOURCE = 1024 * 1024;

const chunks = new Map<string, Compiled>();

function cacheKey(code: string, chunkName: string): string | undefined {
  return code.length > MAX_SOURCE ? undefined : `${chunkName}\u0000${code}`;
}

/**
 * Pushes a new closure for a chunk compiled earlier in this process, with `_ENV` set to the
 * state's globals. Returns false, pushing nothing, when the chunk is not known.
 *
 * @example
 * ```ts
 * import { pushCompiled } from "./shared_chunks.ts";
 * import { lauxlib } from "../fengari.ts";
 * const L = lauxlib.luaL_newstate();
 * pushCompiled(L, "return 1", "=never-compiled"); // false: compile it, then rememberCompiled
 * ```
 */
export function pushCompiled(L: LuaState, code: string, chunkName: string): boolean {
  if (!sharedChunksOn()) return false;
  const key = cacheKey(code, chunkName);
  const entry = key === undefined ? undefined : chunks.get(key);
  if (entry === undefined) return false;
  const upvalues = entry.proto.upvalues.length;
  const closure = entry.newClosure(L, upvalues);
  closure.p = entry.proto;
  for (let i = 0; i < upvalues; i++) closure.upvals[i] = entry.newCell();
  lua.lua_pushnil(L);
  (topCell(L) as Cell).setclLvalue(closure);
  if (upvalues >= 1) {
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    lua.lua_setupvalue(L, -2, 1);
  }
  return true;
}

/**
 * Keeps the function just compiled from `code` (on top of the stack) for later sessions. Does
 * nothing if the layout is not the expected one.
 *
 * @example
 * ```ts
 * import { rememberCompiled } from "./shared_chunks.ts";
 * import { lauxlib, toLua } from "../fengari.ts";
 * const L = lauxlib.luaL_newstate();
 * const code = "return 1";
 * const bytes = toLua(code);
 * if (lauxlib.luaL_loadbufferx(L, bytes, bytes.length, toLua("=one"), toLua("t")) === 0) {
 *   rememberCompiled(L, code, "=one");
 * }
 * ```
 */
export function rememberCompiled(L: LuaState, code: string, chunkName: string): void {
  if (!sharedChunksOn()) return;
  const key = cacheKey(code, chunkName);
  if (key === undefined || chunks.has(key)) return;
  const cell = topCell(L);
  if (!cell || cell.type !== LUA_TLCL || typeof cell.setclLvalue !== "function") return;
  const closure = cell.value as Closure;
  const proto = closure.p;
  if (!proto || !Array.isArray(proto.p) || !Array.isArray(proto.upvalues)) return;
  const upvalue = closure.upvals[0];
  if (proto.upvalues.length > 0 && (upvalue === null || typeof upvalue !== "object")) return;
  const ClosureClass = closure.constructor as new (L: LuaState, n: number) => Closure;
  const CellClass = (upvalue as object | undefined)?.constructor as new (
    type: number,
    value: unknown,
  ) => unknown;
  neverCacheClosures(proto);
  if (chunks.size >= MAX_CHUNKS) chunks.delete(chunks.keys().next().value as string);
  chunks.set(key, {
    proto,
    newClosure: (L, n) => new ClosureClass(L, n),
    newCell: () => new CellClass(lua.LUA_TNIL, null),
  });
}

function neverCacheClosures(proto: Proto): void {
  Object.defineProperty(proto, "cache", { get: () => null, set: () => {}, configurable: true });
  for (const child of proto.p) neverCacheClosures(child);
}

/** Whether closures can be made over shared prototypes (checked on a scratch chunk). */
function closureLayoutMatches(): boolean {
  try {
    const L = lauxlib.luaL_newstate();
    const code = "return 40 + 2";
    const bytes = toLua(code);
    if (lauxlib.luaL_loadbufferx(L, bytes, bytes.length, toLua("=check"), toLua("t")) !== 0) {
      return false;
    }
    const cell = topCell(L);
    const closure = cell?.value as Closure | undefined;
    return cell?.type === LUA_TLCL && typeof cell.setclLvalue === "function" &&
      Array.isArray(closure?.p?.p) && Array.isArray(closure?.upvals);
  } catch {
    return false;
  }
}

// Checked on first use rather than at load: a scratch state and a compile are time a cold start
// need not spend.
let closuresEnabled: boolean | undefined;

/**
 * Whether closures can be made over shared prototypes (the chunk cache is on).
 *
 * @example
 * ```ts
 * import { sharedChunksOn } from "./shared_chunks.ts";
 * sharedChunksOn(); // true with fengari 0.1.5
 * ```
 */
export function sharedChunksOn(): boolean {
  return closuresEnabled ??= closureLayoutMatches();
}
