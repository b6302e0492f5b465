/**
 * Tests for src/failure.ts: the one failure type and its thrown form.
 */
import assert from "node:assert/strict";
import { FailureError, newFailure, onVariable } from "../src/failure.ts";

Deno.test("FailureError and newFailure", async (t) => {
  await t.step("the failure carries code, description and varId", () => {
    const error = new FailureError("not-found", "Variable 7 does not exist", 7);
    assert.ok(error instanceof Error);
    assert.equal(error.message, "Variable 7 does not exist");
    assert.deepEqual(error.failure, {
      varId: 7,
      code: "not-found",
      description: "Variable 7 does not exist",
    });
  });
  await t.step("without a variable there is no varId key", () => {
    const data = new FailureError("limit", "Too many").failure;
    assert.deepEqual(data, { code: "limit", description: "Too many" });
    assert.ok(!("varId" in data));
    assert.ok(!("varId" in newFailure("bad-message", "x")));
  });
  await t.step("varId 0 is kept", () => {
    assert.deepEqual(newFailure("bad-access", "x", 0), {
      varId: 0,
      code: "bad-access",
      description: "x",
    });
  });
});

Deno.test("onVariable and unwrap", async (t) => {
  await t.step("onVariable moves a failure to another variable", () => {
    assert.deepEqual(onVariable(newFailure("path-failure", "Nil", 3), 9), {
      varId: 9,
      code: "path-failure",
      description: "Nil",
    });
  });
  await t.step("unwrap returns a value and throws a failure", () => {
    assert.equal(FailureError.unwrap({ ok: true, value: 5 }), 5);
    assert.throws(
      () => FailureError.unwrap({ ok: false, failure: newFailure("lua-error", "boom") }, 4),
      (error: unknown) => error instanceof FailureError && error.failure.varId === 4,
    );
  });
});
