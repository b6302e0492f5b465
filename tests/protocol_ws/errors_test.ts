/**
 * Errors over the wire (SPEC 12 and 13): every failure the client can cause is answered with an
 * `error` message and the session goes on.
 */
import assert from "node:assert/strict";
import { create, destroy, SENTINEL_ID, unwatch, update, watch } from "../support/ws_client.ts";
import { assertNothing, onlyError, onlyUpdate, valueOf, withHarness } from "./helpers.ts";

const SITE = "protocol_site";

Deno.test("errors: unknown ids and duplicate ids", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const { client } = await h.open();
    await client.exchange([create(2, 1, { path: "name" }), create(3, 1, { path: "name" })]);

    await t.step("update, destroy, watch and unwatch of an unknown id: not-found", async () => {
      for (const message of [update(40, "x"), destroy(41), watch(42), unwatch(43)]) {
        const answer = await client.exchange([message]);
        onlyError(answer, "not-found", message.data.varId);
        assert.equal(answer.length, 1);
      }
      // Nothing else changed: 2 and 3 are still bound and watched.
      const answer = await client.exchange([update(2, "Eve")]);
      assert.equal(valueOf(answer, 3), "Eve");
    });

    await t.step("create under an unknown parent: not-found for the new id", async () => {
      const answer = await client.exchange([create(5, 99, { path: "name" })]);
      onlyError(answer, "not-found", 5);
      onlyError(await client.exchange([watch(5)]), "not-found", 5);
    });

    await t.step("create of an existing id: duplicate-id, the original stays", async () => {
      const answer = await client.exchange([create(2, 1, { path: "title" })]);
      onlyError(answer, "duplicate-id", 2);
      assert.equal(answer.length, 1);
      assert.equal(valueOf(await client.exchange([watch(2)]), 2), "Eve");
    });

    await t.step("the same id twice in one frame: the first wins", async () => {
      const answer = await client.exchange([
        create(6, 1, { path: "title" }),
        create(6, 1, { path: "count" }),
      ]);
      onlyError(answer, "duplicate-id", 6);
      assert.equal(valueOf(answer, 6), "Title");
    });

    await t.step("the valid messages of a frame still run around a failing one", async () => {
      const answer = await client.exchange([
        create(7, 1, { path: "title" }),
        update(77, 1),
        create(8, 1, { path: "count" }),
      ]);
      onlyError(answer, "not-found", 77);
      assert.equal(valueOf(answer, 7), "Title");
      assert.equal(valueOf(answer, 8), 3);
    });
  });
});

