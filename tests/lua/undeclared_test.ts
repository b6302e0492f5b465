/**
 * Tests for src/lua/undeclared.ts: which nil fields count as undeclared on a prototype chain,
 * and the `nilField` hook of `readSegments` that feeds it.
 */
import assert from "node:assert/strict";
import { lua, toLua } from "../../src/lua/fengari.ts";
import { readSegments } from "../../src/lua/navigate.ts";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { undeclaredField } from "../../src/lua/undeclared.ts";
import { type LuaObject, LuaVm } from "../../src/lua/vm.ts";
import { parsePath } from "../../src/variables/path.ts";

const SETUP = `
Base = {type = "Base", shared = 1}
Base.__index = Base
Contact = setmetatable({type = "Contact", name = "", selected = false}, Base)
Contact.__index = Contact
contact = setmetatable({email = "a@b"}, Contact)
plain = {name = "x"}
dynamic = setmetatable({}, {__index = function(_, k) return nil end})
bare = setmetatable({}, {})
broken = setmetatable({}, {__index = "not a table"})
contact.friend = setmetatable({}, Contact)
`;

function objects(): { vm: LuaVm; get(name: string): LuaObject } {
  const vm = new LuaVm();
  openSandbox(vm);
  const ran = vm.evaluate(SETUP);
  if (!ran.ok) assert.fail(ran.failure.description);
  return {
    vm,
    get(name) {
      const value = vm.evaluate(`return ${name}`);
      if (!value.ok) assert.fail(value.failure.description);
      const object = value.value[0];
      if (object === null || typeof object !== "object") assert.fail(`${name} is no object`);
      return object;
    },
  };
}

Deno.test("undeclaredField", async (t) => {
  const { vm, get } = objects();
  const contact = get("contact");

  await t.step("a field no table of the chain holds is undeclared", () => {
    assert.equal(undeclaredField(vm, contact, toLua("nmae")), true);
  });

  await t.step("own, prototype and base fields are declared", () => {
    for (const field of ["email", "name", "selected", "shared", "type", "__index"]) {
      assert.equal(undeclaredField(vm, contact, toLua(field)), false, field);
    }
  });

  await t.step("a field set to nil later is undeclared (the session looks at the source)", () => {
    vm.evaluate("contact.email = nil");
    assert.equal(undeclaredField(vm, contact, toLua("email")), true);
  });

  await t.step("objects without a prototype of tables are never reported", () => {
    assert.equal(undeclaredField(vm, get("plain"), toLua("nmae")), false);
    assert.equal(undeclaredField(vm, get("dynamic"), toLua("nmae")), false);
    assert.equal(undeclaredField(vm, get("bare"), toLua("nmae")), false);
    assert.equal(undeclaredField(vm, get("broken"), toLua("nmae")), false);
    assert.equal(undeclaredField(vm, get("print"), toLua("nmae")), false);
  });

  await t.step("the stack is left as it was, whatever the answer", () => {
    const top = lua.lua_gettop(vm.L);
    undeclaredField(vm, contact, toLua("nmae"));
    undeclaredField(vm, contact, toLua("name"));
    undeclaredField(vm, get("plain"), toLua("nmae"));
    undeclaredField(vm, get("dynamic"), toLua("nmae"));
    assert.equal(lua.lua_gettop(vm.L), top);
  });
});

Deno.test("readSegments tells the hook of each field that read nil", async (t) => {
  const { vm, get } = objects();
  const contact = get("contact");
  const heard = (path: string) => {
    const seen: string[] = [];
    const result = readSegments(vm, contact, parsePath(path).segments, (object, segment, i) => {
      seen.push(`${i}:${segment.name}:${undeclaredField(vm, object, segment.key)}`);
    });
    assert.ok(result.ok);
    return seen;
  };

  await t.step("a nil field at the end", () => {
    assert.deepEqual(heard("nmae"), ["0:nmae:true"]);
  });

  await t.step("a nil field part way stops the read there", () => {
    assert.deepEqual(heard("friend.nmae.length"), ["1:nmae:true"]);
    assert.deepEqual(heard("missing.name"), ["0:missing:true"]);
  });

  await t.step("fields that hold values are not told", () => {
    assert.deepEqual(heard("name"), []);
    assert.deepEqual(heard("friend.name"), []);
    assert.deepEqual(heard("selected"), []);
  });
});
