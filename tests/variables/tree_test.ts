/**
 * Tests for src/variables/tree.ts: the variable tree and its walk order.
 */
import assert from "node:assert/strict";
import { parsePath } from "../../src/variables/path.ts";
import { VariableTree } from "../../src/variables/tree.ts";
import type { Variable } from "../../src/variables/variable.ts";

function ids(variables: Iterable<Variable<unknown>>): number[] {
  return [...variables].map((variable) => variable.id);
}

Deno.test("VariableTree", async (t) => {
  const tree = new VariableTree();
  const app = tree.add({ id: 1, parent: undefined, origin: "lua", value: "app" });
  const a = tree.add({ id: 2, parent: app, origin: "frontend", path: parsePath("a") });
  const b = tree.add({ id: 3, parent: app, origin: "frontend", access: "r" });
  const a1 = tree.add({ id: 4, parent: a, origin: "frontend" });
  tree.add({ id: 5, parent: a, origin: "frontend" });
  tree.add({ id: 6, parent: a1, origin: "frontend" });
  const other = tree.add({ id: -1, parent: undefined, origin: "lua" });

  await t.step("add sets defaults", () => {
    assert.equal(a.access, "rw");
    assert.equal(b.access, "r");
    assert.equal(a.value, null);
    assert.equal(app.value, "app");
    assert.equal(a.wrapper, null);
    assert.equal(a.sentJson, undefined);
    assert.equal(a.sentType, undefined);
    assert.equal(a.watchCount, 0);
    assert.equal(a.takeResend(), false);
    assert.equal(a.properties.size, 0);
    assert.equal(a.path?.text, "a");
  });
  await t.step("add links parents and children", () => {
    assert.equal(a.parent, app);
    assert.deepEqual(ids(app.children), [2, 3]);
    assert.deepEqual(ids(a.children), [4, 5]);
  });
  await t.step("get and size", () => {
    assert.equal(tree.size, 7);
    assert.equal(tree.get(4), a1);
    assert.equal(tree.get(-1), other);
    assert.equal(tree.get(99), undefined);
  });
  await t.step("roots in creation order", () => {
    assert.deepEqual(ids(tree.roots()), [1, -1]);
  });
  await t.step("walk visits parents before children, depth first, in creation order", () => {
    assert.deepEqual(ids(tree.walk()), [1, 2, 4, 6, 5, 3, -1]);
  });
  await t.step("values lists every variable", () => {
    assert.deepEqual(ids(tree.values()).sort((x, y) => x - y), [-1, 1, 2, 3, 4, 5, 6]);
  });
  await t.step("remove returns the subtree children before parents", () => {
    const removed = ids(tree.remove(a));
    assert.deepEqual(removed, [6, 4, 5, 2]);
    for (const id of removed) assert.equal(tree.get(id), undefined);
    assert.deepEqual(ids(app.children), [3]);
    assert.equal(tree.size, 3);
  });
  await t.step("the walk no longer reaches removed variables", () => {
    assert.deepEqual(ids(tree.walk()), [1, 3, -1]);
  });
  await t.step("removing a root drops it from the roots", () => {
    assert.deepEqual(ids(tree.remove(other)), [-1]);
    assert.deepEqual(ids(tree.roots()), [1]);
  });
  await t.step("a freed id can be added again", () => {
    const again = tree.add({ id: 2, parent: app, origin: "frontend" });
    assert.equal(tree.get(2), again);
    assert.deepEqual(ids(app.children), [3, 2]);
  });
  await t.step("given property maps are used as they are", () => {
    const properties = new Map([["path", "x"]]);
    const variable = tree.add({ id: 10, parent: app, origin: "frontend", properties });
    assert.equal(variable.properties, properties);
  });
  await t.step("a deep tree walks and removes in order", () => {
    const deep = new VariableTree();
    let parent = deep.add({ id: 1, parent: undefined, origin: "lua" });
    for (let id = 2; id <= 2000; id++) {
      parent = deep.add({ id, parent, origin: "frontend" });
    }
    const walked = ids(deep.walk());
    assert.equal(walked.length, 2000);
    assert.equal(walked[0], 1);
    assert.equal(walked[1999], 2000);
    const removed = ids(deep.remove(deep.get(2) as Variable<unknown>));
    assert.equal(removed.length, 1999);
    assert.equal(removed[0], 2000);
    assert.equal(removed[1998], 2);
    assert.equal(deep.size, 1);
  });
});
