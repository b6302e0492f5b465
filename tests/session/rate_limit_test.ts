/**
 * Tests for src/session/rate_limit.ts.
 */
import assert from "node:assert/strict";
import { createAddressRateLimit, createRateLimit } from "../../src/session/rate_limit.ts";

Deno.test("createRateLimit allows perSecond calls in a second", () => {
  const allow = createRateLimit(3);
  assert.deepEqual([allow(), allow(), allow(), allow()], [true, true, true, false]);
});

Deno.test("createAddressRateLimit", async (t) => {
  await t.step("a burst of perMinute, then one per 60 / perMinute seconds", () => {
    const allow = createAddressRateLimit(6);
    const burst = Array.from({ length: 7 }, () => allow("a", 0));
    assert.deepEqual(burst, [true, true, true, true, true, true, false]);
    assert.equal(allow("a", 9_000), false, "less than 10 s later");
    assert.equal(allow("a", 10_000), true, "10 s later, one more");
    assert.equal(allow("a", 10_001), false);
  });
  await t.step("addresses are counted apart", () => {
    const allow = createAddressRateLimit(1);
    assert.equal(allow("a", 0), true);
    assert.equal(allow("a", 0), false);
    assert.equal(allow("b", 0), true);
  });
  await t.step("a flood of addresses keeps working and forgets full buckets", () => {
    const allow = createAddressRateLimit(1);
    for (let i = 0; i < 20_000; i++) assert.equal(allow(`10.0.${i >> 8}.${i & 255}`, 0), true);
    assert.equal(allow("10.0.0.0", 0), false, "a spent bucket is kept");
    assert.equal(allow("10.0.0.0", 60_000), true);
  });
});
