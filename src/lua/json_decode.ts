/**
 * `ui.json_decode`: JSON text (a Lua string's bytes) to a Lua value, parsed and built in one
 * pass, a chunk at a time. `JSON.parse` of a 4 MB document alone blocks the process for tens to
 * hundreds of milliseconds, and building its tables afterwards as long again; here each chunk
 * parses and builds {@link DECODE_CHUNK_VALUES} values, charges them to the instruction budget
 * and lets the running entry be time-sliced (`sliced_call.ts`), so a large document costs other
 * sessions a few milliseconds per slice, and the budget stops it part way without having parsed
 * the rest.
 *
 * The grammar is JSON's (RFC 8259), as `JSON.parse` reads it: arrays become sequences (a `null`
 * element leaves a hole), objects tables with string keys (a `null` member is absent), numbers
 * integers when integral and within 32 bits, floats otherwise. Strings keep their bytes as
 * they are; escapes are decoded to UTF-8 (a lone surrogate becomes U+FFFD). Nesting deeper than
 * {@link DECODE_MAX_DEPTH} is refused. A document that turns out malformed part way leaves
 * nothing behind: its partly built tables are dropped with the function's stack.
 *
 * @module
 */
import { lauxlib, lua, type LuaState, toLua } from "./fengari.ts";
import { runInSlices } from "./sliced_call.ts";
import type { LuaVm } from "./vm.ts";

/** Values parsed and built between two chances to charge the budget and end the slice. */
export const DECODE_CHUNK_VALUES = 1024;

/** Deepest nesting of arrays and objects `ui.json_decode` accepts. */
export const DECODE_MAX_DEPTH = 512;

/** Instructions charged per value built (a table entry costs about that in Lua). */
export const JSON_VALUE_COST = 50;

/** Bytes of input per instruction charged for scanning it. */
const BYTES_PER_INSTRUCTION = 4;

/** Options of {@link decodeJson}. */
export interface DecodeJsonOptions {
  /** Values per chunk; {@link DECODE_CHUNK_VALUES} by default. */
  chunkValues: number;
}

/** Where the parser stands between two tokens. */
const enum Expect {
  Value,
  ValueOrClose,
  Key,
  KeyOrClose,
  CommaOrClose,
  End,
}

/** An open array or object: its table is on the stack (and, for an object, a key above it). */
interface Open {
  array: boolean;
  length: number;
}

