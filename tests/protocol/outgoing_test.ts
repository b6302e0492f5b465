/**
 * Tests for src/protocol/outgoing.ts: merging batches and the order of one flush (SPEC 8).
 */
import assert from "node:assert/strict";
import {
  emptyOutgoing,
  encodeFrame,
  errorFrame,
  isEmpty,
  merge,
  type Outgoing,
} from "../../src/protocol/outgoing.ts";
import { describe, sample, type Wire } from "./sample_outgoing.ts";

function frame(out: Outgoing): Wire[] {
  return JSON.parse(encodeFrame(out));
}

Deno.test("emptyOutgoing and isEmpty", async (t) => {
  await t.step("a new batch is empty", () => {
    assert.equal(isEmpty(emptyOutgoing()), true);
  });
  await t.step("any content makes it non-empty", () => {
    const withDestroy = emptyOutgoing();
    withDestroy.destroys.push(2);
    const withError = emptyOutgoing();
    withError.errors.push({ code: "limit", description: "x" });
    const withUpdate = emptyOutgoing();
    withUpdate.updates[2].push({ varId: 2 });
    const withViewdefs = emptyOutgoing();
    withViewdefs.viewdefs = {};
    for (const out of [withDestroy, withError, withUpdate, withViewdefs]) {
      assert.equal(isEmpty(out), false);
    }
  });
  await t.step("each call gives a fresh object", () => {
    const a = emptyOutgoing();
    a.destroys.push(1);
    assert.equal(emptyOutgoing().destroys.length, 0);
  });
});

Deno.test("encodeFrame", async (t) => {
  await t.step("order: viewdefs, destroys, high, medium, low updates, then errors", () => {
    assert.deepEqual(describe(frame(sample())), [
      "update:1",
      "destroy:7",
      "destroy:6",
      "update:3",
      "update:4",
      "update:5",
      "error:9",
    ]);
  });
  await t.step("viewdefs travel as a JSON string in variable 1's viewdefs property", () => {
    const [first] = frame(sample());
    assert.deepEqual(first, {
      type: "update",
      data: {
        varId: 1,
        properties: { viewdefs: JSON.stringify({ "App.DEFAULT": "<template>a</template>" }) },
      },
    });
    assert.equal(typeof first?.data.properties.viewdefs, "string");
  });
  await t.step("values are spliced in as value JSON", () => {
    const messages = frame(sample());
    assert.deepEqual(messages[4], {
      type: "update",
      data: { varId: 4, value: [1, 2], properties: { type: "" } },
    });
    assert.deepEqual(messages[3]?.data, { varId: 3, value: "high" });
  });
  await t.step("null values are sent, absent values are not", () => {
    const out = emptyOutgoing();
    out.updates[1].push({ varId: 2, json: "null" }, { varId: 3, properties: { a: "b" } });
    const [withNull, withoutValue] = frame(out);
    assert.ok(withNull && "value" in withNull.data);
    assert.equal(withNull.data.value, null);
    assert.ok(withoutValue && !("value" in withoutValue.data));
  });
  await t.step("errors keep their fields", () => {
    const out = emptyOutgoing();
    out.errors.push({ code: "limit", description: "Too many" });
    assert.deepEqual(frame(out), [{
      type: "error",
      data: { code: "limit", description: "Too many" },
    }]);
  });
  await t.step("an empty batch is an empty array", () => {
    assert.equal(encodeFrame(emptyOutgoing()), "[]");
  });
  await t.step("every frame is valid JSON even with awkward strings", () => {
    const out = emptyOutgoing();
    out.updates[1].push({ varId: 2, json: JSON.stringify('quote " and \u2028 and </script>') });
    out.updates[1].push({ varId: 3, properties: { 'k"ey': 'v"al' } });
    const [value, props] = frame(out);
    assert.equal(value?.data.value, 'quote " and \u2028 and </script>');
    assert.equal(props?.data.properties['k"ey'], 'v"al');
  });
});