Deno.test("errors: malformed frames", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const { client } = await h.open();

    await t.step("text that is not JSON: bad-message", async () => {
      for (const text of ["{oops", "", "   ", "[1,", "undefined", "{'a':1}"]) {
        const answer = await client.exchangeRaw(text);
        const error = onlyError(answer, "bad-message");
        assert.equal("varId" in error, false);
      }
    });

    await t.step("JSON of the wrong shape: bad-message", async () => {
      const wrong = [
        "42",
        '"text"',
        "null",
        "true",
        '{"messages": 5}',
        '{"messages": {"type": "watch"}}',
        '{"type": 5, "data": {"varId": 1}}',
        '{"type": "update"}',
        '{"type": "update", "data": [1]}',
        '{"type": "update", "data": {"varId": "2"}}',
        '{"type": "update", "data": {"varId": 2.5}}',
        '{"type": "watch", "data": {}}',
        '{"type": "destroy", "data": {"varId": 1e300}}',
        '{"type": "create", "data": {"id": 1, "parentId": 0}}',
        '{"type": "create", "data": {"id": -4, "parentId": 0}}',
        '{"type": "create", "data": {"id": 9, "parentId": 1}}',
        '{"type": "create", "data": {"id": 9, "parentId": 1, "properties": {"path": {"a": 1}}}}',
        '{"type": "create", "data": {"id": 9, "parentId": 1, "properties": ["path"]}}',
        '{"type": "create", "data": {"parentId": 1, "properties": {"path": "name"}}}',
        '{"type": "update", "data": {"varId": 1, "properties": "inactive"}}',
        "[[]]",
        "[null]",
      ];
      for (const text of wrong) {
        const answer = await client.exchangeRaw(text);
        assert.equal(answer.length, 1, `${text} -> ${JSON.stringify(answer)}`);
        onlyError(answer, "bad-message");
      }
      // Nothing was created by any of them.
      onlyError(await client.exchange([watch(9)]), "not-found", 9);
    });

    await t.step("a bare array gets one error per bad message; good ones run", async () => {
      const answer = await client.exchangeRaw(
        JSON.stringify([1, create(10, 1, { path: "title" }), "x"]),
      );
      assert.equal(answer.filter((m) => m.type === "error").length, 2);
      assert.ok(
        answer.filter((m) => m.type === "error").every((m) => m.data.code === "bad-message"),
      );
      assert.equal(valueOf(answer, 10), "Title");
    });

    await t.step("a bare message object is accepted", async () => {
      const answer = await client.exchangeRaw(JSON.stringify(create(11, 1, { path: "count" })));
      assert.equal(valueOf(answer, 11), 3);
    });

    await t.step("an empty batch is answered with nothing", async () => {
      assertNothing(await client.exchange([]));
    });

    await t.step("an unknown message type: unknown-type", async () => {
      const answer = await client.exchange([{ type: "frobnicate", data: { varId: 1 } }]);
      onlyError(answer, "unknown-type");
      onlyError(await client.exchange([{ type: "", data: {} }]), "unknown-type");
    });

    await t.step("a binary frame: bad-message, and the session goes on", async () => {
      const start = client.frames.length;
      client.socket.send(new Uint8Array([1, 2, 3]));
      const answer = await client.exchange([watch(10)]);
      const binary = client.frames.slice(start).flat().filter((m) =>
        m.type === "error" && m.data.varId !== SENTINEL_ID
      );
      assert.equal(binary.length, 1, JSON.stringify(binary));
      assert.equal(binary[0]?.data.code, "bad-message");
      assert.equal(valueOf(answer.filter((m) => m.type !== "error"), 10), "Title");
    });

    await t.step("deeply nested values do not break the session", async () => {
      const deep = (depth: number) => "[".repeat(depth) + "1" + "]".repeat(depth);
      for (const depth of [30, 100, 5_000]) {
        const answer = await client.exchangeRaw(
          `{"type":"create","data":{"id":20,"parentId":0,"properties":{},"value":${deep(depth)}}}`,
        );
        assert.equal(answer.filter((m) => m.type === "error").length, 0, JSON.stringify(answer));
        assert.ok(Array.isArray(valueOf(answer, 20)));
        const written = await client.exchangeRaw(
          `{"type":"update","data":{"varId":20,"value":${deep(depth)}}}`,
        );
        assertNothing(written);
        await client.exchange([destroy(20)]);
      }
      assert.equal(onlyUpdate(await client.exchange([watch(1)]), 1).properties.type, "App");
    });

    await t.step("the socket is still open after all of that", async () => {
      assert.equal(client.socket.readyState, WebSocket.OPEN);
      assert.equal(valueOf(await client.exchange([create(12, 1, { path: "name" })]), 12), "Ada");
    });
  });
});

Deno.test("errors: paths and access", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const { client } = await h.open();

    await t.step("a write through a nil in the middle of the path: path-failure", async () => {
      await client.exchange([create(2, 1, { path: "nested.missing.value" })]);
      onlyError(await client.exchange([update(2, "x")]), "path-failure", 2);
    });

    await t.step("a path that does not parse: path-failure", async () => {
      for (const [id, path] of [[3, "a..b"], [4, "receive(_).x"], [5, "a.(b"], [6, "name."]]) {
        const answer = await client.exchange([create(id as number, 1, { path: path as string })]);
        onlyError(answer, "path-failure", id as number);
      }
    });

    await t.step("access that does not fit the path: bad-access", async () => {
      const cases: [number, string, string][] = [
        [7, "name", "sideways"],
        [8, "greeting()", "w"],
        [9, "receive(_)", "r"],
        [10, "receive(_)", "rw"],
      ];
      for (const [id, path, access] of cases) {
        const answer = await client.exchange([create(id, 1, { path, access })]);
        onlyError(answer, "bad-access", id);
      }
    });

    await t.step("calling a method that does not exist: an error, not a crash", async () => {
      await client.exchange([create(11, 1, { path: "nosuch()", access: "action" })]);
      const answer = await client.exchange([update(11, null)]);
      const error = onlyError(answer, "path-failure", 11);
      assert.match(error.description, /nosuch/);
    });
  });
});