class JsonError extends Error {}

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d, QUOTE = 0x22, BACKSLASH = 0x5c;
const ESCAPES: Record<number, number> = {
  0x22: 0x22,
  0x5c: 0x5c,
  0x2f: 0x2f,
  0x62: 0x08,
  0x66: 0x0c,
  0x6e: 0x0a,
  0x72: 0x0d,
  0x74: 0x09,
};
const LITERALS: [Uint8Array, boolean | null][] = [
  [toLua("true"), true],
  [toLua("false"), false],
  [toLua("null"), null],
];
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * The body of `ui.json_decode(text)`: pushes the decoded value (1 result), or nil and an
 * `Invalid JSON: ...` message (2 results). Charges the budget as it goes, raising the timeout
 * or memory error part way; yields between chunks inside a time-sliced entry.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { decodeJson } from "./json_decode.ts";
 * const vm = new LuaVm();
 * vm.setGlobalFunction("decode", (L) => decodeJson(vm, L));
 * vm.evaluate(`return decode('{"a": [1, 2]}').a[2]`); // { ok: true, value: [2] }
 * ```
 */
export function decodeJson(
  vm: LuaVm,
  L: LuaState,
  options: Partial<DecodeJsonOptions> = {},
): number {
  const text = lauxlib.luaL_checklstring(L, 1);
  lua.lua_settop(L, 1); // the text stays as argument 1, anchored while the value is built
  const base = 1;
  const chunkValues = options.chunkValues ?? DECODE_CHUNK_VALUES;
  const open: Open[] = [];
  let pos = 0;
  let expect = Expect.Value;

  const fail = (message: string): never => {
    throw new JsonError(message);
  };
  const at = () => pos < text.length ? ` at byte ${pos + 1}` : " at the end of the text";
  const unexpected = (): never =>
    fail(
      pos < text.length
        ? `Unexpected ${JSON.stringify(String.fromCharCode(text[pos] as number))}${at()}`
        : "Unexpected end of JSON text",
    );
  const skipSpace = () => {
    let c = text[pos];
    while (c === SPACE || c === LF || c === CR || c === TAB) c = text[++pos];
  };

  /** Stores the value on top of the stack into the open container, or ends the document. */
  const stored = () => {
    const parent = open[open.length - 1];
    if (!parent) {
      expect = Expect.End;
      return;
    }
    if (parent.array) lua.lua_rawseti(L, -2, ++parent.length);
    else lua.lua_rawset(L, -3);
    expect = Expect.CommaOrClose;
  };

  const openContainer = (array: boolean) => {
    if (open.length >= DECODE_MAX_DEPTH) {
      fail(`Nested deeper than ${DECODE_MAX_DEPTH} levels${at()}`);
    }
    // The table, the key above it and the value being built.
    lauxlib.luaL_checkstack(L, 3, null);
    lua.lua_createtable(L, 0, 0);
    open.push({ array, length: 0 });
    pos++;
    expect = array ? Expect.ValueOrClose : Expect.KeyOrClose;
  };

  const closeContainer = () => {
    open.pop();
    pos++;
    stored();
  };

  const pushString = () => {
    const start = ++pos;
    let c = text[pos];
    while (c !== QUOTE && c !== BACKSLASH && c !== undefined && c >= SPACE) c = text[++pos];
    if (c === QUOTE) {
      lua.lua_pushlstring(L, text.subarray(start, pos), pos - start);
      pos++;
      return;
    }
    // Escapes: the rest is copied byte by byte.
    const bytes: number[] = Array.from(text.subarray(start, pos));
    for (;;) {
      c = text[pos];
      if (c === undefined) fail(`Unterminated string${at()}`);
      if ((c as number) < SPACE) fail(`Bad control character in string${at()}`);
      if (c === QUOTE) break;
      if (c !== BACKSLASH) {
        bytes.push(c as number);
        pos++;
        continue;
      }
      const escape = text[pos + 1] as number;
      if (escape === 0x75) {
        pos += 2;
        let code = hex4();
        if (code >= 0xd800 && code <= 0xdbff && text[pos] === BACKSLASH && text[pos + 1] === 0x75) {
          const save = pos;
          pos += 2;
          const low = hex4();
          if (low >= 0xdc00 && low <= 0xdfff) {
            code = 0x10000 + ((code - 0xd800) << 10) + low - 0xdc00;
          } else pos = save;
        }
        if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
        pushUtf8(bytes, code);
        continue;
      }
      const plain = ESCAPES[escape];
      if (plain === undefined) {
        pos++;
        fail(`Bad escape in string${at()}`);
      }
      bytes.push(plain as number);
      pos += 2;
    }
    pos++;
    const value = Uint8Array.from(bytes);
    lua.lua_pushlstring(L, value, value.length);
  };

  const hex4 = (): number => {
    let code = 0;
    for (let i = 0; i < 4; i++) {
      const c = text[pos++] ?? 0;
      const digit = c >= 0x30 && c <= 0x39
        ? c - 0x30
        : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66
        ? (c | 0x20) - 0x57
        : -1;
      if (digit < 0) {
        pos--;
        fail(`Bad Unicode escape in string${at()}`);
      }
      code = code * 16 + digit;
    }
    return code;
  };

  const pushValue = () => {
    const c = text[pos];
    if (c === QUOTE) return pushString();
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      // The regular expression reads text; the bytes of a number are ASCII.
      let end = pos;
      while (end < text.length && isNumberByte(text[end] as number)) end++;
      const token = String.fromCharCode(...text.subarray(pos, Math.min(end, pos + 400)));
      NUMBER.lastIndex = 0;
      const match = NUMBER.exec(token);
      if (!match) return unexpected();
      pos += match[0].length;
      return vm.push(Number(match[0]), L);
    }
    for (const [word, value] of LITERALS) {
      if (c === word[0] && word.every((byte, i) => text[pos + i] === byte)) {
        pos += word.length;
        return vm.push(value, L);
      }
    }
    unexpected();
  };

  const chunk = (L: LuaState): number | undefined => {
    const started = pos;
    // Scanning and building are work the count hook never sees: charged per chunk, which
    // raises the timeout (or the memory error) part way through a large document.
    const charge = (values: number) => {
      vm.charge(L, Math.ceil((pos - started) / BYTES_PER_INSTRUCTION) + values * JSON_VALUE_COST);
      vm.reraiseTimeout(L);
    };
    let values = 0;
    try {
      for (; values < chunkValues; values++) {
        skipSpace();
        const c = text[pos];
        switch (expect) {
          case Expect.ValueOrClose:
            if (c === 0x5d) {
              closeContainer();
              continue;
            }
          // falls through
          case Expect.Value:
            if (c === 0x5b) openContainer(true);
            else if (c === 0x7b) openContainer(false);
            else {
              pushValue();
              stored();
            }
            continue;
          case Expect.KeyOrClose:
            if (c === 0x7d) {
              closeContainer();
              continue;
            }
          // falls through
          case Expect.Key:
            if (c !== QUOTE) unexpected();
            pushString();
            skipSpace();
            if (text[pos] !== 0x3a) unexpected();
            pos++;
            expect = Expect.Value;
            continue;
          case Expect.CommaOrClose: {
            const array = open[open.length - 1]?.array;
            if (c === 0x2c) {
              pos++;
              expect = array ? Expect.Value : Expect.Key;
            } else if (c === (array ? 0x5d : 0x7d)) closeContainer();
            else unexpected();
            continue;
          }
          case Expect.End:
            if (pos < text.length) unexpected();
            charge(values);
            return 1;
        }
      }
    } catch (error) {
      if (!(error instanceof JsonError)) throw error;
      // Nothing half-built is left: the partial tables go with the stack.
      lua.lua_settop(L, base);
      lua.lua_pushnil(L);
      lua.lua_pushstring(L, toLua(`Invalid JSON: ${error.message}`));
      return 2;
    }
    charge(values);
    return undefined;
  };

  return runInSlices(vm, L, chunk);
}

function isNumberByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 ||
    c === 0x45;
}

function pushUtf8(bytes: number[], code: number): void {
  if (code < 0x80) bytes.push(code);
  else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
  else if (code < 0x10000) {
    bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
  } else {
    bytes.push(
      0xf0 | (code >> 18),
      0x80 | ((code >> 12) & 0x3f),
      0x80 | ((code >> 6) & 0x3f),
      0x80 | (code & 0x3f),
    );
  }
}
