/**
 * Tests for src/variables/variable.ts: priority suffixes, path and access validation, and the
 * state a variable owns (watches, properties, errors, property watchers).
 */
import assert from "node:assert/strict";
import { FailureError } from "../../src/failure.ts";
import { parsePath } from "../../src/variables/path.ts";
import {
  accessFor,
  parseVariablePath,
  PRIORITY_NAMES,
  splitPriority,
  Variable,
} from "../../src/variables/variable.ts";

Deno.test("splitPriority", async (t) => {
  await t.step("strips :high, :med, :medium and :low", () => {
    assert.deepEqual(splitPriority("value:high"), ["value", 0]);
    assert.deepEqual(splitPriority("value:med"), ["value", 1]);
    assert.deepEqual(splitPriority("value:medium"), ["value", 1]);
    assert.deepEqual(splitPriority("value:low"), ["value", 2]);
  });
  await t.step("a name without a suffix has no priority", () => {
    assert.deepEqual(splitPriority("path"), ["path", undefined]);
  });
  await t.step("an unknown suffix is part of the name", () => {
    assert.deepEqual(splitPriority("a:b"), ["a:b", undefined]);
    assert.deepEqual(splitPriority("a:HIGH"), ["a:HIGH", undefined]);
  });
  await t.step("only the last colon counts", () => {
    assert.deepEqual(splitPriority("ns:name:low"), ["ns:name", 2]);
  });
  await t.step("the priority names", () => {
    assert.deepEqual(PRIORITY_NAMES, { high: 0, med: 1, medium: 1, low: 2 });
  });
});

Deno.test("path and access validation", async (t) => {
  await t.step("a bad path is a path-failure on the variable", () => {
    assert.throws(
      () => parseVariablePath("a..b", 4),
      (error: unknown) =>
        error instanceof FailureError && error.code === "path-failure" && error.failure.varId === 4,
    );
  });
  await t.step("access defaults follow the path's last segment", () => {
    assert.equal(accessFor(undefined, parsePath("name")), "rw");
    assert.equal(accessFor(undefined, parsePath("save(_)")), "action");
    assert.throws(() => accessFor("w", parsePath("total()"), 2), FailureError);
    assert.throws(() => accessFor("r", parsePath("save(_)"), 2), FailureError);
    assert.throws(() => accessFor("rwx", undefined, 2), FailureError);
  });
  await t.step("a bad client path or access changes nothing", () => {
    const variable = new Variable({ id: 2, parent: undefined, origin: "frontend" });
    variable.setClientProperty("path", "name", undefined);
    assert.throws(() => variable.setClientProperty("path", "a..b", undefined), FailureError);
    assert.throws(() => variable.setClientProperty("access", "nope", 0), FailureError);
    assert.equal(variable.path?.text, "name");
    assert.equal(variable.access, "rw");
    assert.equal(variable.properties.get("path"), "name");
    assert.equal(variable.propertyPriority.size, 0);
  });
});

Deno.test("Variable state", async (t) => {
  const variable = new Variable<string>({ id: 3, parent: undefined, origin: "frontend" });
  await t.step("watch counts and asks for a resend once", () => {
    variable.watch();
    variable.watch();
    assert.equal(variable.watchCount, 2);
    assert.equal(variable.takeResend(), true);
    assert.equal(variable.takeResend(), false);
    variable.unwatch();
    variable.unwatch();
    variable.unwatch();
    assert.equal(variable.watched, false);
  });
  await t.step("server properties are sent once, and only when they change", () => {
    variable.setServerProperty("hint", "a");
    assert.deepEqual(variable.takeProperties(false, new Set()), { hint: "a" });
    assert.equal(variable.takeProperties(false, new Set()), undefined);
    variable.setServerProperty("hint", "a");
    assert.equal(variable.takeProperties(false, new Set()), undefined);
  });
  await t.step("a resend sends every property but the reserved ones", () => {
    variable.setClientProperty("path", "x", undefined);
    assert.deepEqual(variable.takeProperties(true, new Set(["path"])), { hint: "a" });
  });
  await t.step("an error is new once per message", () => {
    assert.equal(variable.noteError("boom"), true);
    assert.equal(variable.noteError("boom"), false);
    assert.equal(variable.noteError("other"), true);
    variable.clearError();
    assert.equal(variable.noteError("other"), true);
  });
  await t.step("property watchers belong to the variable", () => {
    variable.watchProperty("selected", "fn-a");
    variable.watchProperty("selected", "fn-b");
    assert.deepEqual(variable.propertyWatchers("selected"), ["fn-a", "fn-b"]);
    assert.deepEqual(variable.propertyWatchers("other"), []);
  });
  await t.step("a closed connection forgets what was sent and watched", () => {
    variable.watch();
    variable.markSentJson('"v"');
    variable.markSentType("T");
    variable.forgetConnection();
    assert.equal(variable.watched, false);
    assert.equal(variable.sentJson, undefined);
    assert.equal(variable.sentType, undefined);
    assert.equal(variable.lastError, undefined);
  });
});
