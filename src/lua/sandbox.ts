/**
 * Builds the session sandbox: only the safe standard libraries, with the dangerous entries removed
 * and the JavaScript-run library functions capped (SPEC 10.6).
 *
 * fengari under Deno opens `io` and `os.exit` by default, so nothing here relies on defaults: each
 * library is opened by name and `os` is rebuilt from a whitelist.
 *
 * @module
 */
import {
  fromLua,
  lauxlib,
  lua,
  type LuaCFunction,
  lualib,
  type LuaState,
  toLua,
} from "./fengari.ts";
import { capStringOperands } from "./fengari_internals/operands.ts";
import { reportInternals } from "./fengari_internals/self_check.ts";
import { installBulkStrings } from "./bulk_strings.ts";
import {
  installLua51Math,
  installLua51Names,
  installLua51Package,
  installLua51Table,
  installLua51Unpack,
} from "./lua51.ts";
import { installMathFunctions, installNumberFunctions, useExactNumbers } from "./numbers.ts";
import { installLazyGlobals } from "./lazy_globals.ts";
import { installPatternFunctions } from "./patterns.ts";
import { guard, noteNativeError } from "./guard.ts";
import type { LuaVm } from "./vm.ts";
import { mergeOptions } from "../options.ts";

/** Options of {@link openSandbox}. */
export interface SandboxOptions {
  /** Receives each line Lua prints. */
  print: (line: string) => void;
  /** Largest string `string.rep` may build, in bytes. */
  maxStringBytes: number;
  /** Steps one pattern-matching call may take. */
  maxPatternSteps: number;
}

/** The default options of {@link openSandbox}. */
export const DEFAULT_SANDBOX_OPTIONS: SandboxOptions = {
  print: () => {},
  maxStringBytes: 16 * 1024 * 1024,
  maxPatternSteps: 5_000_000,
};

const SAFE_OS = ["time", "clock", "date", "difftime"];

// Wrappers written in Lua keep pcall and coroutines yieldable; `check` re-raises a spent budget.
// An error raised by the budget hook runs xpcall's message handler with hooks disabled, so a
// handler that loops would never be stopped: the handler is wrapped to check the budget first.
const PRELUDE = `
local check, rawpcall, rawxpcall, rawload, select = ...
local type = type
pcall = function(...) return check(rawpcall(...)) end
xpcall = function(f, handler, ...)
  if type(handler) ~= "function" then return check(rawxpcall(f, handler, ...)) end
  return check(rawxpcall(f, function(...) check() return handler(...) end, ...))
end
load = function(chunk, name, _, ...)
  if select("#", ...) > 0 then return rawload(chunk, name, "t", (...)) end
  return rawload(chunk, name, "t")
end
`;

// The same for coroutine.resume, when the coroutine library is made.
const COROUTINE_PRELUDE = `
local check, rawresume = ...
coroutine.resume = function(...) return check(rawresume(...)) end
`;

/**
 * Opens the sandboxed libraries in a fresh VM: `base`, `table`, `string`, `math`, `utf8`,
 * `coroutine` and a safe `os` (`time`, `clock`, `date`, `difftime`), plus the Lua 5.1 names
 * ui-engine apps use (`unpack`, `loadstring`, ...; see `lua51.ts`).
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { openSandbox } from "./sandbox.ts";
 * const vm = new LuaVm();
 * openSandbox(vm, { print: console.log });
 * vm.evaluate("return io"); // { ok: true, value: [null] }
 * ```
 */
