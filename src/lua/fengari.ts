/**
 * Typed facade over the parts of npm:fengari (Lua 5.3 in JavaScript) this server uses.
 *
 * fengari ships no type declarations; naming the functions here keeps every other module
 * type-checked and shows at a glance how much of the C-like API the server depends on.
 *
 * Every module of the server and of its tests reaches fengari through here (or through the
 * same `fengari_esm.js`), so there is one copy of fengari's modules and of the patches
 * `fengari_internals/` applies to them.
 *
 * @module
 */
// The ES module build of npm:fengari (see fengari_internals/build_fengari_esm.ts): the same code,
// without loading Deno's Node layer at start.
import fengari from "./fengari_internals/fengari_esm.js";

/** An opaque fengari `lua_State` (a Lua thread). */
export type LuaState = { readonly __brand: "lua_State" };
/** A JavaScript function callable from Lua: reads arguments from the stack, returns the result count. */
export type LuaCFunction = (L: LuaState) => number;
/** A fengari string: UTF-8 (or arbitrary) bytes. */
export type LuaString = Uint8Array;
/** A function that pushes one captured Lua value onto a stack (fengari's `lua_toproxy`). */
export type LuaProxy = (L: LuaState) => void;

/** The core API (`lua.h`). */
export interface LuaApi {
  LUA_OK: number;
  LUA_ERRRUN: number;
  LUA_MULTRET: number;
  LUA_REGISTRYINDEX: number;
  LUA_RIDX_GLOBALS: number;
  LUA_TNONE: number;
  LUA_TNIL: number;
  LUA_TBOOLEAN: number;
  LUA_TLIGHTUSERDATA: number;
  LUA_TNUMBER: number;
  LUA_TSTRING: number;
  LUA_TTABLE: number;
  LUA_TFUNCTION: number;
  LUA_TUSERDATA: number;
  LUA_TTHREAD: number;
  LUA_MASKCOUNT: number;
  LUA_YIELD: number;
  lua_absindex(L: LuaState, idx: number): number;
  lua_atnativeerror(L: LuaState, fn: LuaCFunction): LuaCFunction | null;
  lua_call(L: LuaState, nargs: number, nresults: number): void;
  lua_createtable(L: LuaState, narr: number, nrec: number): void;
  lua_error(L: LuaState): never;
  lua_getfield(L: LuaState, idx: number, k: LuaString): number;
  lua_getglobal(L: LuaState, name: LuaString): number;
  lua_getmetatable(L: LuaState, idx: number): boolean;
  lua_gettable(L: LuaState, idx: number): number;
  lua_gettop(L: LuaState): number;
  lua_geti(L: LuaState, idx: number, n: number): number;
  lua_insert(L: LuaState, idx: number): void;
  lua_isinteger(L: LuaState, idx: number): boolean;
  lua_isstring(L: LuaState, idx: number): boolean;
  lua_newtable(L: LuaState): void;
  lua_newthread(L: LuaState): LuaState;
  lua_isyieldable(L: LuaState): boolean;
  lua_resume(L: LuaState, from: LuaState | null, nargs: number): number;
  lua_xmove(from: LuaState, to: LuaState, n: number): void;
  lua_yield(L: LuaState, nresults: number): number;
  lua_yieldk(
    L: LuaState,
    nresults: number,
    ctx: number,
    k: (L: LuaState, status: number, ctx: number) => number,
  ): number;
  lua_tothread(L: LuaState, idx: number): LuaState | null;
  lua_getupvalue(L: LuaState, funcindex: number, n: number): LuaString | null;
  lua_next(L: LuaState, idx: number): number;
  lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
  lua_pop(L: LuaState, n: number): void;
  lua_pushboolean(L: LuaState, b: boolean): void;
  lua_pushcclosure(L: LuaState, fn: LuaCFunction, n: number): void;
  lua_pushcfunction(L: LuaState, fn: LuaCFunction): void;
  lua_pushinteger(L: LuaState, n: number): void;
  lua_pushlightuserdata(L: LuaState, p: unknown): void;
  lua_pushlstring(L: LuaState, s: LuaString, len: number): LuaString;
  lua_pushnil(L: LuaState): void;
  lua_pushnumber(L: LuaState, n: number): void;
  lua_pushstring(L: LuaState, s: LuaString): LuaString;
  lua_pushvalue(L: LuaState, idx: number): void;
  lua_rawequal(L: LuaState, a: number, b: number): boolean;
  lua_rawget(L: LuaState, idx: number): number;
  lua_rawgeti(L: LuaState, idx: number, n: number): number;
  lua_rawlen(L: LuaState, idx: number): number;
  lua_rawset(L: LuaState, idx: number): void;
  lua_rawseti(L: LuaState, idx: number, n: number): void;
  lua_remove(L: LuaState, idx: number): void;
  lua_setfield(L: LuaState, idx: number, k: LuaString): void;
  lua_setglobal(L: LuaState, name: LuaString): void;
  lua_sethook(
    L: LuaState,
    fn: ((L: LuaState, ar: unknown) => void) | null,
    mask: number,
    count: number,
  ): void;
  lua_setmetatable(L: LuaState, idx: number): void;
  lua_setupvalue(L: LuaState, funcindex: number, n: number): LuaString | null;
  lua_settable(L: LuaState, idx: number): void;
  lua_settop(L: LuaState, idx: number): void;
  lua_toboolean(L: LuaState, idx: number): boolean;
  lua_tocfunction(L: LuaState, idx: number): LuaCFunction | null;
  lua_tointeger(L: LuaState, idx: number): number;
  lua_tolstring(L: LuaState, idx: number): LuaString | null;
  lua_tonumber(L: LuaState, idx: number): number;
  lua_topointer(L: LuaState, idx: number): object | null;
  lua_touserdata(L: LuaState, idx: number): unknown;
  lua_toproxy(L: LuaState, idx: number): LuaProxy;
  lua_type(L: LuaState, idx: number): number;
  lua_upvalueindex(i: number): number;
}

