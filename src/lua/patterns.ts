/**
 * Budgeted Lua 5.3 pattern matching.
 *
 * This module owns the replacements for `string.find`, `string.match`,
 * `string.gmatch` and `string.gsub`. fengari implements these in plain
 * JavaScript, so they never reach Lua's instruction-count hook and a pattern
 * such as `string.find(string.rep("a", 200000), ".-.-.-.-b")` could stall the
 * whole process. The matcher below is a faithful port of the matcher in Lua
 * 5.3's `lstrlib.c` (same semantics, same error messages) with a step counter
 * threaded through it: every item match attempt, single-character test,
 * backtracking step and byte scanned by `%b`, back-references, sets and
 * replacement strings is counted, and once a call exceeds `maxSteps` it
 * raises the Lua error "pattern matching too complex (step limit reached)".
 *
 * Plain `string.find` (explicit `plain` flag, or a pattern without special
 * characters) uses a linear-time substring search and is not metered.
 *
 * @module
 */

import { lauxlib, lua, type LuaState, toLua as to_luastring } from "./fengari.ts";

/** Options for the budgeted pattern functions. */
export interface PatternOptions {
  /**
   * Maximum number of matcher steps a single call may take (for `gmatch`: a
   * single call of the returned iterator). `Infinity` disables the limit.
   */
  maxSteps: number;
  /**
   * Called with the steps a call took when it returns, so that pattern matching counts against
   * the caller's instruction budget too (it may raise a Lua error).
   */
  charge?: (L: LuaState, steps: number) => void;
}

type Charge = PatternOptions["charge"];

const L_ESC = 37; // '%'
const CAP_UNFINISHED = -1;
const CAP_POSITION = -2;
const MAXCCALLS = 200;
const LUA_MAXCAPTURES = 32;
/** Sentinel for C's `NULL` result of the matcher. */
const NO_MATCH = -1;

const STEP_LIMIT_MESSAGE = "pattern matching too complex (step limit reached)";

/** Characters that make `string.find` use the matcher instead of a plain search. */
const SPECIALS = new Uint8Array(256);
for (const ch of "^$*+?.([%-") SPECIALS[ch.charCodeAt(0)] = 1;

// ---------------------------------------------------------------------------
// C-locale character classes (what lstrlib.c gets from <ctype.h>).

const isalpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isdigit = (c: number): boolean => c >= 48 && c <= 57;
const islower = (c: number): boolean => c >= 97 && c <= 122;
const isupper = (c: number): boolean => c >= 65 && c <= 90;
const isalnum = (c: number): boolean => isalpha(c) || isdigit(c);
const iscntrl = (c: number): boolean => c < 32 || c === 127;
const isgraph = (c: number): boolean => c >= 33 && c <= 126;
const ispunct = (c: number): boolean => isgraph(c) && !isalnum(c);
const isspace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isxdigit = (c: number): boolean =>
  isdigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** `match_class` from lstrlib.c: does byte `c` belong to class `%cl`? */
function matchClass(c: number, cl: number): boolean {
  let res: boolean;
  // `cl | 0x20` is tolower() for ASCII letters and never turns a non-letter into one.
  switch (cl | 0x20) {
    case 97: // 'a'
      res = isalpha(c);
      break;
    case 99: // 'c'
      res = iscntrl(c);
      break;
    case 100: // 'd'
      res = isdigit(c);
      break;
    case 103: // 'g'
      res = isgraph(c);
      break;
    case 108: // 'l'
      res = islower(c);
      break;
    case 112: // 'p'
      res = ispunct(c);
      break;
    case 115: // 's'
      res = isspace(c);
      break;
    case 117: // 'u'
      res = isupper(c);
      break;
    case 119: // 'w'
      res = isalnum(c);
      break;
    case 120: // 'x'
      res = isxdigit(c);
      break;
    case 122: // 'z' (deprecated option)
      res = c === 0;
      break;
    default:
      return cl === c;
  }
  return isupper(cl) ? !res : res;
}

// ---------------------------------------------------------------------------
// Errors

/** Raises a Lua error through `luaL_error` (which throws); `fmt` uses lua_pushfstring syntax. */
function raise(L: LuaState, fmt: string, ...args: unknown[]): never {
  lauxlib.luaL_error(L, to_luastring(fmt), ...args);
  throw new Error("unreachable: luaL_error returned");
}

// ---------------------------------------------------------------------------
// Match state

