/**
 * Tests for src/viewdefs/store.ts: templates keyed TYPE.NAMESPACE, looked up by type (SPEC 11).
 */
import assert from "node:assert/strict";
import { ViewdefStore, viewdefType } from "../../src/viewdefs/store.ts";

function store(): ViewdefStore {
  return new ViewdefStore(
    new Map([
      ["Contact.DEFAULT", "<template>c</template>"],
      ["Contact.list-item", "<template>li</template>"],
      ["ContactList.DEFAULT", "<template>list</template>"],
      ["lua.ViewList.DEFAULT", "<template>vl</template>"],
      ["lua.ViewListItem.list-item", "<template>vli</template>"],
    ]),
  );
}

Deno.test("ViewdefStore", async (t) => {
  await t.step("forType returns every namespace of exactly that type", () => {
    assert.deepEqual(store().forType("Contact"), {
      "Contact.DEFAULT": "<template>c</template>",
      "Contact.list-item": "<template>li</template>",
    });
  });
  await t.step("a type that is a prefix of another type does not match it", () => {
    assert.deepEqual(Object.keys(store().forType("ContactList")), ["ContactList.DEFAULT"]);
    assert.deepEqual(Object.keys(store().forType("Contac")), []);
  });
  await t.step("dotted types", () => {
    assert.deepEqual(Object.keys(store().forType("lua.ViewList")), ["lua.ViewList.DEFAULT"]);
    assert.deepEqual(Object.keys(store().forType("lua")), [
      "lua.ViewList.DEFAULT",
      "lua.ViewListItem.list-item",
    ]);
  });
  await t.step("the empty type and unknown types have no viewdefs", () => {
    assert.deepEqual(store().forType(""), {});
    assert.deepEqual(store().forType("Nothing"), {});
  });
  await t.step("get and keys", () => {
    const s = store();
    assert.equal(s.get("Contact.DEFAULT"), "<template>c</template>");
    assert.equal(s.get("Contact"), undefined);
    assert.equal(s.keys().length, 5);
  });
  await t.step("set adds or replaces and bumps the version", () => {
    const s = store();
    const version = s.version;
    s.set("Contact.DEFAULT", "<template>new</template>");
    assert.equal(s.get("Contact.DEFAULT"), "<template>new</template>");
    assert.equal(s.version, version + 1);
    s.set("Other.DEFAULT", "<template>o</template>");
    assert.equal(s.version, version + 2);
    assert.deepEqual(s.forType("Other"), { "Other.DEFAULT": "<template>o</template>" });
  });
  await t.step("delete removes, and bumps the version only when something was removed", () => {
    const s = store();
    const version = s.version;
    s.delete("Contact.list-item");
    assert.equal(s.get("Contact.list-item"), undefined);
    assert.equal(s.version, version + 1);
    s.delete("Contact.list-item");
    assert.equal(s.version, version + 1);
  });
  await t.step("the constructor copies its map", () => {
    const templates = new Map([["A.DEFAULT", "a"]]);
    const s = new ViewdefStore(templates);
    templates.set("B.DEFAULT", "b");
    s.set("C.DEFAULT", "c");
    assert.equal(s.get("B.DEFAULT"), undefined);
    assert.equal(templates.has("C.DEFAULT"), false);
  });
  await t.step("an empty store", () => {
    const s = new ViewdefStore();
    assert.deepEqual(s.keys(), []);
    assert.equal(s.version, 0);
  });
  await t.step("forType returns a fresh object each time", () => {
    const s = store();
    const first = s.forType("Contact");
    first["Contact.DEFAULT"] = "changed";
    assert.equal(s.get("Contact.DEFAULT"), "<template>c</template>");
  });
});

Deno.test("viewdefType", () => {
  assert.equal(viewdefType("Contact.DEFAULT"), "Contact");
  assert.equal(viewdefType("lua.ViewList.DEFAULT"), "lua.ViewList");
  assert.equal(viewdefType("Contact.list-item"), "Contact");
  assert.equal(viewdefType("NoNamespace"), "NoNamespace");
});
