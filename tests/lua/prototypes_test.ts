// The app model in one session's VM: prototypes, EMPTY, the Object base, create, mutation on
// reload (removed fields, isolated mutate errors), removePrototype, session.reloading.
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log.ts";
import type { LuaValue } from "../../src/lua/vm.ts";
import { LuaSession } from "../../src/session/lua_session.ts";
import { ViewdefStore } from "../../src/viewdefs/store.ts";

const MODEL = `
Object = session:prototype("Object", {})
function Object:describe() return "I am a " .. self.type end
Animal = session:prototype("Animal", {name = "", legs = 4, sound = EMPTY, tag = "old"})
function Animal:mutate()
  self.mutations = (self.mutations or 0) + 1
  if self.name == "bad" then error("mutate failed") end
end
Plant = session:prototype("garden.Plant", {height = 1})
Seed = session:prototype("garden.Plant.Seed", {})
`;

function makeSession(): {
  session: LuaSession;
  lua: (code: string) => LuaValue[];
  files: Map<string, string>;
} {
  const files = new Map([["main.lua", MODEL], ["model.lua", MODEL]]);
  const session = LuaSession.create({
    vendedId: "1",
    site: { root: "/mem", lua: files, viewdefs: new ViewdefStore(), htmlDir: undefined },
    log: silentLogger,
    instructionBudget: 1_000_000,
    maxVariables: 100,
    inlineLua: true,
    openPaths: true,
  });
  const lua = (code: string) => {
    const result = session.evaluate(code);
    if (!result.ok) assert.fail(result.failure.description);
    return result.value;
  };
  return { session, lua, files };
}

Deno.test("session:prototype", async (t) => {
  const { session, lua } = makeSession();

  await t.step("sets type and __index, and starts EMPTY fields as nil", () => {
    assert.deepEqual(
      lua("return Animal.type, Animal.__index == Animal, Animal.sound, Animal.legs"),
      [
        "Animal",
        true,
        null,
        4,
      ],
    );
  });

  await t.step("uses the registered Object prototype as the default base", () => {
    assert.deepEqual(lua("return Animal:new({}):describe(), getmetatable(Animal) == Object"), [
      "I am a Animal",
      true,
    ]);
  });

  await t.step("the default new tracks the instance; dotted names are allowed", () => {
    assert.deepEqual(lua("local p = Plant:new() return p.height, p.type"), [1, "garden.Plant"]);
  });

  await t.step("an unchanged init returns the same prototype and queues nothing", () => {
    assert.deepEqual(
      lua(`a = Animal:new({name = "rex"})
           local again = session:prototype("Animal", {name = "", legs = 4, sound = EMPTY, tag = "old"})
           return again == Animal`),
      [true],
    );
    assert.deepEqual(lua("return a.mutations"), [null]);
  });

  await t.step("a changed init updates in place and mutates live instances", () => {
    lua(`bad = Animal:new({name = "bad", tag = "own"})
         session:prototype("Animal", {name = "", legs = 2, sound = "moo"})`);
    assert.deepEqual(lua("return Animal.legs, Animal.sound, Animal.tag"), [2, "moo", null]);
    assert.deepEqual(lua("return a.mutations, a.legs, bad.mutations, bad.tag"), [1, 2, 1, null]);
  });

  await t.step("a failing mutate is reported and the others still run", async () => {
    const out = await session.handleFrame({ userEvent: false, items: [] });
    assert.ok(out.errors.some((e) => /mutate failed/.test(e.description)));
  });

  await t.step("removePrototype forgets a prototype and, with children, its sub-names", () => {
    lua(`session:removePrototype("garden.Plant", true)`);
    assert.deepEqual(
      lua(`local fresh = session:prototype("garden.Plant", {height = 9})
           local seed = session:prototype("garden.Plant.Seed", {size = 1})
           return fresh == Plant, fresh.height, seed == Seed`),
      [false, 9, false],
    );
    lua(`session:removePrototype("Animal")`);
    assert.deepEqual(lua(`return session:prototype("Animal", {}) == Animal`), [false]);
  });
  session.shutdown();
});

Deno.test("session.reloading is true only while a file is reloaded", () => {
  const { session, lua, files } = makeSession();
  lua(`seen = {}
       function note() seen[#seen + 1] = tostring(session.reloading) end`);
  files.set("note.lua", "note()");
  assert.equal(session.loadFile("note.lua"), null);
  assert.equal(session.reload("note.lua"), null);
  assert.deepEqual(lua("return seen[1], seen[2], session.reloading"), ["false", "true", false]);
  session.shutdown();
});

Deno.test("setImmediate runs soon, and clearImmediate cancels", async () => {
  const { session, lua } = makeSession();
  lua(`ran = {}
       session:setImmediate(function() ran[#ran + 1] = "kept" end)
       local h = session:setImmediate(function() ran[#ran + 1] = "cancelled" end)
       session:clearImmediate(h)`);
  const deadline = Date.now() + 2000;
  while (lua("return #ran")[0] === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(lua("return #ran, ran[1]"), [1, "kept"]);
  session.shutdown();
});
