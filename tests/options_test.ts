/**
 * Tests for src/options.ts: options merged over defaults.
 */
import assert from "node:assert/strict";
import { mergeOptions } from "../src/options.ts";

Deno.test("mergeOptions", async (t) => {
  await t.step("given options win", () => {
    assert.deepEqual(mergeOptions({ a: 1, b: 2 }, { b: 3 }), { a: 1, b: 3 });
  });
  await t.step("an undefined option keeps its default", () => {
    assert.deepEqual(mergeOptions({ a: 1, b: 2 }, { a: undefined }), { a: 1, b: 2 });
  });
  await t.step("null and zero are values", () => {
    assert.deepEqual(
      mergeOptions<{ a: number | null; b: number }>({ a: 1, b: 2 }, { a: null, b: 0 }),
      {
        a: null,
        b: 0,
      },
    );
  });
  await t.step("the defaults are not changed", () => {
    const defaults = { a: 1 };
    mergeOptions(defaults, { a: 2 });
    assert.deepEqual(defaults, { a: 1 });
  });
});
