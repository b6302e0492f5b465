/**
 * Tests for src/lua/patterns.ts: the budgeted string.find / match / gmatch /
 * gsub. Most cases are differential: the same snippet runs against fengari's
 * original string library and against the budgeted replacement, and both must
 * agree on results and on whether an error is raised.
 */

import assert from "node:assert/strict";
// The server's own copy of fengari (a second copy would hold states of its own kind).
import fengari from "../../src/lua/fengari_internals/fengari_esm.js";
import { installPatternFunctions } from "../../src/lua/patterns.ts";

const { lua, lauxlib, lualib } = fengari;
const { to_luastring } = fengari.core;

/** Serialises any number of Lua values (arrays of values recursively) into a string. */
const PRELUDE = `
local function ser(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do
    local v = select(i, ...)
    local t = type(v)
    if t == "string" then out[i] = string.format("%q", v)
    elseif t == "number" then out[i] = math.type(v) .. ":" .. tostring(v)
    elseif t == "table" then
      local parts = {}
      for j = 1, #v do parts[j] = ser(v[j]) end
      out[i] = "{" .. table.concat(parts, ",") .. "}"
    else out[i] = tostring(v) end
  end
  return n .. "|" .. table.concat(out, ";")
end
`;

type Outcome = { ok: true; value: string } | { ok: false; error: string };

function newState(budgeted: boolean, maxSteps = 1_000_000): unknown {
  const L = lauxlib.luaL_newstate();
  for (const name of ["_G", "string", "table", "math"]) {
    const open = name === "_G" ? lualib.luaopen_base : lualib[`luaopen_${name}`];
    lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
    lua.lua_pop(L, 1);
  }
  if (budgeted) installPatternFunctions(L, { maxSteps });
  return L;
}

/** Runs `body` (a function body returning values) and serialises what it returns. */
function run(L: unknown, body: string): Outcome {
  const code = `${PRELUDE}\nreturn ser((function()\n${body}\nend)())`;
  const top = lua.lua_gettop(L);
  let status = lauxlib.luaL_loadstring(L, to_luastring(code));
  if (status === lua.LUA_OK) status = lua.lua_pcall(L, 0, 1, 0);
  const text: string = lua.lua_tojsstring(L, -1) ?? "<non-string error>";
  lua.lua_settop(L, top);
  return status === lua.LUA_OK ? { ok: true, value: text } : { ok: false, error: text };
}

function expectOk(L: unknown, body: string): string {
  const r = run(L, body);
  if (!r.ok) assert.fail(`unexpected Lua error: ${r.error}`);
  return r.value;
}

function expectError(L: unknown, body: string): string {
  const r = run(L, body);
  if (r.ok) assert.fail(`expected a Lua error, got ${r.value}`);
  return r.error;
}

