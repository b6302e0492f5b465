/**
 * Tests for src/lua/fengari_internals/fengari_esm.js and its builder: the committed module is
 * what a fresh build from the import map's fengari gives, it holds only the libraries the
 * sandbox opens, and the server's modules share its one copy of fengari.
 */
import assert from "node:assert/strict";
import fengari from "../../src/lua/fengari_internals/fengari_esm.js";
import {
  buildFengariEsm,
  FENGARI_ESM_URL,
} from "../../src/lua/fengari_internals/build_fengari_esm.ts";
import { lauxlib, lua, lualib } from "../../src/lua/fengari.ts";
import { LuaVm } from "../../src/lua/vm.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";

Deno.test("fengari as an ES module", async (t) => {
  await t.step("the committed module is a fresh build of the installed fengari", async () => {
    const committed = await Deno.readTextFile(FENGARI_ESM_URL);
    const built = await buildFengariEsm();
    assert.ok(
      committed === built,
      "fengari_esm.js is out of date: run src/lua/fengari_internals/build_fengari_esm.ts",
    );
  });

  await t.step("holds the sandbox's libraries and none of the others", () => {
    for (const name of ["base", "coroutine", "table", "os", "string", "utf8", "math"]) {
      assert.equal(typeof fengari.lualib[`luaopen_${name}`], "function", name);
    }
    for (const name of ["io", "debug", "package", "fengari"]) {
      assert.equal(fengari.lualib[`luaopen_${name}`], undefined, name);
    }
  });

  await t.step("the typed facade is the same copy", () => {
    assert.equal(lua, fengari.lua);
    assert.equal(lauxlib, fengari.lauxlib);
    assert.equal(lualib, fengari.lualib);
  });

  await t.step("tables made without a map of removed entries still traverse removals", () => {
    const vm = new LuaVm();
    openSandbox(vm);
    vm.beginEntry();
    const result = vm.evaluate(`
      local t = {}
      for i = 1, 50 do t["k" .. i] = i end
      local seen = 0
      for k in pairs(t) do t[k] = nil; seen = seen + 1 end
      t.again = 1
      local ok = pcall(next, t, "never")
      return seen, next(t), ok`);
    assert.deepEqual(result.ok ? result.value : result, [50, "again", false]);
  });

  await t.step("runs Lua, with os.clock from the browser branch (no Node layer)", () => {
    const { to_luastring } = fengari.core;
    const L = lauxlib.luaL_newstate();
    for (const [name, open] of [["_G", lualib.luaopen_base], ["os", lualib.luaopen_os]] as const) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
      lua.lua_pop(L, 1);
    }
    const code = to_luastring("return type(os.clock()), os.exit, os.getenv");
    assert.equal(lauxlib.luaL_loadbufferx(L, code, code.length, to_luastring("t"), null), 0);
    assert.equal(lua.lua_pcall(L, 0, 3, 0), lua.LUA_OK);
    assert.equal(lua.lua_type(L, -3), lua.LUA_TSTRING);
    assert.equal(lua.lua_type(L, -2), lua.LUA_TNIL);
    assert.equal(lua.lua_type(L, -1), lua.LUA_TNIL);
  });
});
