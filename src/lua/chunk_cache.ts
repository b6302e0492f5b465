/**
 * Compiled Lua chunks shared between sessions.
 *
 * Every session runs the same code: the sandbox prelude, the app model and the site's
 * `main.lua`. Compiling it again for each session was most of the cost of a new session, and
 * the compiled functions most of its memory. A compiled function prototype is read-only once
 * built, so a chunk is compiled once per process, and each later load of the same text under
 * the same name makes a new closure over the shared prototype, with its own `_ENV`, exactly as
 * `lua_load` does after parsing.
 *
 * fengari's public API has no way to make a closure from a prototype, so this relies on the
 * layout of fengari 0.1.5 (a closure's `p` and `upvals`, a stack cell's `setclLvalue`), checked
 * on every entry; a chunk whose layout does not match is simply not shared. Lua 5.3 may also
 * reuse a closure made earlier from the same prototype (the `cache` field): with prototypes
 * shared, that could hand one session a function made in another and keep a closed session
 * alive, so shared prototypes never cache closures, as Lua 5.4 never does.
 *
 * @module
 */
import { lua, type LuaState } from "./fengari.ts";

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

/** fengari's stack cell (`TValue`). */
interface Cell {
  readonly type: number;
  readonly value: unknown;
  setclLvalue(closure: Closure): void;
}

/** A state, as far as used here. */
interface State {
  readonly stack: (Cell | undefined)[];
  readonly top: number;
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
 * // if (!pushCompiled(L, code, name)) { compile with luaL_loadbufferx; rememberCompiled(...) }
 * ```
 */
export function pushCompiled(L: LuaState, code: string, chunkName: string): boolean {
  const key = cacheKey(code, chunkName);
  const entry = key === undefined ? undefined : chunks.get(key);
  if (entry === undefined) return false;
  const upvalues = entry.proto.upvalues.length;
  const closure = entry.newClosure(L, upvalues);
  closure.p = entry.proto;
  for (let i = 0; i < upvalues; i++) closure.upvals[i] = entry.newCell();
  lua.lua_pushnil(L);
  const state = L as unknown as State;
  (state.stack[state.top - 1] as Cell).setclLvalue(closure);
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
 * // after a successful luaL_loadbufferx: rememberCompiled(L, code, name);
 * ```
 */
export function rememberCompiled(L: LuaState, code: string, chunkName: string): void {
  const key = cacheKey(code, chunkName);
  if (key === undefined || chunks.has(key)) return;
  const state = L as unknown as State;
  const cell = state.stack[state.top - 1];
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