/** Differential cases: run against original fengari and the budgeted version. */
const CASES: string[] = [
  // find
  `return string.find("hello world", "o w")`,
  `return string.find("hello world", "l+")`,
  `return string.find("hello world", "o", 6)`,
  `return string.find("hello world", "o", -3)`,
  `return string.find("hello world", "o", -100)`,
  `return string.find("hello", "l", 10)`,
  `return string.find("hello", "", 6)`,
  `return string.find("hello", "", 7)`,
  `return string.find("a.b.c", ".", 1, true)`,
  `return string.find("a+b", "+", 1, true)`,
  `return string.find("abcabcabd", "abcabd")`,
  `return string.find("  key = value", "(%w+)%s*=%s*(%w+)")`,
  `return string.find("abc", "()b()")`,
  `return string.find("abc", "^b")`,
  `return string.find("abc", "^a")`,
  `return string.find("abc", "c$")`,
  `return string.find("a$c", "$c")`,
  `return string.find("THE (quick) fox", "%((%a+)%)")`,
  `return ("x = 10"):find("%d+")`,
  // match
  `return string.match("2024-01-15", "(%d+)-(%d+)-(%d+)")`,
  `return string.match("  trim me  ", "^%s*(.-)%s*$")`,
  `return string.match("f(a(b)c)d", "%b()")`,
  `return string.match("THE (quick) fox", "%f[%a]%a+", 5)`,
  `return string.match("hello hello", "(h%a+) %1")`,
  `return string.match("say \\"hi\\" or 'yo'", "([\\"'])(.-)%1")`,
  `return string.match("[x]", "[%[](.)[%]]")`,
  `return string.match("a-z", "[a%-z]+")`,
  `return string.match("0x1F!", "%x+", 3)`,
  `return string.match("\\0a\\0", "%z(.)%Z*")`,
  `return string.match("tab\\there", "%c")`,
  `return string.match("ABCdef123_!", "%u+%l+%d+[_%p]+")`,
  `return string.match("abc", "[^%a]")`,
  `return string.match("aaab", "a-b")`,
  `return string.match("aaab", "a*")`,
  `return string.match("b", "a?b")`,
  `return string.match("hello", "()ll()")`,
  `return string.match("x", "")`,
  `return string.match("ab", "^(a)(b)$")`,
  `return string.match("a^b", "a^b")`,
  `return string.match("\\200\\255", "[\\128-\\255]+")`,
  // gmatch
  `local r = {} for w in string.gmatch("one two  three", "%a+") do r[#r+1] = w end return r`,
  `local r = {} for k, v in string.gmatch("a=1, b=2, c=3", "(%w+)=(%w+)") do r[#r+1] = {k, v} end return r`,
  `local r = {} for p in string.gmatch("abc", "()") do r[#r+1] = p end return r`,
  `local r = {} for w in string.gmatch("abc", "a*") do r[#r+1] = w end return r`,
  `local r = {} for w in ("x;y;;z"):gmatch("([^;]*)") do r[#r+1] = w end return r`,
  `local r = {} for w in string.gmatch("^a^a", "^a") do r[#r+1] = w end return r`,
  // gsub
  `return string.gsub("hello world", "o", "0")`,
  `return string.gsub("hello world", "(%w+)", "<%1>")`,
  `return string.gsub("hello world", "%w+", "%0 %0", 1)`,
  `return string.gsub("abc", "", "-")`,
  `return string.gsub("abc", "b*", "-")`,
  `return string.gsub("hello", "^h", "H")`,
  `return string.gsub("hello world", "(%w+) (%w+)", "%2 %1")`,
  `return string.gsub("100%", "%%", "%%%%")`,
  `return string.gsub("$name is $age", "%$(%w+)", {name = "Ann", age = 42})`,
  `return string.gsub("$a $b", "%$(%w+)", {a = false})`,
  `return string.gsub("abc", "%w", function(c) return c:upper() .. "." end)`,
  `return string.gsub("abc", "%w", function(c) if c == "b" then return nil end return 1 end)`,
  `return string.gsub("abc", "()", "%1")`,
  `return string.gsub("abc", "b", 7)`,
  `return string.gsub("abc", ".", "x", 0)`,
  `return string.gsub("abc", ".", "x", -1)`,
  // errors
  `return string.find("a", "%")`,
  `return string.find("a", "[a")`,
  `return string.find("a", "[^")`,
  `return string.find("a", "(a")`,
  `return string.find("a", "a)")`,
  `return string.match("a", "a)")`,
  `return string.find("a", "%1")`,
  `return string.find("aa", "(a)%2")`,
  `return string.find("a", "%f(a)")`,
  `return string.match(string.rep("a", 300), string.rep("a?", 300))`,
  `return string.find("a", string.rep("()", 33))`,
  `return string.gsub("abc", "(b)", "%2")`,
  `return string.gsub("abc", "b", "%x")`,
  `return string.gsub("abc", "b", "%")`,
  `return string.gsub("abc", "b", {b = {}})`,
  `return string.gsub("abc", "b", function() return true end)`,
  `return string.gsub("abc", "b", true)`,
  `return string.gsub("abc", "b")`,
  `return string.find(nil, "a")`,
  `return string.find("abc", "b", 1.5)`,
  `return string.gmatch("abc")`,
];

/** Cases where fengari 0.1.5 deviates from Lua 5.3; only error-ness is compared. */
const MESSAGE_DIFFERS = new Set<string>([
  // fengari drops the closing parenthesis of this message.
  `return string.find("a", "%b")`,
]);