Deno.test("encodeFrame under a limit", async (t) => {
  const out = emptyOutgoing();
  out.destroys.push(9);
  out.updates[0].push({ varId: 2, json: `"${"a".repeat(100)}"` });
  out.updates[1].push({ varId: 3, json: "5" });
  out.errors.push({ code: "not-found", description: "Variable 8 does not exist", varId: 8 });
  await t.step("a frame within the limit is unchanged", () => {
    assert.equal(encodeFrame(out, 10_000), encodeFrame(out));
  });
  await t.step("updates past the limit are left out with one too-large error", () => {
    const messages = JSON.parse(encodeFrame(out, 120));
    assert.deepEqual(messages.map((m: { type: string }) => m.type), [
      "destroy",
      "update",
      "error",
      "error",
    ]);
    assert.equal(messages[1].data.varId, 3);
    assert.equal(messages[3].data.code, "too-large");
    assert.match(messages[3].data.description, /limit of 120 bytes; 1 updates were not sent/);
  });
});

Deno.test("merge", async (t) => {
  await t.step("concatenates destroys and errors", () => {
    const into = emptyOutgoing();
    into.destroys.push(1);
    into.errors.push({ code: "limit", description: "a" });
    const from = emptyOutgoing();
    from.destroys.push(2);
    from.errors.push({ code: "limit", description: "b" });
    merge(into, from);
    assert.deepEqual(into.destroys, [1, 2]);
    assert.deepEqual(into.errors.map((e) => e.description), ["a", "b"]);
  });
  await t.step("a later update of the same variable replaces the value and adds properties", () => {
    const into = emptyOutgoing();
    into.updates[1].push({ varId: 2, json: "1", properties: { a: "1", b: "1" } });
    const from = emptyOutgoing();
    from.updates[1].push({ varId: 2, json: "2", properties: { b: "2", c: "2" } });
    merge(into, from);
    assert.deepEqual(into.updates[1], [{
      varId: 2,
      json: "2",
      properties: { a: "1", b: "2", c: "2" },
    }]);
  });
  await t.step("a later update without a value keeps the earlier value", () => {
    const into = emptyOutgoing();
    into.updates[1].push({ varId: 2, json: "1" });
    const from = emptyOutgoing();
    from.updates[1].push({ varId: 2, properties: { x: "y" } });
    merge(into, from);
    assert.deepEqual(into.updates[1], [{ varId: 2, json: "1", properties: { x: "y" } }]);
  });
  await t.step("new variables keep their priority group", () => {
    const into = emptyOutgoing();
    const from = emptyOutgoing();
    from.updates[0].push({ varId: 2, json: "1" });
    from.updates[2].push({ varId: 3, json: "1" });
    merge(into, from);
    assert.deepEqual(into.updates.map((group) => group.map((u) => u.varId)), [[2], [], [3]]);
  });
  await t.step("merging copies updates instead of sharing them", () => {
    const into = emptyOutgoing();
    const from = emptyOutgoing();
    from.updates[1].push({ varId: 2, json: "1" });
    merge(into, from);
    const second = emptyOutgoing();
    second.updates[1].push({ varId: 2, json: "2" });
    merge(into, second);
    assert.equal(from.updates[1][0]?.json, "1");
  });
  await t.step("a destroy drops pending updates of that variable", () => {
    const into = emptyOutgoing();
    into.updates[0].push({ varId: 4, json: "1" });
    into.updates[1].push({ varId: 5, json: "1" });
    const from = emptyOutgoing();
    from.destroys.push(4);
    merge(into, from);
    assert.deepEqual(into.updates.map((group) => group.map((u) => u.varId)), [[], [5], []]);
    assert.deepEqual(into.destroys, [4]);
  });
  await t.step("viewdefs are merged, later ones winning", () => {
    const into = emptyOutgoing();
    into.viewdefs = { "A.DEFAULT": "old", "B.DEFAULT": "b" };
    const from = emptyOutgoing();
    from.viewdefs = { "A.DEFAULT": "new" };
    merge(into, from);
    assert.deepEqual(into.viewdefs, { "A.DEFAULT": "new", "B.DEFAULT": "b" });
  });
  await t.step("merging an empty batch changes nothing", () => {
    const into = sample();
    const before = encodeFrame(into);
    merge(into, emptyOutgoing());
    assert.equal(encodeFrame(into), before);
  });
});

Deno.test("errorFrame is a frame of one error", () => {
  assert.deepEqual(JSON.parse(errorFrame({ code: "limit", description: "Too many" })), [
    { type: "error", data: { code: "limit", description: "Too many" } },
  ]);
});