class MatchState {
  L: LuaState;
  /** Subject string. Positions are indices into it; `srcEnd` is its length. */
  readonly src: Uint8Array;
  readonly srcEnd: number;
  /** Pattern (without a leading `^` anchor). */
  readonly p: Uint8Array;
  readonly pEnd: number;
  /** Remaining recursion budget (MAXCCALLS). */
  matchdepth = MAXCCALLS;
  /** Number of captures (finished or unfinished). */
  level = 0;
  readonly captureInit = new Int32Array(LUA_MAXCAPTURES);
  readonly captureLen = new Int32Array(LUA_MAXCAPTURES);
  /** Steps taken so far in the current call. */
  steps = 0;
  readonly maxSteps: number;

  constructor(L: LuaState, src: Uint8Array, p: Uint8Array, maxSteps: number) {
    this.L = L;
    this.src = src;
    this.srcEnd = src.length;
    this.p = p;
    this.pEnd = p.length;
    this.maxSteps = maxSteps;
  }

  /** `reprepstate`: reset per match attempt (the step counter keeps running). */
  reprep(): void {
    this.level = 0;
    // lstrlib.c asserts this; a step-limit error can leave it unbalanced in gmatch state.
    this.matchdepth = MAXCCALLS;
  }

  /** Throws the step-limit Lua error if the budget is exhausted. */
  checkSteps(): void {
    if (this.steps > this.maxSteps) raise(this.L, STEP_LIMIT_MESSAGE);
  }
}

function checkCapture(ms: MatchState, l: number): number {
  l -= 49; // '1'
  if (l < 0 || l >= ms.level || ms.captureLen[l] === CAP_UNFINISHED) {
    return raise(ms.L, "invalid capture index %%%d", l + 1);
  }
  return l;
}

function captureToClose(ms: MatchState): number {
  for (let level = ms.level - 1; level >= 0; level--) {
    if (ms.captureLen[level] === CAP_UNFINISHED) return level;
  }
  return raise(ms.L, "invalid pattern capture");
}

