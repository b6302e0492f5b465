/**
 * Tests for src/lua/wrappers.ts (the wrapper registry and its lookup order, SPEC 9) and, through
 * a LuaSession, the variable object a factory receives (src/lua/variable_handle.ts).
 */
import assert from "node:assert/strict";
import { inlineSession } from "../support/session_harness.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { type LuaValue, LuaVm } from "../../src/lua/vm.ts";
import { WrapperRegistry } from "../../src/lua/wrappers.ts";
import { encodeFrame } from "../../src/protocol/outgoing.ts";
import { parseMessage } from "../../src/protocol/messages.ts";

function makeVm(code: string): LuaVm {
  const vm = new LuaVm({ instructionBudget: 100_000 });
  openSandbox(vm);
  vm.beginEntry();
  const result = vm.evaluate(code);
  if (!result.ok) throw new Error(result.failure.description);
  return vm;
}

function global(vm: LuaVm, name: string): LuaValue {
  const result = vm.evaluate(`return ${name}`);
  if (!result.ok) throw new Error(result.failure.description);
  return result.value[0] ?? null;
}

const GLOBALS = `
Registered = {new = function() return {} end}
Builtin = {new = function() return {} end}
Plain = {new = function() return {} end}
NoNew = {other = 1}
Inherited = setmetatable({}, {__index = {new = function() return {} end}})
lib = {Nested = {new = function() return {} end}}
NotATable = 5
`;

Deno.test("WrapperRegistry lookup order", async (t) => {
  const vm = makeVm(GLOBALS);
  await t.step("an unknown name is undefined", () => {
    const registry = new WrapperRegistry(vm);
    assert.equal(registry.find("Unknown"), undefined);
    assert.equal(registry.find("lib.Unknown"), undefined);
    assert.equal(registry.find("missing.deeper.Name"), undefined);
  });
  await t.step("a Lua global with a new method is found", () => {
    const registry = new WrapperRegistry(vm);
    assert.equal(registry.find("Plain"), global(vm, "Plain"));
  });
  await t.step("an inherited new method counts", () => {
    const registry = new WrapperRegistry(vm);
    assert.equal(registry.find("Inherited"), global(vm, "Inherited"));
  });
  await t.step("a global without new, or not a table, is not a factory", () => {
    const registry = new WrapperRegistry(vm);
    assert.equal(registry.find("NoNew"), undefined);
    assert.equal(registry.find("NotATable"), undefined);
    assert.equal(registry.find("print"), undefined);
  });
  await t.step("dotted names walk nested globals", () => {
    const registry = new WrapperRegistry(vm);
    assert.equal(registry.find("lib.Nested"), global(vm, "lib.Nested"));
  });
  await t.step("a built-in wins over a global of the same name", () => {
    const registry = new WrapperRegistry(vm);
    registry.registerBuiltin("Plain", global(vm, "Builtin"));
    assert.equal(registry.find("Plain"), global(vm, "Builtin"));
  });
  await t.step("a registered factory wins over a built-in and a global", () => {
    const registry = new WrapperRegistry(vm);
    registry.registerBuiltin("Plain", global(vm, "Builtin"));
    registry.register("Plain", global(vm, "Registered"));
    assert.equal(registry.find("Plain"), global(vm, "Registered"));
  });
  await t.step("a registered factory needs no new method and may be a function", () => {
    const registry = new WrapperRegistry(vm);
    const fn = global(vm, "function() return {} end");
    registry.register("Fn", fn);
    assert.equal(registry.find("Fn"), fn);
  });
  await t.step("names lists the registered factories only", () => {
    const registry = new WrapperRegistry(vm);
    registry.register("A", global(vm, "Plain"));
    registry.register("B", global(vm, "Plain"));
    registry.registerBuiltin("C", global(vm, "Plain"));
    assert.deepEqual(registry.names().sort(), ["A", "B"]);
  });
  await t.step("re-registering replaces the factory", () => {
    const registry = new WrapperRegistry(vm);
    registry.register("A", global(vm, "Plain"));
    registry.register("A", global(vm, "Registered"));
    assert.equal(registry.find("A"), global(vm, "Registered"));
  });
});

const MAIN = `
App = {type = "App", value = {1, 2}, label = "x"}
session:createAppVariable(App)
log = {}
Upper = {}
Upper.__index = Upper
function Upper:new(variable)
  local existing = variable:getWrapper()
  log[#log + 1] = "new:" .. variable:getId() .. ":" .. tostring(existing ~= nil)
  if existing then
    existing.source = variable:getValue()
    return existing
  end
  variable:setProperty("wrapped", "yes")
  local parent = variable:getParent()
  return setmetatable({
    source = variable:getValue(),
    parentId = parent and parent:getId() or 0,
    hint = variable:getProperty("hint"),
    missing = variable:getProperty("nothing"),
  }, Upper)
end
function Upper:size() return #self.source end
function Upper:destroy() log[#log + 1] = "destroy" end
Fresh = {}
function Fresh:new(variable)
  log[#log + 1] = "fresh"
  return {type = "FreshWrapper", source = variable:getValue(), destroy = function() log[#log + 1] = "fresh-destroy" end}
end
`;