Deno.test("errors: Lua failures", async (t) => {
  await withHarness(SITE, { instructionBudget: 200_000, dev: true }, async (h) => {
    await t.step("a getter that raises: lua-error with the Lua message, once", async () => {
      const { client } = await h.open();
      const start = client.frames.length;
      const answer = await client.exchange([create(2, 1, { path: "boom()" })]);
      const error = onlyError(answer, "lua-error", 2);
      assert.match(error.description, /boom/);
      assert.match(error.description, /main\.lua:\d+/);
      assert.equal(valueOf(answer, 2), null);
      // The error went out in the same flush as the update.
      const frame = client.frames.slice(start).find((f) => f.some((m) => m.type === "error"));
      assert.ok(frame?.some((m) => m.type === "update" && m.data.varId === 2));
      // Not repeated after every batch.
      assertNothing(
        await client.exchange([create(3, 1, { path: "nothing" })]).then((a) =>
          a.filter((m) => m.type === "error")
        ),
      );
    });

    await t.step("an action that raises: lua-error; the session goes on", async () => {
      const { client } = await h.open();
      await client.exchange([create(2, 1, { path: "boom()", access: "action" })]);
      const error = onlyError(await client.exchange([update(2, null)]), "lua-error", 2);
      assert.match(error.description, /boom/);
      await client.exchange([create(3, 1, { path: "clicks" })]);
      await client.exchange([create(4, 1, { path: "click()", access: "action" })]);
      assert.equal(valueOf(await client.exchange([update(4, null)]), 3), 1);
    });

    await t.step("a runaway loop: lua-timeout, and the session still answers", async () => {
      const { client } = await h.open();
      await client.exchange([
        create(2, 1, { path: "spin()", access: "action" }),
        create(3, 1, { path: "clicks" }),
        create(4, 1, { path: "click()", access: "action" }),
      ]);
      const answer = await client.exchange([update(2, null)], true, 30_000);
      onlyError(answer, "lua-timeout", 2);
      assert.equal(valueOf(await client.exchange([update(4, null)]), 3), 1);
      // Again: the budget is per entry, not spent for good.
      onlyError(await client.exchange([update(2, null)], true, 30_000), "lua-timeout", 2);
      assert.equal(valueOf(await client.exchange([update(4, null)]), 3), 2);
    });

    await t.step("pcall does not swallow the timeout", async () => {
      const { client } = await h.open();
      await client.exchange([
        create(2, 1, { path: "spinProtected()", access: "action" }),
        create(3, 1, { path: "clicks" }),
      ]);
      const answer = await client.exchange([update(2, null)], true, 30_000);
      onlyError(answer, "lua-timeout", 2);
      // The line after the pcall never ran.
      assert.deepEqual(answer.filter((m) => m.type === "update"), []);
      assert.equal(valueOf(await client.exchange([watch(3)]), 3), 0);
    });
  });
});