/** Returns the index just past the single-character class starting at `p`. */
function classEnd(ms: MatchState, p: number): number {
  const pat = ms.p;
  const c = pat[p++];
  if (c === L_ESC) {
    if (p === ms.pEnd) raise(ms.L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c === 91) { // '['
    if (pat[p] === 94) p++; // '^'
    do { // look for a ']'
      if (p === ms.pEnd) raise(ms.L, "malformed pattern (missing ']')");
      ms.steps++;
      if (pat[p++] === L_ESC && p < ms.pEnd) p++; // skip escapes (e.g. '%]')
    } while (pat[p] !== 93);
    return p + 1;
  }
  return p;
}

/** Does byte `c` match the set `[...]` spanning `p` (the '[') to `ec` (the ']')? */
function matchBracketClass(ms: MatchState, c: number, p: number, ec: number): boolean {
  const pat = ms.p;
  let sig = true;
  if (pat[p + 1] === 94) { // '^'
    sig = false;
    p++;
  }
  while (++p < ec) {
    ms.steps++;
    const pc = pat[p] as number;
    if (pc === L_ESC) {
      p++;
      if (matchClass(c, pat[p] as number)) return sig;
    } else if (pat[p + 1] === 45 && p + 2 < ec) { // range 'x-y'
      p += 2;
      if (pc <= c && c <= (pat[p] as number)) return sig;
    } else if (pc === c) return sig;
  }
  return !sig;
}

function singleMatch(ms: MatchState, s: number, p: number, ep: number): boolean {
  if (++ms.steps > ms.maxSteps) ms.checkSteps();
  if (s >= ms.srcEnd) return false;
  const c = ms.src[s] as number;
  const pc = ms.p[p];
  switch (pc) {
    case 46: // '.'
      return true;
    case L_ESC:
      return matchClass(c, ms.p[p + 1] as number);
    case 91: // '['
      return matchBracketClass(ms, c, p, ep - 1);
    default:
      return pc === c;
  }
}

function matchBalance(ms: MatchState, s: number, p: number): number {
  if (p >= ms.pEnd - 1) {
    raise(ms.L, "malformed pattern (missing arguments to '%%b')");
  }
  const src = ms.src;
  const srcEnd = ms.srcEnd;
  if (s >= srcEnd || src[s] !== ms.p[p]) return NO_MATCH;
  const b = ms.p[p];
  const e = ms.p[p + 1];
  let cont = 1;
  while (++s < srcEnd) {
    if (++ms.steps > ms.maxSteps) ms.checkSteps();
    const ch = src[s];
    if (ch === e) {
      if (--cont === 0) return s + 1;
    } else if (ch === b) cont++;
  }
  return NO_MATCH; // string ends out of balance
}

function maxExpand(ms: MatchState, s: number, p: number, ep: number): number {
  let i = 0; // counts maximum expand for item
  while (singleMatch(ms, s + i, p, ep)) i++;
  // keeps trying to match with the maximum repetitions
  while (i >= 0) {
    const res = doMatch(ms, s + i, ep + 1);
    if (res !== NO_MATCH) return res;
    i--; // else didn't match; reduce 1 repetition to try again
  }
  return NO_MATCH;
}

function minExpand(ms: MatchState, s: number, p: number, ep: number): number {
  for (;;) {
    const res = doMatch(ms, s, ep + 1);
    if (res !== NO_MATCH) return res;
    if (singleMatch(ms, s, p, ep)) s++; // try with one more repetition
    else return NO_MATCH;
  }
}

function startCapture(ms: MatchState, s: number, p: number, what: number): number {
  const level = ms.level;
  if (level >= LUA_MAXCAPTURES) raise(ms.L, "too many captures");
  ms.captureInit[level] = s;
  ms.captureLen[level] = what;
  ms.level = level + 1;
  const res = doMatch(ms, s, p);
  if (res === NO_MATCH) ms.level--; // undo capture
  return res;
}

function endCapture(ms: MatchState, s: number, p: number): number {
  const l = captureToClose(ms);
  ms.captureLen[l] = s - (ms.captureInit[l] as number); // close capture
  const res = doMatch(ms, s, p);
  if (res === NO_MATCH) ms.captureLen[l] = CAP_UNFINISHED; // undo capture
  return res;
}

function matchCapture(ms: MatchState, s: number, l: number): number {
  l = checkCapture(ms, l);
  const len = ms.captureLen[l] as number;
  // A position capture has a negative length; C compares it as a huge size_t and fails.
  if (len < 0 || ms.srcEnd - s < len) return NO_MATCH;
  ms.steps += len;
  ms.checkSteps();
  const src = ms.src;
  const init = ms.captureInit[l] as number;
  for (let i = 0; i < len; i++) {
    if (src[init + i] !== src[s + i]) return NO_MATCH;
  }
  return s + len;
}

/**
 * The matcher (`match` in lstrlib.c). Returns the end index of the match
 * starting at subject index `s` for the pattern from index `p`, or NO_MATCH.
 */
function doMatch(ms: MatchState, s: number, p: number): number {
  if (ms.matchdepth-- === 0) raise(ms.L, "pattern too complex");
  const pat = ms.p;
  const pEnd = ms.pEnd;
  // Each `continue` is lstrlib.c's `goto init` (tail call); each `break init` returns `s`.
  init: for (;;) {
    if (++ms.steps > ms.maxSteps) ms.checkSteps();
    if (p === pEnd) break; // end of pattern
    switch (pat[p]) {
      case 40: { // '(' start capture
        if (pat[p + 1] === 41) s = startCapture(ms, s, p + 2, CAP_POSITION); // position capture
        else s = startCapture(ms, s, p + 1, CAP_UNFINISHED);
        break init;
      }
      case 41: { // ')' end capture
        s = endCapture(ms, s, p + 1);
        break init;
      }
      case 36: { // '$'
        if (p + 1 !== pEnd) break; // not the last char in pattern: go to default
        s = s === ms.srcEnd ? s : NO_MATCH; // check end of string
        break init;
      }
      case L_ESC: { // escaped sequences not in the format class[*+?-]?
        const next = pat[p + 1];
        if (next === 98) { // 'b' balanced string
          s = matchBalance(ms, s, p + 2);
          if (s !== NO_MATCH) {
            p += 4;
            continue init;
          }
          break init;
        }
        if (next === 102) { // 'f' frontier
          p += 2;
          if (pat[p] !== 91) raise(ms.L, "missing '[' after '%%f' in pattern");
          const ep = classEnd(ms, p); // points to what is next
          const previous = s === 0 ? 0 : ms.src[s - 1] as number;
          const current = s === ms.srcEnd ? 0 : ms.src[s] as number;
          if (
            !matchBracketClass(ms, previous, p, ep - 1) &&
            matchBracketClass(ms, current, p, ep - 1)
          ) {
            p = ep;
            continue init;
          }
          s = NO_MATCH; // match failed
          break init;
        }
        if (next !== undefined && isdigit(next)) { // capture results (%0-%9)
          s = matchCapture(ms, s, next);
          if (s !== NO_MATCH) {
            p += 2;
            continue init;
          }
          break init;
        }
        break; // go to default
      }
      default:
        break;
    }
    // default: pattern class plus optional suffix
    const ep = classEnd(ms, p); // points to optional suffix
    const suffix = pat[ep];
    if (!singleMatch(ms, s, p, ep)) { // does not match at least once?
      if (suffix === 42 || suffix === 63 || suffix === 45) { // '*', '?', '-' accept empty
        p = ep + 1;
        continue init;
      }
      s = NO_MATCH; // '+' or no suffix: fail
      break init;
    }
    // matched once
    switch (suffix) {
      case 63: { // '?' optional
        const res = doMatch(ms, s + 1, ep + 1);
        if (res !== NO_MATCH) {
          s = res;
          break init;
        }
        p = ep + 1;
        continue init;
      }
      case 43: // '+' 1 or more repetitions (1 match already done)
        s = maxExpand(ms, s + 1, p, ep);
        break init;
      case 42: // '*' 0 or more repetitions
        s = maxExpand(ms, s, p, ep);
        break init;
      case 45: // '-' 0 or more repetitions (minimum)
        s = minExpand(ms, s, p, ep);
        break init;
      default: // no suffix
        s++;
        p = ep;
        continue init;
    }
  }
  ms.matchdepth++;
  return s;
}

// ---------------------------------------------------------------------------
// Pushing results

function pushOneCapture(ms: MatchState, i: number, s: number, e: number): void {
  const L = ms.L;
  if (i >= ms.level) {
    if (i === 0) lua.lua_pushlstring(L, ms.src.subarray(s, e), e - s); // whole match
    else raise(L, "invalid capture index %%%d", i + 1);
    return;
  }
  const l = ms.captureLen[i] as number;
  const init = ms.captureInit[i] as number;
  if (l === CAP_UNFINISHED) raise(L, "unfinished capture");
  if (l === CAP_POSITION) lua.lua_pushinteger(L, init + 1);
  else lua.lua_pushlstring(L, ms.src.subarray(init, init + l), l);
}

/**
 * Pushes all captures (or the whole match `s..e` when there are none and
 * `wholeIfNone`); returns how many values were pushed.
 */
function pushCaptures(
  ms: MatchState,
  s: number,
  e: number,
  wholeIfNone: boolean,
): number {
  const nlevels = ms.level === 0 && wholeIfNone ? 1 : ms.level;
  lauxlib.luaL_checkstack(ms.L, nlevels, to_luastring("too many captures"));
  for (let i = 0; i < nlevels; i++) pushOneCapture(ms, i, s, e);
  return nlevels;
}

// ---------------------------------------------------------------------------
// Plain search

function noSpecials(p: Uint8Array): boolean {
  for (let i = 0; i < p.length; i++) {
    if (SPECIALS[p[i] as number] === 1) return false;
  }
  return true;
}

/** Linear-time (KMP) search for `needle` in `hay` from index `from`; -1 if absent. */
function plainFind(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const m = needle.length;
  if (m === 0) return from; // empty strings are everywhere
  if (m > hay.length - from) return -1;
  const first = needle[0] as number;
  if (m === 1) return hay.indexOf(first, from);
  const fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && needle[i] !== needle[k]) k = fail[k - 1] as number;
    if (needle[i] === needle[k]) k++;
    fail[i] = k;
  }
  for (let i = from, k = 0; i < hay.length; i++) {
    while (k > 0 && hay[i] !== needle[k]) k = fail[k - 1] as number;
    if (hay[i] === needle[k]) k++;
    if (k === m) return i - m + 1;
  }
  return -1;
}

