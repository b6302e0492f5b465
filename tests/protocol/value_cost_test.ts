import assert from "node:assert/strict";
import {
  clientValueBytes,
  NODE_BYTES,
  propertyBytes,
  STRING_BYTES,
  TABLE_BYTES,
} from "../../src/protocol/value_cost.ts";

Deno.test("clientValueBytes", async (t) => {
  await t.step("counts scalars, strings, arrays and objects", () => {
    assert.equal(clientValueBytes(0), NODE_BYTES);
    assert.equal(clientValueBytes(null), NODE_BYTES);
    assert.equal(clientValueBytes("abc"), NODE_BYTES + STRING_BYTES + 3);
    assert.equal(clientValueBytes([0, 0]), 3 * NODE_BYTES + TABLE_BYTES);
    assert.equal(
      clientValueBytes({ k: true }),
      2 * NODE_BYTES + TABLE_BYTES + STRING_BYTES + 1,
    );
  });
  await t.step("walks deep values without recursion", () => {
    let value: unknown = 0;
    for (let i = 0; i < 100_000; i++) value = [value];
    assert.equal(clientValueBytes(value), 100_000 * (NODE_BYTES + TABLE_BYTES) + NODE_BYTES);
  });
  await t.step("stops soon after passing stopAbove", () => {
    const huge = new Array(1_000_000).fill(0);
    const counted = clientValueBytes(huge, 10_000);
    assert.ok(counted > 10_000 && counted < 10_000 + 2 * NODE_BYTES, String(counted));
  });
  await t.step("refuses a long array from its length, without walking it", () => {
    const huge = new Array(5_000_000).fill(0);
    const started = performance.now();
    for (let i = 0; i < 100; i++) assert.equal(clientValueBytes(huge, 1_000_000), 1_000_001);
    assert.ok(performance.now() - started < 50, `took ${performance.now() - started} ms`);
  });
  await t.step("stops inside a wide object", () => {
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    const counted = clientValueBytes(wide, 10_000);
    assert.ok(counted > 10_000 && counted < 10_000 + 2 * NODE_BYTES + 10, String(counted));
  });
});

Deno.test("propertyBytes counts names and values", () => {
  assert.equal(propertyBytes({}), 0);
  assert.equal(propertyBytes({ path: "name", a: "" }), 2 * NODE_BYTES + 4 + 4 + 1);
});