export function openSandbox(vm: LuaVm, options: Partial<SandboxOptions> = {}): void {
  const settings = mergeOptions(DEFAULT_SANDBOX_OPTIONS, options);
  useExactNumbers(); // process-wide, before any chunk is compiled
  const L = vm.L;
  const libraries: [string, LuaCFunction][] = [
    ["_G", lualib.luaopen_base],
    ["string", lualib.luaopen_string],
  ];
  for (const [name, open] of libraries) {
    lauxlib.luaL_requiref(L, toLua(name), open, 1);
    lua.lua_pop(L, 1);
  }
  for (const name of ["dofile", "loadfile", "require", "module"]) {
    lua.lua_pushnil(L);
    lua.lua_setglobal(L, toLua(name));
  }
  vm.setGlobalFunction("print", (L) => {
    const parts: string[] = [];
    const n = lua.lua_gettop(L);
    for (let i = 1; i <= n; i++) parts.push(fromLua(lauxlib.luaL_tolstring(L, i)));
    settings.print(parts.join("\t"));
    return 0;
  });
  const bulk = { maxBytes: settings.maxStringBytes, bytesPerInstruction: BYTES_PER_INSTRUCTION };
  installBulkStrings(vm, bulk, ["string"]);
  reportInternals();
  capStringOperands(MAX_STRING_OPERAND, noteNativeError);
  chargeByteFunctions(vm, L, "string");
  installPatternFunctions(L, {
    maxSteps: settings.maxPatternSteps,
    // One instruction per matcher step: a step costs about what a simple instruction does.
    charge: (L, steps) => vm.charge(L, steps),
  });
  installNumberFunctions(vm);
  runPrelude(vm);
  installLua51Names(vm);
  // The other libraries are made when first read (most idle sessions read few of them).
  installLazyGlobals(vm, {
    table: (L) => {
      openLibrary(L, "table", lualib.luaopen_table);
      chargeTableFunctions(vm, L, settings.maxStringBytes);
      installLua51Table(vm, L);
    },
    unpack: (L) => installLua51Unpack(vm, L),
    math: (L) => {
      openLibrary(L, "math", lualib.luaopen_math);
      installMathFunctions(L);
      installLua51Math(vm, L);
    },
    utf8: (L) => {
      openLibrary(L, "utf8", lualib.luaopen_utf8);
      chargeByteFunctions(vm, L, "utf8");
      installBulkStrings(vm, bulk, ["utf8"]);
    },
    coroutine: (L) => {
      openLibrary(L, "coroutine", lualib.luaopen_coroutine);
      wrapResume(vm, L);
    },
    os: (L) => {
      openSafeOs(L);
      chargeByteFunctions(vm, L, "os");
    },
    package: (L) => installLua51Package(vm, L),
  });
  // Every session builds these tables the same way: their names are one copy per process.
  vm.shareGlobalNames();
}

function openLibrary(L: LuaState, name: string, open: LuaCFunction): void {
  lauxlib.luaL_requiref(L, toLua(name), open, 1);
  lua.lua_pop(L, 1);
}

function openSafeOs(L: LuaState): void {
  lauxlib.luaL_requiref(L, toLua("os"), lualib.luaopen_os, 0);
  lua.lua_createtable(L, 0, SAFE_OS.length);
  for (const name of SAFE_OS) {
    lua.lua_getfield(L, -2, toLua(name));
    lua.lua_setfield(L, -2, toLua(name));
  }
  lua.lua_setglobal(L, toLua("os"));
  lua.lua_pop(L, 1);
}

/**
 * Longest string any operation on a string value accepts, process-wide. The `..` operator runs
 * as a single VM instruction, out of the instruction hook's sight: without this, a loop that
 * doubles a string would allocate gigabytes in a few instructions. With it, joining stops once
 * an operand passes the cap.
 */
export const MAX_STRING_OPERAND = 16 * 1024 * 1024;
/**
 * Replaces `library.name` with a function that runs `check` on the arguments (raising a Lua
 * error to refuse them) and then calls the original with every argument, returning all results.
 */