/** Translates a relative string position: negative means back from end. */
function posrelat(pos: number, len: number): number {
  if (pos >= 0) return pos;
  if (-pos > len) return 0;
  return len + pos + 1;
}

// ---------------------------------------------------------------------------
// Library functions

function makeFindAux(maxSteps: number, find: boolean, charge: Charge): (L: LuaState) => number {
  return (L: LuaState): number => {
    const s: Uint8Array = lauxlib.luaL_checklstring(L, 1);
    let p: Uint8Array = lauxlib.luaL_checklstring(L, 2);
    const ls = s.length;
    let init: number = posrelat(lauxlib.luaL_optinteger(L, 3, 1), ls);
    if (init < 1) init = 1;
    else if (init > ls + 1) { // start after string's end?
      lua.lua_pushnil(L); // cannot find anything
      return 1;
    }
    // explicit request or no special characters?
    if (find && (lua.lua_toboolean(L, 4) || noSpecials(p))) {
      const f = plainFind(s, p, init - 1);
      if (f !== -1) {
        lua.lua_pushinteger(L, f + 1);
        lua.lua_pushinteger(L, f + p.length);
        return 2;
      }
    } else {
      const anchor = p[0] === 94; // '^'
      if (anchor) p = p.subarray(1); // skip anchor character
      const ms = new MatchState(L, s, p, maxSteps);
      let s1 = init - 1;
      do {
        ms.reprep();
        const res = doMatch(ms, s1, 0);
        if (res !== NO_MATCH) {
          charge?.(L, ms.steps);
          if (find) {
            lua.lua_pushinteger(L, s1 + 1); // start
            lua.lua_pushinteger(L, res); // end
            return pushCaptures(ms, 0, 0, false) + 2;
          }
          return pushCaptures(ms, s1, res, true);
        }
      } while (s1++ < ms.srcEnd && !anchor);
      charge?.(L, ms.steps);
    }
    lua.lua_pushnil(L); // not found
    return 1;
  };
}

