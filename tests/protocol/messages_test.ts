/**
 * Tests for src/protocol/messages.ts: parsing and validating client frames (SPEC 4 and 12).
 */
import assert from "node:assert/strict";
import { type Failure, FailureError } from "../../src/failure.ts";
import { parseFrame, parseMessage } from "../../src/protocol/messages.ts";

const LIMITS = { maxFrameBytes: 1024, maxMessagesPerFrame: 5 };

function rejects(text: string, code: string, limits = LIMITS): FailureError {
  let caught: unknown;
  try {
    parseFrame(text, limits);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof FailureError, `expected a FailureError for ${text.slice(0, 60)}`);
  assert.equal(caught.code, code);
  return caught;
}

function refused(message: unknown): Failure {
  try {
    parseMessage(message);
  } catch (error) {
    assert.ok(error instanceof FailureError);
    return error.failure;
  }
  assert.fail(`expected ${JSON.stringify(message)} to be refused`);
}

const WATCH = { type: "watch", data: { varId: 1 } };

Deno.test("parseFrame shapes", async (t) => {
  await t.step("a batch object with userEvent", () => {
    const frame = parseFrame(JSON.stringify({ userEvent: true, messages: [WATCH] }), LIMITS);
    assert.equal(frame.userEvent, true);
    assert.deepEqual(frame.items, [WATCH]);
  });
  await t.step("userEvent must be exactly true", () => {
    for (const userEvent of [false, "true", 1, null]) {
      const frame = parseFrame(JSON.stringify({ userEvent, messages: [] }), LIMITS);
      assert.equal(frame.userEvent, false);
    }
    assert.equal(parseFrame(JSON.stringify({ messages: [] }), LIMITS).userEvent, false);
  });
  await t.step("a bare message", () => {
    const frame = parseFrame(JSON.stringify(WATCH), LIMITS);
    assert.equal(frame.userEvent, false);
    assert.deepEqual(frame.items, [WATCH]);
  });
  await t.step("a bare array of messages", () => {
    const frame = parseFrame(
      JSON.stringify([WATCH, { type: "unwatch", data: { varId: 1 } }]),
      LIMITS,
    );
    assert.equal(frame.userEvent, false);
    assert.equal(frame.items.length, 2);
  });
  await t.step("an empty batch", () => {
    assert.deepEqual(parseFrame("[]", LIMITS), { userEvent: false, items: [] });
  });
  await t.step("not JSON is bad-message", () => {
    rejects("{not json", "bad-message");
    rejects("", "bad-message");
  });
  await t.step("JSON that is not an object or array is bad-message", () => {
    rejects("42", "bad-message");
    rejects('"text"', "bad-message");
    rejects("null", "bad-message");
  });
  await t.step("messages that is not an array is bad-message", () => {
    rejects(JSON.stringify({ messages: {} }), "bad-message");
  });
  await t.step("too many messages is limit", () => {
    rejects(JSON.stringify(Array(6).fill(WATCH)), "limit");
    assert.equal(parseFrame(JSON.stringify(Array(5).fill(WATCH)), LIMITS).items.length, 5);
  });
  await t.step("a frame over the byte limit is too-large, before parsing", () => {
    rejects(JSON.stringify({ messages: [], pad: "x".repeat(1100) }), "too-large");
    rejects("x".repeat(1025), "too-large");
  });
  await t.step("the byte limit counts UTF-8 bytes, not characters", () => {
    const text = JSON.stringify({ messages: [], pad: "é".repeat(600) });
    assert.ok(text.length < 1024);
    rejects(text, "too-large");
    parseFrame(JSON.stringify({ messages: [], pad: "é".repeat(400) }), LIMITS);
  });
  await t.step("invalid messages become errors in place; valid ones are kept", () => {
    const frame = parseFrame(
      JSON.stringify([WATCH, { type: "bogus", data: {} }, { type: "destroy", data: { varId: 4 } }]),
      LIMITS,
    );
    assert.equal(frame.items.length, 3);
    assert.deepEqual(frame.items[0], WATCH);
    const middle = frame.items[1];
    assert.ok(middle && "error" in middle);
    assert.equal(middle.error.code, "unknown-type");
    assert.deepEqual(frame.items[2], { type: "destroy", data: { varId: 4 } });
  });
});