Deno.test("wrappers through a session", async (t) => {
  const session = inlineSession(MAIN, { instructionBudget: 1_000_000, maxVariables: 100 });
  // deno-lint-ignore no-explicit-any
  const frame = async (...messages: unknown[]): Promise<any[]> => {
    const items = messages.map((message) => parseMessage(message));
    return JSON.parse(encodeFrame(await session.handleFrame({ userEvent: true, items })));
  };
  const lua = (code: string): LuaValue => {
    const result = session.evaluate(code);
    if (!result.ok) assert.fail(result.failure.description);
    return result.value[0] ?? null;
  };
  await frame({ type: "watch", data: { varId: 1 } });

  await t.step("the factory gets a variable object and may set properties on it", async () => {
    const out = await frame({
      type: "create",
      data: { id: 2, parentId: 1, properties: { path: "value?wrapper=Upper", hint: "h" } },
    });
    const update = out.find((m) => m.type === "update" && m.data.varId === 2);
    assert.ok(update);
    assert.equal(update.data.properties.wrapped, "yes");
    assert.equal(update.data.properties.type, "Upper");
    assert.deepEqual(lua("return log[1]"), "new:2:false");
  });
  await t.step("getValue, getParent, getProperty", () => {
    const wrapper = session.variable(2)?.wrapper ?? null;
    assert.notEqual(wrapper, null);
    const inspect = lua(
      "return function(w) return w.parentId, w.hint, w.missing, w.source == App.value end",
    );
    const result = session.call(inspect, [wrapper], 4);
    assert.ok(result.ok);
    assert.deepEqual(result.value, [1, "h", null, true]);
  });
  await t.step("the wrapper stands in for the value in child paths", async () => {
    const out = await frame({
      type: "create",
      data: { id: 3, parentId: 2, properties: { path: "size()", access: "r" } },
    });
    const update = out.find((m) => m.type === "update" && m.data.varId === 3);
    assert.equal(update?.data.value, 2);
  });
  await t.step(
    "a changed value calls the factory again; returning the same wrapper keeps it",
    async () => {
      lua("App.value = {1, 2, 3}");
      const out = await frame();
      const size = out.find((m) => m.type === "update" && m.data.varId === 3);
      assert.equal(size?.data.value, 3);
      assert.equal(lua("return log[#log]"), "new:2:true");
      assert.equal(lua("return #log"), 2);
    },
  );
  await t.step("an unchanged value does not call the factory", async () => {
    await frame();
    assert.equal(lua("return #log"), 2);
  });
  await t.step("destroying the variable runs the wrapper's destroy", async () => {
    await frame({ type: "destroy", data: { varId: 2 } });
    assert.equal(lua("return log[#log]"), "destroy");
  });
  await t.step("a factory returning a new wrapper replaces and destroys the old one", async () => {
    lua("log = {}");
    await frame({
      type: "create",
      data: { id: 4, parentId: 1, properties: { path: "value?wrapper=Fresh" } },
    });
    lua("App.value = {9}");
    const out = await frame();
    assert.equal(lua("return table.concat(log, ',')"), "fresh,fresh,fresh-destroy");
    const update = out.find((m) => m.type === "update" && m.data.varId === 4);
    assert.ok(update);
    assert.ok("obj" in update.data.value);
  });
  await t.step("an unknown wrapper is reported as an error on the variable", async () => {
    const out = await frame({
      type: "create",
      data: { id: 5, parentId: 1, properties: { path: "value?wrapper=Nope" } },
    });
    const error = out.find((m) => m.type === "error" && m.data.varId === 5);
    assert.ok(error);
    assert.match(error.data.description, /Nope/);
  });
  await t.step("a handle of a destroyed variable raises a Lua error when used", async () => {
    lua(
      "Keeper = {new = function(self, variable) kept = variable return {} end}",
    );
    await frame({
      type: "create",
      data: { id: 6, parentId: 1, properties: { path: "label?wrapper=Keeper" } },
    });
    assert.equal(lua("return kept:getId()"), 6);
    await frame({ type: "destroy", data: { varId: 6 } });
    assert.equal(lua("local ok, e = pcall(kept.getId, kept) return ok"), false);
    assert.match(
      String(lua("local ok, e = pcall(kept.getValue, kept) return e")),
      /no longer exists/,
    );
  });
  session.shutdown();
});