function makeGmatch(maxSteps: number, charge: Charge): (L: LuaState) => number {
  return (L: LuaState): number => {
    const s: Uint8Array = lauxlib.luaL_checklstring(L, 1);
    const p: Uint8Array = lauxlib.luaL_checklstring(L, 2);
    const ms = new MatchState(L, s, p, maxSteps);
    let src = 0; // current position
    let lastmatch = NO_MATCH; // end of last match
    lua.lua_pushcfunction(L, (L2: LuaState): number => {
      ms.L = L2;
      ms.steps = 0; // each iterator call gets a fresh budget
      for (let pos = src; pos <= ms.srcEnd; pos++) {
        ms.reprep();
        const e = doMatch(ms, pos, 0);
        if (e !== NO_MATCH && e !== lastmatch) {
          src = lastmatch = e;
          charge?.(L2, ms.steps);
          return pushCaptures(ms, pos, e, true);
        }
      }
      charge?.(L2, ms.steps);
      return 0; // not found
    });
    return 1;
  };
}

/** Appends the replacement string (argument 3) for the match `s..e`, expanding `%0`-`%9` and `%%`. */
// deno-lint-ignore no-explicit-any
function addS(ms: MatchState, b: any, s: number, e: number): void {
  const L = ms.L;
  const news = lua.lua_tolstring(L, 3) as Uint8Array; // checked a string by the caller
  const l = news.length;
  let i = 0;
  while (i < l) {
    // copy the run of literal characters up to the next '%'
    let j = news.indexOf(L_ESC, i);
    if (j === -1) j = l;
    if (j > i) {
      ms.steps += j - i;
      lauxlib.luaL_addlstring(b, news.subarray(i, j), j - i);
    }
    if (j === l) break;
    i = j + 1; // skip ESC
    ms.steps++;
    const c = news[i];
    if (c === undefined || !isdigit(c)) {
      if (c !== L_ESC) raise(L, "invalid use of '%c' in replacement string", L_ESC);
      lauxlib.luaL_addchar(b, c);
    } else if (c === 48) { // '0'
      ms.steps += e - s;
      lauxlib.luaL_addlstring(b, ms.src.subarray(s, e), e - s);
    } else {
      pushOneCapture(ms, c - 49, s, e);
      const str: Uint8Array = lauxlib.luaL_tolstring(L, -1); // if number, convert it to string
      lua.lua_remove(L, -2); // remove original value
      ms.steps += str.length;
      lauxlib.luaL_addvalue(b); // add capture to accumulated result
    }
    i++;
    ms.checkSteps();
  }
  ms.checkSteps();
}

// deno-lint-ignore no-explicit-any
function addValue(ms: MatchState, b: any, s: number, e: number, tr: number): void {
  const L = ms.L;
  switch (tr) {
    case lua.LUA_TFUNCTION: {
      lua.lua_pushvalue(L, 3);
      const n = pushCaptures(ms, s, e, true);
      lua.lua_call(L, n, 1); // runs under the VM (and its hooks)
      break;
    }
    case lua.LUA_TTABLE: {
      pushOneCapture(ms, 0, s, e);
      lua.lua_gettable(L, 3);
      break;
    }
    default: { // LUA_TNUMBER or LUA_TSTRING
      addS(ms, b, s, e);
      return;
    }
  }
  if (!lua.lua_toboolean(L, -1)) { // nil or false?
    lua.lua_pop(L, 1);
    lua.lua_pushlstring(L, ms.src.subarray(s, e), e - s); // keep original text
  } else if (!lua.lua_isstring(L, -1)) {
    raise(L, "invalid replacement value (a %s)", lauxlib.luaL_typename(L, -1));
  }
  lauxlib.luaL_addvalue(b); // add result to accumulator
}