Deno.test("parseMessage", async (t) => {
  await t.step("watch, unwatch and destroy need an integer varId", () => {
    for (const type of ["watch", "unwatch", "destroy"]) {
      assert.deepEqual(parseMessage({ type, data: { varId: -3 } }), { type, data: { varId: -3 } });
      assert.equal(refused({ type, data: {} }).code, "bad-message");
      assert.equal(refused({ type, data: { varId: "1" } }).code, "bad-message");
      assert.equal(refused({ type, data: { varId: 1.5 } }).code, "bad-message");
    }
  });
  await t.step("message shape errors", () => {
    assert.equal(refused(null).code, "bad-message");
    assert.equal(refused([WATCH]).code, "bad-message");
    assert.equal(refused("watch").code, "bad-message");
    assert.equal(refused({ data: { varId: 1 } }).code, "bad-message");
    assert.equal(refused({ type: 5, data: { varId: 1 } }).code, "bad-message");
    assert.equal(refused({ type: "watch" }).code, "bad-message");
    assert.equal(refused({ type: "watch", data: [1] }).code, "bad-message");
  });
  await t.step("an unknown type is unknown-type", () => {
    const error = refused({ type: "explode", data: {} });
    assert.equal(error.code, "unknown-type");
    assert.match(error.description, /explode/);
  });
  await t.step("unknown extra fields are ignored", () => {
    assert.deepEqual(
      parseMessage({ type: "watch", data: { varId: 1, extra: true }, widget: "x" }),
      WATCH,
    );
  });
});

Deno.test("parseMessage create", async (t) => {
  await t.step("a full create", () => {
    const message = parseMessage({
      type: "create",
      data: {
        id: 2,
        parentId: 1,
        properties: { path: "name", access: "r" },
        value: { a: 1 },
        nowatch: true,
        unbound: true,
        widget: "ignored",
      },
    });
    assert.deepEqual(message, {
      type: "create",
      data: {
        id: 2,
        parentId: 1,
        properties: { path: "name", access: "r" },
        value: { a: 1 },
        nowatch: true,
        unbound: true,
      },
    });
  });
  await t.step("defaults: no value, watched, bound, no properties", () => {
    const message = parseMessage({ type: "create", data: { id: 9, parentId: 0 } });
    assert.deepEqual(message, {
      type: "create",
      data: { id: 9, parentId: 0, properties: {}, nowatch: false, unbound: false },
    });
    assert.ok(!("value" in message.data));
  });
  await t.step("a null value is kept as a value", () => {
    const message = parseMessage({ type: "create", data: { id: 2, parentId: 0, value: null } });
    assert.ok(message.type === "create" && "value" in message.data);
  });
  await t.step("ids start at 2", () => {
    for (const id of [1, 0, -1]) {
      const error = refused({ type: "create", data: { id, parentId: 0 } });
      assert.equal(error.code, "bad-message");
    }
  });
  await t.step("id and parentId must be integers", () => {
    assert.equal(refused({ type: "create", data: { parentId: 0 } }).code, "bad-message");
    assert.equal(refused({ type: "create", data: { id: 2 } }).code, "bad-message");
    assert.equal(refused({ type: "create", data: { id: 2.5, parentId: 0 } }).code, "bad-message");
    assert.equal(
      refused({ type: "create", data: { id: 2 ** 60, parentId: 0 } }).code,
      "bad-message",
    );
  });
  await t.step("a child variable needs a path; a priority suffix on it counts", () => {
    const error = refused({ type: "create", data: { id: 3, parentId: 1, properties: {} } });
    assert.equal(error.code, "bad-message");
    assert.equal(error.varId, 3);
    const suffixed = parseMessage({
      type: "create",
      data: { id: 3, parentId: 1, properties: { "path:high": "x" } },
    });
    assert.equal(suffixed.type, "create");
  });
  await t.step("property values: strings, or scalars as text", () => {
    const message = parseMessage({
      type: "create",
      data: { id: 2, parentId: 0, properties: { a: "x", n: 5, b: false } },
    });
    assert.ok(message.type === "create");
    assert.deepEqual(message.data.properties, { a: "x", n: "5", b: "false" });
  });
  await t.step("property values that are objects, arrays or null are refused", () => {
    for (const bad of [{}, [], null]) {
      const error = refused({
        type: "create",
        data: { id: 2, parentId: 0, properties: { a: bad } },
      });
      assert.equal(error.code, "bad-message");
      assert.equal(error.varId, 2);
    }
    assert.equal(
      refused({ type: "create", data: { id: 2, parentId: 0, properties: "path=x" } }).code,
      "bad-message",
    );
  });
});

Deno.test("parseMessage update", async (t) => {
  await t.step("a value, including null, is marked present", () => {
    assert.deepEqual(parseMessage({ type: "update", data: { varId: 2, value: "x" } }), {
      type: "update",
      data: { varId: 2, hasValue: true, value: "x" },
    });
    const cleared = parseMessage({ type: "update", data: { varId: 2, value: null } });
    assert.ok(cleared.type === "update");
    assert.equal(cleared.data.hasValue, true);
    assert.equal(cleared.data.value, null);
  });
  await t.step("properties only", () => {
    const message = parseMessage({
      type: "update",
      data: { varId: 2, properties: { "inactive:low": "true" } },
    });
    assert.deepEqual(message, {
      type: "update",
      data: { varId: 2, hasValue: false, properties: { "inactive:low": "true" } },
    });
  });
  await t.step("bad properties are refused with the variable's id", () => {
    const error = refused({ type: "update", data: { varId: 7, properties: { a: { b: 1 } } } });
    assert.equal(error.code, "bad-message");
    assert.equal(error.varId, 7);
  });
});