/** A string buffer of the auxiliary library (`luaL_Buffer`). */
export type LuaBuffer = { readonly __brand: "luaL_Buffer" };

/** The auxiliary library (`lauxlib.h`). */
export interface LauxApi {
  luaL_Buffer: new () => LuaBuffer;
  luaL_addchar(b: LuaBuffer, c: number): void;
  luaL_addlstring(b: LuaBuffer, s: LuaString, len: number): void;
  luaL_addvalue(b: LuaBuffer): void;
  luaL_argcheck(L: LuaState, cond: boolean, arg: number, extramsg: LuaString): void;
  luaL_buffinit(L: LuaState, b: LuaBuffer): void;
  luaL_pushresult(b: LuaBuffer): void;
  luaL_typename(L: LuaState, idx: number): LuaString;
  luaL_checkany(L: LuaState, arg: number): void;
  luaL_checkinteger(L: LuaState, arg: number): number;
  luaL_checklstring(L: LuaState, arg: number): LuaString;
  luaL_checknumber(L: LuaState, arg: number): number;
  luaL_checkstack(L: LuaState, sz: number, msg: LuaString | null): void;
  luaL_checktype(L: LuaState, arg: number, t: number): void;
  luaL_error(L: LuaState, fmt: LuaString, ...args: unknown[]): never;
  luaL_loadbufferx(
    L: LuaState,
    buff: LuaString,
    size: number,
    name: LuaString,
    mode: LuaString | null,
  ): number;
  luaL_newstate(): LuaState;
  luaL_optinteger(L: LuaState, arg: number, def: number): number;
  luaL_ref(L: LuaState, t: number): number;
  luaL_requiref(L: LuaState, name: LuaString, openf: LuaCFunction, glb: number): void;
  luaL_tolstring(L: LuaState, idx: number): LuaString;
  luaL_traceback(L: LuaState, L1: LuaState, msg: LuaString | null, level: number): void;
  luaL_unref(L: LuaState, t: number, ref: number): void;
}

/** The openers of the standard libraries the sandbox opens (`lualib.h`). */
export interface LualibApi {
  luaopen_base: LuaCFunction;
  luaopen_coroutine: LuaCFunction;
  luaopen_math: LuaCFunction;
  luaopen_os: LuaCFunction;
  luaopen_string: LuaCFunction;
  luaopen_table: LuaCFunction;
  luaopen_utf8: LuaCFunction;
}

/** The core API. */
export const lua: LuaApi = fengari.lua;
/** The auxiliary library. */
export const lauxlib: LauxApi = fengari.lauxlib;
/** The standard library openers. */
export const lualib: LualibApi = fengari.lualib;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a JavaScript string as a Lua string (UTF-8 bytes).
 *
 * @example
 * ```ts
 * import { toLua } from "./fengari.ts";
 * toLua("hi"); // Uint8Array [104, 105]
 * ```
 */
export function toLua(s: string): LuaString {
  return encoder.encode(s);
}

/**
 * Decodes a Lua string as UTF-8; invalid sequences become U+FFFD instead of throwing.
 *
 * @example
 * ```ts
 * import { fromLua, toLua } from "./fengari.ts";
 * fromLua(toLua("hé")); // "hé"
 * ```
 */
export function fromLua(s: LuaString): string {
  // Short ASCII strings (most keys and values) are built directly: the same result, at a
  // fraction of TextDecoder's per-call cost.
  if (s.length > SHORT_STRING) return decoder.decode(s);
  let text = "";
  for (let i = 0; i < s.length; i++) {
    const byte = s[i] as number;
    if (byte >= 0x80) return decoder.decode(s);
    text += String.fromCharCode(byte);
  }
  return text;
}

const SHORT_STRING = 64;