function makeGsub(maxSteps: number, charge: Charge): (L: LuaState) => number {
  return (L: LuaState): number => {
    const src: Uint8Array = lauxlib.luaL_checklstring(L, 1); // subject
    const srcl = src.length;
    let p: Uint8Array = lauxlib.luaL_checklstring(L, 2); // pattern
    let lastmatch = NO_MATCH; // end of last match
    const tr: number = lua.lua_type(L, 3); // replacement type
    const maxS: number = lauxlib.luaL_optinteger(L, 4, srcl + 1); // max replacements
    const anchor = p[0] === 94; // '^'
    let n = 0; // replacement count
    lauxlib.luaL_argcheck(
      L,
      tr === lua.LUA_TNUMBER || tr === lua.LUA_TSTRING ||
        tr === lua.LUA_TFUNCTION || tr === lua.LUA_TTABLE,
      3,
      to_luastring("string/function/table expected"),
    );
    const b = new lauxlib.luaL_Buffer();
    lauxlib.luaL_buffinit(L, b);
    if (anchor) p = p.subarray(1); // skip anchor character
    const ms = new MatchState(L, src, p, maxSteps);
    let s = 0;
    while (n < maxS) {
      ms.reprep();
      const e = doMatch(ms, s, 0);
      if (e !== NO_MATCH && e !== lastmatch) { // match?
        n++;
        addValue(ms, b, s, e, tr); // add replacement to buffer
        s = lastmatch = e;
      } else if (s < ms.srcEnd) { // otherwise, skip one character
        lauxlib.luaL_addchar(b, src[s++] as number);
      } else break; // end of subject
      if (anchor) break;
    }
    charge?.(L, ms.steps);
    lauxlib.luaL_addlstring(b, src.subarray(s, srcl), srcl - s);
    lauxlib.luaL_pushresult(b);
    lua.lua_pushinteger(L, n); // number of substitutions
    return 2;
  };
}

/**
 * Replaces string.find, string.match, string.gmatch and string.gsub in the
 * state's `string` table (and thus the string metatable's __index, which is
 * that same table) with budgeted versions.
 *
 * The string library must already be open in `L`. Each call of a replaced
 * function (each call of a `gmatch` iterator) may take at most
 * `options.maxSteps` matcher steps before it raises the Lua error
 * "pattern matching too complex (step limit reached)", which scripts can
 * catch with `pcall` like any other error.
 *
 * @example
 * ```ts
 * import { lauxlib, lua, lualib, toLua } from "./fengari.ts";
 * import { installPatternFunctions } from "./patterns.ts";
 *
 * const L = lauxlib.luaL_newstate();
 * lauxlib.luaL_requiref(L, toLua("string"), lualib.luaopen_string, 1);
 * lua.lua_pop(L, 1);
 * installPatternFunctions(L, { maxSteps: 1_000_000 });
 * // string.find(("a"):rep(200000), ".-.-.-.-b") now fails fast with
 * // "pattern matching too complex (step limit reached)".
 * ```
 */
export function installPatternFunctions(L: LuaState, options: PatternOptions): void {
  const maxSteps = options.maxSteps;
  if (typeof maxSteps !== "number" || Number.isNaN(maxSteps) || maxSteps < 0) {
    throw new RangeError(`maxSteps must be a non-negative number, got ${maxSteps}`);
  }
  const functions: Array<[string, (L: LuaState) => number]> = [
    ["find", makeFindAux(maxSteps, true, options.charge)],
    ["match", makeFindAux(maxSteps, false, options.charge)],
    ["gmatch", makeGmatch(maxSteps, options.charge)],
    ["gsub", makeGsub(maxSteps, options.charge)],
  ];
  const type = lua.lua_getglobal(L, to_luastring("string"));
  if (type !== lua.LUA_TTABLE) {
    lua.lua_pop(L, 1);
    throw new Error(
      "installPatternFunctions: global 'string' is not a table (open the libs first)",
    );
  }
  for (const [name, fn] of functions) {
    lua.lua_pushcfunction(L, fn);
    lua.lua_setfield(L, -2, to_luastring(name));
  }
  lua.lua_pop(L, 1);
}