function guardLibraryFunction(
  L: LuaState,
  library: string,
  name: string,
  check: (L: LuaState) => void,
): void {
  lua.lua_getglobal(L, toLua(library));
  lua.lua_getfield(L, -1, toLua(name));
  lua.lua_pushcclosure(
    L,
    guard((L) => {
      check(L);
      const n = lua.lua_gettop(L);
      lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
      lua.lua_insert(L, 1);
      lua.lua_call(L, n, lua.LUA_MULTRET);
      return lua.lua_gettop(L);
    }),
    1,
  );
  lua.lua_setfield(L, -2, toLua(name));
  lua.lua_pop(L, 1);
}

/**
 * Measured cost, in instructions, of one element of work inside fengari's table functions (one
 * instruction runs in about 14 ns; moving an element about 0.4 µs, joining one about 1.6 µs).
 */
const ELEMENT_COST = { move: 32, join: 128, compare: 16, unpack: 8 };

// The table functions run as JavaScript, out of the count hook's sight: charge their work to
// the budget up front, so a few calls on a huge table cannot stall the process.
function chargeTableFunctions(vm: LuaVm, L: LuaState, maxStringBytes: number): void {
  const length = (L: LuaState) => lua.lua_type(L, 1) === lua.LUA_TTABLE ? lua.lua_rawlen(L, 1) : 0;
  const costs: Record<string, (L: LuaState) => number> = {
    insert: (L) => lua.lua_gettop(L) >= 3 ? length(L) * ELEMENT_COST.move : 1,
    remove: (L) => lua.lua_gettop(L) >= 2 ? length(L) * ELEMENT_COST.move : 1,
    concat: (L) => {
      const count = length(L);
      if (count > 0) checkJoinedSize(L, count, maxStringBytes);
      return count * ELEMENT_COST.join;
    },
    sort: (L) => {
      const n = length(L);
      return n < 2 ? 1 : Math.ceil(n * Math.log2(n)) * ELEMENT_COST.compare;
    },
    unpack: (L) => {
      const first = lua.lua_type(L, 2) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, 2) : 1;
      const last = lua.lua_type(L, 3) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, 3) : length(L);
      return Math.max(1, last - first + 1) * ELEMENT_COST.unpack;
    },
    move: (L) => {
      const from = lua.lua_tonumber(L, 2);
      const to = lua.lua_tonumber(L, 3);
      return Math.max(1, (Number.isFinite(to - from) ? to - from : 0) + 1) * ELEMENT_COST.move;
    },
  };
  for (const [name, cost] of Object.entries(costs)) {
    guardLibraryFunction(L, "table", name, (L) => vm.charge(L, cost(L)));
  }
}

/**
 * Bytes of input per charged instruction for the JavaScript library functions that walk their
 * input byte by byte (fengari scans about 3 bytes in the time of one instruction).
 */
export const BYTES_PER_INSTRUCTION = 4;