Deno.test("errors: limits", async (t) => {
  await withHarness(SITE, { maxFrameBytes: 4096, maxMessagesPerFrame: 5 }, async (h) => {
    const { client } = await h.open();

    await t.step("a frame over maxFrameBytes: too-large", async () => {
      const big = JSON.stringify({ messages: [update(1, "x".repeat(5000))] });
      onlyError(await client.exchangeRaw(big), "too-large");
    });

    await t.step("the size is counted in bytes, not characters", async () => {
      // 2000 characters of three UTF-8 bytes each: about 6 KB on the wire.
      const wide = JSON.stringify({ messages: [create(2, 0, { path: "€".repeat(2000) })] });
      assert.ok(wide.length < 4096);
      assert.ok(new TextEncoder().encode(wide).length > 4096);
      onlyError(await client.exchangeRaw(wide), "too-large");
      onlyError(await client.exchange([watch(2)]), "not-found", 2);
    });

    await t.step("a frame just under the limit is handled", async () => {
      const answer = await client.exchange([
        { type: "create", data: { id: 3, parentId: 0, properties: {}, value: "y".repeat(3000) } },
      ]);
      assert.equal(valueOf(answer, 3), "y".repeat(3000));
    });

    await t.step("more messages than maxMessagesPerFrame: limit, none applied", async () => {
      const six = [4, 5, 6, 7, 8, 9].map((id) => create(id, 1, { path: "name" }));
      const error = onlyError(await client.exchange(six), "limit");
      assert.match(error.description, /5/);
      onlyError(await client.exchange([watch(4)]), "not-found", 4);
      const five = await client.exchange(six.slice(0, 5));
      assert.equal(five.filter((m) => m.type === "update").length, 5);
    });

    await t.step("the connection survives the refusals", async () => {
      assert.equal(client.socket.readyState, WebSocket.OPEN);
      assert.equal(onlyUpdate(await client.exchange([watch(1)]), 1).properties.type, "App");
    });
  });

  await withHarness(SITE, { maxVariables: 4 }, async (h) => {
    await t.step("more variables than maxVariables: limit", async () => {
      const { client } = await h.open();
      const answer = await client.exchange([
        create(2, 1, { path: "name" }),
        create(3, 1, { path: "title" }),
        create(4, 1, { path: "count" }),
        create(5, 1, { path: "ratio" }),
      ]);
      onlyError(answer, "limit", 5);
      assert.equal(answer.filter((m) => m.type === "update").length, 3);
      await client.exchange([destroy(4)]);
      assert.equal(valueOf(await client.exchange([create(5, 1, { path: "ratio" })]), 5), 2.5);
    });
  });
});

Deno.test("errors: main.lua failures", async (t) => {
  await t.step("a runtime error: lua-error on the first flush, connection open", async () => {
    await withHarness("broken_site", {}, async (h) => {
      const client = await h.connect();
      const first = await client.exchange([watch(1)]);
      const error = onlyError(first, "lua-error");
      assert.match(error.description, /startup failed on purpose/);
      assert.equal("varId" in error, false);
      // What main.lua did before failing stands.
      const viewdefs = first.find((m) => m.data.properties?.viewdefs !== undefined);
      assert.ok(viewdefs);
      assert.ok(JSON.parse(viewdefs.data.properties.viewdefs)["Broken.DEFAULT"]);
      const app = first.filter((m) => m.type === "update" && "value" in m.data);
      assert.equal(app.length, 1);
      assert.equal(app[0]?.data.properties.type, "Broken");
      // Open and answering; the error is not sent twice.
      assert.equal(client.socket.readyState, WebSocket.OPEN);
      const next = await client.exchange([create(2, 1, { path: "status" })]);
      assert.deepEqual(next, [{ type: "update", data: { varId: 2, value: "half started" } }]);
    });
  });

  await t.step("a syntax error: lua-error, no app variable, connection open", async () => {
    await withHarness("syntax_site", { dev: true }, async (h) => {
      const client = await h.connect();
      const first = await client.exchange([watch(1)]);
      const errors = first.filter((m) => m.type === "error");
      assert.deepEqual(errors.map((m) => m.data.code).sort(), ["lua-error", "not-found"]);
      const lua = errors.find((m) => m.data.code === "lua-error");
      assert.match(lua?.data.description, /main\.lua/);
      assert.equal(client.socket.readyState, WebSocket.OPEN);
      onlyError(await client.exchange([watch(1)]), "not-found", 1);
    });
  });
});