Deno.test("budgeted patterns agree with fengari's original string library", async (t) => {
  const original = newState(false);
  const budgeted = newState(true);
  for (const body of [...CASES, ...MESSAGE_DIFFERS]) {
    await t.step(body, () => {
      const want = run(original, body);
      const got = run(budgeted, body);
      assert.equal(got.ok, want.ok, `error-ness differs: ${JSON.stringify({ got, want })}`);
      if (!MESSAGE_DIFFERS.has(body)) assert.deepEqual(got, want);
    });
  }
  lua.lua_close(original);
  lua.lua_close(budgeted);
});

Deno.test("budgeted pattern functions", async (t) => {
  const L = newState(true);

  await t.step("replaces the functions in the string table and string metatable", () => {
    assert.equal(
      expectOk(
        L,
        `return getmetatable("").__index == string, ("abc"):find("b"), ("abc"):gsub("b", "B")`,
      ),
      `4|true;integer:2;"aBc";integer:1`,
    );
  });

  await t.step("the regex bomb hits the step limit instead of stalling", () => {
    const error = expectError(L, `return string.find(string.rep("a", 200000), ".-.-.-.-b")`);
    assert.match(error, /pattern matching too complex \(step limit reached\)/);
  });

  await t.step("the step-limit error is catchable with pcall", () => {
    assert.equal(
      expectOk(
        L,
        `local ok, err = pcall(string.match, string.rep("a", 100000), "(.-)(.-)(.-)b")
         return ok, (err:find("step limit", 1, true) ~= nil)`,
      ),
      "2|false;true",
    );
  });

  await t.step("each of match, gmatch and gsub is budgeted", () => {
    for (
      const body of [
        `return string.match(string.rep("a", 200000), ".-.-.-b")`,
        `for _ in string.gmatch(string.rep("a", 200000), ".-.-.-b") do end`,
        `return string.gsub(string.rep("a", 200000), ".-.-.-b", "")`,
        `return string.find(string.rep("(", 100000) .. "x", "%b()")`,
        `return string.find(string.rep("a", 500000), "(a*)%1%1b")`,
      ]
    ) {
      assert.match(expectError(L, body), /step limit/, body);
    }
  });

  await t.step("large but linear work passes and a small budget trips", () => {
    assert.equal(
      expectOk(L, `return #(string.gsub(string.rep("ab ", 50000), "%s+", ""))`),
      "1|integer:100000",
    );
    assert.equal(
      expectOk(
        L,
        `return string.find(string.rep("a", 300000) .. "b", string.rep("a", 1000) .. "b", 1, true)`,
      ),
      "2|integer:299001;integer:300001",
    );
    const tiny = newState(true, 50);
    assert.equal(expectOk(tiny, `return string.find("abcdef", "c%a+")`), "2|integer:3;integer:6");
    assert.match(expectError(tiny, `return ("x"):rep(100):find("%d")`), /step limit/);
    // Plain searches are linear and not metered.
    assert.equal(expectOk(tiny, `return ("x"):rep(100):find("y", 1, true)`), "1|nil");
    lua.lua_close(tiny);
  });

  await t.step("gsub with a Lua function replacement", () => {
    assert.equal(
      expectOk(
        L,
        `local calls = 0
         local s, n = string.gsub("x=1, y=22", "(%w+)=(%d+)", function(k, v)
           calls = calls + 1
           return k:upper() .. ":" .. (tonumber(v) * 2)
         end)
         return s, n, calls`,
      ),
      `3|"X:2, Y:44";integer:2;integer:2`,
    );
    // Errors raised by the replacement function propagate.
    assert.match(
      expectError(L, `return string.gsub("abc", "b", function() error("boom") end)`),
      /boom/,
    );
    // Nested use of the pattern functions from inside the callback.
    assert.equal(
      expectOk(
        L,
        `return (string.gsub("a1 b22", "%w+", function(w)
           return (w:gsub("%d", "#"))
         end))`,
      ),
      `1|"a# b##"`,
    );
  });

  await t.step("gmatch with captures and position captures", () => {
    assert.equal(
      expectOk(
        L,
        `local r = {}
         for k, v in string.gmatch("a=1, bb=22", "(%a+)=(%d+)") do r[#r + 1] = k .. v end
         for pos, w in ("ab cd"):gmatch("()(%a+)") do r[#r + 1] = pos .. w end
         return table.concat(r, ",")`,
      ),
      `1|"a1,bb22,1ab,4cd"`,
    );
  });

  await t.step("balanced match, frontier, back-references and anchors", () => {
    assert.equal(expectOk(L, `return string.match("x(a(b)c)y", "%b()")`), `1|"(a(b)c)"`);
    assert.equal(
      expectOk(L, `return string.gsub("THE (quick) fox", "%f[%a]%a+", "W")`),
      `2|"W (W) W";integer:3`,
    );
    assert.equal(
      expectOk(L, `return string.find("the the cat", "(%a+) %1")`),
      `3|integer:1;integer:7;"the"`,
    );
    assert.equal(expectOk(L, `return string.find("aXb", "^X")`), "1|nil");
    assert.equal(expectOk(L, `return string.find("aXb", "b$")`), "2|integer:3;integer:3");
    assert.equal(expectOk(L, `return string.gsub("aaa", "^a", "b")`), `2|"baa";integer:1`);
  });

  await t.step("plain find and the no-specials shortcut", () => {
    assert.equal(expectOk(L, `return string.find("a.b", ".", 1, true)`), "2|integer:2;integer:2");
    assert.equal(expectOk(L, `return string.find("a.b", ".")`), "2|integer:1;integer:1");
    assert.equal(expectOk(L, `return string.find("abab", "ab", 2)`), "2|integer:3;integer:4");
    assert.equal(expectOk(L, `return string.find("abc", "", 4)`), "2|integer:4;integer:3");
    assert.equal(expectOk(L, `return string.find("aab", "ab", -2)`), "2|integer:2;integer:3");
  });

  await t.step("errors use Lua's messages", () => {
    assert.match(expectError(L, `return string.find("a", "%b")`), /missing arguments to '%b'\)/);
    assert.match(expectError(L, `return string.find("a", "(()")`), /unfinished capture/);
    assert.match(expectError(L, `return string.match("a", "a)")`), /invalid pattern capture/);
    assert.match(expectError(L, `return string.find("a", "%1")`), /invalid capture index %1/);
    assert.match(
      expectError(L, `return string.match(("a"):rep(300), ("a?"):rep(300))`),
      /pattern too complex/,
    );
    assert.match(
      expectError(L, `return string.gsub("a", "a", {a = {}})`),
      /invalid replacement value \(a table\)/,
    );
  });

  await t.step("follows C Lua 5.3 where fengari 0.1.5 deviates", () => {
    // A back-reference to a position capture never matches (fengari matches it with length -2).
    assert.equal(expectOk(L, `return string.find("abc", "()a%1")`), "1|nil");
    // A match ending at index 0 after a repetition is a match (fengari treats it as falsy).
    assert.equal(expectOk(L, `return string.find("b", "[ab]*%f[%w]")`), "2|integer:1;integer:0");
    assert.equal(expectOk(L, `return string.gsub("b ", "[ab]*%f[%w]", "x")`), `2|"xb ";integer:1`);
  });

  await t.step("a gmatch iterator recovers after a step-limit error", () => {
    assert.equal(
      expectOk(
        L,
        `local it = string.gmatch(string.rep("a", 50000) .. " x", "(.-.-.-)b")
         local ok, err = pcall(it)
         local it2 = string.gmatch("k1 k2", "k(%d)")
         return ok, err:find("step limit", 1, true) ~= nil, it2(), it2(), (it2())`,
      ),
      `5|false;true;"1";"2";nil`,
    );
  });

  await t.step("rejects an invalid maxSteps and a missing string library", () => {
    const bare = lauxlib.luaL_newstate();
    assert.throws(() => installPatternFunctions(bare, { maxSteps: Number.NaN }), RangeError);
    assert.throws(() => installPatternFunctions(bare, { maxSteps: 10 }), /not a table/);
    lua.lua_close(bare);
  });

  lua.lua_close(L);
});