// Library functions whose work grows with their input, charged to the budget by that size
// before they run: `string.upper` on 15 MB would otherwise run tens of ms unseen, and a loop of them
// stalls every session.
function chargeByteFunctions(vm: LuaVm, L: LuaState, only: string): void {
  // Measured without converting a number argument in place (its text is short anyway).
  const bytes = (L: LuaState, idx: number) =>
    lua.lua_type(L, idx) === lua.LUA_TSTRING ? lua.lua_rawlen(L, idx) : 24;
  const subject = (L: LuaState) => Math.ceil(bytes(L, 1) / BYTES_PER_INSTRUCTION) + 1;
  const number = (L: LuaState, idx: number, fallback: number) =>
    lua.lua_type(L, idx) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, idx) : fallback;
  // The part of the subject between arguments `from` and `to` (negative counts from the end).
  const span = (L: LuaState, defaultTo: number | "from", perElement: number) => {
    const length = bytes(L, 1);
    const from = number(L, 2, 1);
    const to = number(L, 3, defaultTo === "from" ? from : defaultTo);
    const start = Math.max(1, from < 0 ? length + from + 1 : from);
    const end = Math.min(length, to < 0 ? length + to + 1 : to);
    return Math.max(1, Math.ceil((end - start + 1) * perElement));
  };
  const perByte = 1 / BYTES_PER_INSTRUCTION;
  const argumentCount = (L: LuaState) => lua.lua_gettop(L) * ELEMENT_COST.unpack;
  const allArguments = (L: LuaState) => {
    let total = 0;
    for (let i = 1; i <= lua.lua_gettop(L); i++) total += bytes(L, i);
    return Math.ceil(total / BYTES_PER_INSTRUCTION) + lua.lua_gettop(L);
  };
  const costs: [string, string, (L: LuaState) => number][] = [
    ["utf8", "offset", (L) => Math.ceil(Math.abs(number(L, 2, 0)) * 4 * perByte) + 1],
    ["utf8", "codepoint", (L) => span(L, "from", ELEMENT_COST.unpack)],
    ["utf8", "char", argumentCount],
    ["string", "byte", (L) => span(L, "from", ELEMENT_COST.unpack)],
    ["string", "char", argumentCount],
    ["string", "upper", subject],
    ["string", "lower", subject],
    ["string", "reverse", subject],
    ["string", "sub", (L) => span(L, -1, perByte)],
    ["string", "format", allArguments],
    // Each conversion of os.date's format runs a formatter, not a byte copy.
    ["os", "date", (L) => bytes(L, 1) * ELEMENT_COST.compare + 1],
    // string.rep and utf8.len charge themselves (bulk_strings.ts).
  ];
  for (const [library, name, cost] of costs) {
    if (library !== only) continue;
    guardLibraryFunction(L, library, name, (L) => vm.charge(L, cost(L)));
  }
}

/** Refuses a `table.concat` whose result would pass the string size cap. */
function checkJoinedSize(L: LuaState, count: number, maxBytes: number): void {
  const separator = lua.lua_type(L, 2) === lua.LUA_TSTRING ? lua.lua_rawlen(L, 2) : 0;
  let total = separator * Math.max(0, count - 1);
  for (let i = 1; i <= count && total <= maxBytes; i++) {
    if (lua.lua_rawgeti(L, 1, i) === lua.LUA_TSTRING) total += lua.lua_rawlen(L, -1);
    else total += 24; // a number's text
    lua.lua_pop(L, 1);
  }
  if (total > maxBytes) lauxlib.luaL_error(L, toLua("resulting string too large"));
}

function runPrelude(vm: LuaVm): void {
  const L = vm.L;
  const failure = vm.loadText(PRELUDE, "=sandbox");
  if (failure) throw new Error(`Sandbox prelude failed: ${failure.description}`);
  pushCheck(vm, L);
  lua.lua_getglobal(L, toLua("pcall"));
  lua.lua_getglobal(L, toLua("xpcall"));
  lua.lua_getglobal(L, toLua("load"));
  lua.lua_getglobal(L, toLua("select"));
  vm.beginEntry();
  const error = vm.pcall(5, 0);
  if (error) throw new Error(`Sandbox prelude failed: ${error.description}`);
}

/** Pushes the prelude's `check`: re-raises a spent budget, else returns its arguments. */
function pushCheck(vm: LuaVm, L: LuaState): void {
  lua.lua_pushcfunction(L, (L) => {
    vm.reraiseTimeout(L);
    return lua.lua_gettop(L);
  });
}

// Runs on the thread that first read `coroutine`, inside that read: a plain call, whose
// errors (there are none but a spent budget) go to the reader.
function wrapResume(vm: LuaVm, L: LuaState): void {
  const failure = vm.loadText(COROUTINE_PRELUDE, "=sandbox_coroutine", L);
  if (failure) throw new Error(`Sandbox prelude failed: ${failure.description}`);
  pushCheck(vm, L);
  lua.lua_getglobal(L, toLua("coroutine"));
  lua.lua_getfield(L, -1, toLua("resume"));
  lua.lua_remove(L, -2);
  lua.lua_call(L, 2, 0);
}
