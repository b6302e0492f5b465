/**
 * How errors cross between JavaScript and Lua: a JavaScript exception in a library function
 * becomes a Lua error ({@link guard}), one thrown inside fengari itself keeps its message
 * ({@link noteNativeError}), and a failed protected call is read as a message with a traceback.
 *
 * @module
 */
import {
  fromLua,
  lauxlib,
  lua,
  type LuaCFunction,
  type LuaState,
  type LuaString,
  toLua,
} from "./fengari.ts";

/**
 * Wraps a JavaScript function for Lua so that a JavaScript exception becomes a Lua error instead of
 * escaping through the VM.
 *
 * @example
 * ```ts
 * import { guard } from "./guard.ts";
 * const fn = guard(() => { throw new Error("Boom"); }); // raises "Boom" in Lua
 * ```
 */
export function guard(fn: LuaCFunction): LuaCFunction {
  return (L) => {
    try {
      return fn(L);
    } catch (error) {
      // Lua's own errors are plain objects thrown by fengari's longjmp; let them through.
      if (!(error instanceof Error)) throw error;
      return lauxlib.luaL_error(L, toLua("%s"), toLua(error.message));
    }
  };
}

// A JavaScript exception thrown inside fengari itself (a failed allocation, the string cap)
// becomes an ordinary Lua error with its message, instead of an unreadable error object.
// fengari cannot always run this handler (it needs stack space the failing instruction may have
// used up); the error value is then this function itself, and the message is taken from
// `lastNativeError`.
const nativeError: LuaCFunction = (L) => {
  const error = lua.lua_touserdata(L, 1);
  lastNativeError = undefined;
  lua.lua_pushstring(L, toLua(error instanceof Error ? error.message : String(error)));
  return 1;
};

let lastNativeError: string | undefined;

function describeErrorObject(L: LuaState): string {
  if (lua.lua_topointer(L, -1) === nativeError) {
    const native = lastNativeError;
    lastNativeError = undefined;
    if (native !== undefined) return native;
  }
  return "error object is not a string";
}

/**
 * Installs the handler that turns a JavaScript exception thrown inside fengari into a Lua error
 * with its message.
 *
 * @example
 * ```ts
 * import { catchNativeErrors } from "./guard.ts";
 * import { lauxlib } from "./fengari.ts";
 * catchNativeErrors(lauxlib.luaL_newstate());
 * ```
 */
export function catchNativeErrors(L: LuaState): void {
  lua.lua_atnativeerror(L, nativeError);
}

/**
 * Pushes the message handler of a protected call (the error with a traceback) below `nargs`
 * arguments and their function; returns its index.
 *
 * @example
 * ```ts
 * import { insertTraceback } from "./guard.ts";
 * import { lauxlib, lua } from "./fengari.ts";
 * const L = lauxlib.luaL_newstate();
 * lua.lua_pushnil(L);
 * insertTraceback(L, 0); // 1
 * ```
 */
export function insertTraceback(L: LuaState, nargs: number): number {
  const base = lua.lua_gettop(L) - nargs;
  lua.lua_pushcfunction(L, traceback);
  lua.lua_insert(L, base);
  return base;
}

/**
 * The message of the error value on top of the stack (left there).
 *
 * @example
 * ```ts
 * import { errorMessage } from "./guard.ts";
 * import { lauxlib, lua, toLua } from "./fengari.ts";
 * const L = lauxlib.luaL_newstate();
 * lua.lua_pushstring(L, toLua("Boom"));
 * errorMessage(L); // "Boom"
 * ```
 */
export function errorMessage(L: LuaState): string {
  return lua.lua_type(L, -1) === lua.LUA_TSTRING
    ? fromLua(lua.lua_tolstring(L, -1) as LuaString)
    : describeErrorObject(L);
}

/**
 * Records why fengari's own code is about to throw a JavaScript error (see `nativeError`), so
 * that the failure can be reported with that message.
 *
 * @example
 * ```ts
 * import { noteNativeError } from "./guard.ts";
 * noteNativeError("string too large");
 * ```
 */
export function noteNativeError(message: string): void {
  lastNativeError = message;
}

const traceback: LuaCFunction = (L) => {
  const message = lua.lua_type(L, 1) === lua.LUA_TSTRING
    ? lua.lua_tolstring(L, 1)
    : lauxlib.luaL_tolstring(L, 1);
  lauxlib.luaL_traceback(L, L, message, 1);
  return 1;
};
