/**
 * Variables over the wire (SPEC 4-8, 11): watch 1, create, getters, actions, writes, fan-out,
 * arrays, indexes, object identity, `type`, priorities, destroy and `..` paths, against a real
 * server and a real fengari VM (tests/fixtures/protocol_site).
 */
import assert from "node:assert/strict";
import {
  create,
  destroy,
  unwatch,
  update,
  updateProperties,
  updatesFor,
  watch,
} from "../support/ws_client.ts";
import { assertNothing, objId, onlyError, onlyUpdate, valueOf, withHarness } from "./helpers.ts";

const SITE = "protocol_site";

Deno.test("variables: watch 1 and the app variable", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("watch 1 answers viewdefs first, then the value with its type", async () => {
      const { answer, appId } = await h.open();
      const first = answer[0];
      assert.ok(first);
      assert.equal(first.type, "update");
      assert.equal(first.data.varId, 1);
      assert.equal("value" in first.data, false);
      assert.deepEqual(Object.keys(first.data.properties), ["viewdefs"]);
      const viewdefs = first.data.properties.viewdefs;
      assert.equal(typeof viewdefs, "string");
      const parsed = JSON.parse(viewdefs);
      assert.deepEqual(Object.keys(parsed).sort(), ["App.DEFAULT", "App.compact"]);
      for (const template of Object.values(parsed)) {
        assert.match(template as string, /^<template>.*<\/template>\s*$/s);
      }
      const app = onlyUpdate(answer.slice(1), 1);
      assert.deepEqual(app.value, { obj: appId });
      assert.equal(app.properties.type, "App");
      assert.ok(appId > 0);
    });

    await t.step("a second watch of 1 resends value and type but not the viewdefs", async () => {
      const { client, appId } = await h.open();
      const again = await client.exchange([watch(1)]);
      const data = onlyUpdate(again, 1);
      assert.deepEqual(data.value, { obj: appId });
      assert.equal(data.properties.type, "App");
      assert.equal("viewdefs" in data.properties, false);
    });

    await t.step("viewdefs of a type come with the first variable of that type", async () => {
      const { client } = await h.open();
      const answer = await client.exchange([
        create(2, 1, { path: "items" }),
        create(3, 2, { path: "0" }),
      ]);
      const first = answer[0];
      assert.ok(first);
      assert.equal(first.data.varId, 1);
      assert.deepEqual(Object.keys(JSON.parse(first.data.properties.viewdefs)), [
        "Item.list-item",
      ]);
      assert.equal(onlyUpdate(answer, 3).properties.type, "Item");
      // A second Item variable does not resend them.
      const more = await client.exchange([create(4, 2, { path: "1" })]);
      assert.equal(more.some((m) => m.data.properties?.viewdefs !== undefined), false);
      assert.equal(onlyUpdate(more, 4).properties.type, "Item");
    });
  });
});

Deno.test("variables: create", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const { client } = await h.open();

    await t.step("a string field", async () => {
      const answer = await client.exchange([create(2, 1, { path: "name" })]);
      assert.deepEqual(onlyUpdate(answer, 2), { varId: 2, value: "Ada" });
    });

    await t.step("numbers and booleans", async () => {
      const answer = await client.exchange([
        create(3, 1, { path: "count" }),
        create(4, 1, { path: "ratio" }),
        create(5, 1, { path: "flag" }),
      ]);
      assert.equal(valueOf(answer, 3), 3);
      assert.equal(valueOf(answer, 4), 2.5);
      assert.equal(valueOf(answer, 5), true);
    });

    await t.step("a getter m()", async () => {
      const answer = await client.exchange([create(6, 1, { path: "greeting()" })]);
      assert.equal(valueOf(answer, 6), "Hello, Ada");
    });

    await t.step("a nil field is sent as null", async () => {
      const answer = await client.exchange([create(7, 1, { path: "nothing" })]);
      assert.deepEqual(onlyUpdate(answer, 7), { varId: 7, value: null });
    });

    await t.step("nil in the middle of a read path gives null, not an error", async () => {
      const answer = await client.exchange([
        create(8, 1, { path: "nested.missing.value" }),
        create(9, 1, { path: "nested.inner.value" }),
      ]);
      assert.equal(valueOf(answer, 8), null);
      assert.equal(valueOf(answer, 9), "deep");
      assert.equal(answer.some((m) => m.type === "error"), false);
    });

    await t.step("nowatch: created but nothing sent until watched", async () => {
      const created = await client.exchange([{
        type: "create",
        data: { id: 10, parentId: 1, properties: { path: "title" }, nowatch: true },
      }]);
      assertNothing(created);
      assert.equal(valueOf(await client.exchange([watch(10)]), 10), "Title");
    });

    await t.step("query properties on the path are stored on the variable", async () => {
      await client.exchange([create(11, 1, { path: "name?keypress&label=Your%20name" })]);
      const resent = onlyUpdate(await client.exchange([watch(11)]), 11);
      assert.equal(resent.value, "Ada");
      assert.equal(resent.properties.keypress, "true");
      assert.equal(resent.properties.label, "Your name");
    });

    await t.step("a root variable (parent 0) keeps the value the client gave", async () => {
      const answer = await client.exchange([{
        type: "create",
        data: { id: 12, parentId: 0, properties: {}, value: [1, "two", true] },
      }]);
      assert.deepEqual(valueOf(answer, 12), [1, "two", true]);
    });
  });
});

Deno.test("variables: writes, actions and fan-out", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("an action m() runs the method", async () => {
      const { client } = await h.open();
      await client.exchange([create(2, 1, { path: "clicks" })]);
      const made = await client.exchange([create(3, 1, { path: "click()", access: "action" })]);
      assertNothing(made);
      const answer = await client.exchange([update(3, null)]);
      assert.deepEqual(answer, [{ type: "update", data: { varId: 2, value: 1 } }]);
      const twice = await client.exchange([update(3, null), update(3, null)]);
      assert.equal(valueOf(twice, 2), 3);
    });

    await t.step("m(_) receives the written value", async () => {
      const { client } = await h.open();
      await client.exchange([create(2, 1, { path: "received" })]);
      await client.exchange([create(3, 1, { path: "receive(_)" })]);
      const answer = await client.exchange([update(3, "hello")]);
      assert.equal(valueOf(answer, 2), "hello");
      const table = await client.exchange([update(3, { a: 1 })]);
      objId(valueOf(table, 2));
    });

    await t.step("a written value is not echoed to the writer; others are told", async () => {
      const { client } = await h.open();
      await client.exchange([
        create(2, 1, { path: "name" }),
        create(3, 1, { path: "name" }),
        create(4, 1, { path: "greeting()" }),
      ]);
      const answer = await client.exchange([update(2, "Bob")]);
      assert.deepEqual(updatesFor(answer, 2), []);
      assert.equal(valueOf(answer, 3), "Bob");
      assert.equal(valueOf(answer, 4), "Hello, Bob");
      assert.equal(answer.length, 2);
      // Writing the same value again changes nothing anywhere.
      assertNothing(await client.exchange([update(2, "Bob")]));
    });

    await t.step("a write that Lua changes on the way is sent back", async () => {
      const { client } = await h.open();
      const made = await client.exchange([create(2, 1, { path: "upper()" })]);
      assert.equal(valueOf(made, 2), "TITLE");
      const answer = await client.exchange([update(2, "new title")]);
      assert.equal(valueOf(answer, 2), "NEW TITLE");
    });

    await t.step("a write to an r variable is refused with bad-access", async () => {
      const { client } = await h.open();
      await client.exchange([create(2, 1, { path: "name", access: "r" })]);
      await client.exchange([create(3, 1, { path: "name" })]);
      const answer = await client.exchange([update(2, "Mallory")]);
      onlyError(answer, "bad-access", 2);
      assert.equal(answer.length, 1);
      // The value did not change.
      assert.equal(valueOf(await client.exchange([watch(3)]), 3), "Ada");
    });

    await t.step("a getter m() with access r cannot be written", async () => {
      const { client } = await h.open();
      await client.exchange([create(2, 1, { path: "greeting()", access: "r" })]);
      onlyError(await client.exchange([update(2, "x")]), "bad-access", 2);
    });

    await t.step("properties-only updates are stored and not echoed", async () => {
      const { client } = await h.open();
      await client.exchange([create(2, 1, { path: "name" })]);
      assertNothing(await client.exchange([updateProperties(2, { hint: "first name" })]));
      const resent = onlyUpdate(await client.exchange([watch(2)]), 2);
      assert.equal(resent.properties.hint, "first name");
    });
  });
});

Deno.test("variables: arrays, indexes and object identity", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("an array of objects travels as distinct object refs", async () => {
      const { client, appId } = await h.open();
      const answer = await client.exchange([create(2, 1, { path: "items" })]);
      const items = valueOf(answer, 2) as unknown[];
      assert.ok(Array.isArray(items));
      assert.equal(items.length, 3);
      const ids = items.map(objId);
      assert.equal(new Set(ids).size, 3);
      assert.equal(ids.includes(appId), false);
      assert.equal("properties" in onlyUpdate(answer, 2), false); // an array has no type
    });

    await t.step("a sequence of numbers travels as a plain array", async () => {
      const { client } = await h.open();
      const answer = await client.exchange([create(2, 1, { path: "numbers" })]);
      assert.deepEqual(valueOf(answer, 2), [10, 20, 30]);
    });

    await t.step(
      "index 0 under an array variable is the first element, with its type",
      async () => {
        const { client } = await h.open();
        const list = await client.exchange([create(2, 1, { path: "items" })]);
        const ids = (valueOf(list, 2) as unknown[]).map(objId);
        const answer = await client.exchange([
          create(3, 2, { path: "0" }),
          create(4, 2, { path: "2" }),
          create(5, 2, { path: "3" }),
          create(6, 3, { path: "name" }),
          create(7, 1, { path: "numbers.1" }),
        ]);
        const first = onlyUpdate(answer, 3);
        assert.deepEqual(first.value, { obj: ids[0] });
        assert.equal(first.properties.type, "Item");
        assert.deepEqual(valueOf(answer, 4), { obj: ids[2] });
        assert.equal(valueOf(answer, 5), null); // past the end
        assert.equal(valueOf(answer, 6), "a");
        assert.equal(valueOf(answer, 7), 20);
      },
    );

    await t.step("the same table reached by two paths has the same obj id", async () => {
      const { client } = await h.open();
      const answer = await client.exchange([
        create(2, 1, { path: "items.0" }),
        create(3, 1, { path: "favourite" }),
        create(4, 1, { path: "items.1" }),
      ]);
      const viaList = objId(valueOf(answer, 2));
      assert.equal(objId(valueOf(answer, 3)), viaList);
      assert.notEqual(objId(valueOf(answer, 4)), viaList);
    });

    await t.step("obj ids are stable across frames", async () => {
      const { client, appId } = await h.open();
      const before = objId(valueOf(await client.exchange([create(2, 1, { path: "shape" })]), 2));
      const again = await client.exchange([create(3, 1, { path: "shape" }), watch(1)]);
      assert.equal(objId(valueOf(again, 3)), before);
      assert.equal(objId(valueOf(again, 1)), appId);
    });

    await t.step("a growing array is sent again with the new element", async () => {
      const { client } = await h.open();
      const list = await client.exchange([create(2, 1, { path: "items" })]);
      const before = (valueOf(list, 2) as unknown[]).map(objId);
      await client.exchange([create(3, 1, { path: "addItem(_)" })]);
      const answer = await client.exchange([update(3, "d")]);
      const after = (valueOf(answer, 2) as unknown[]).map(objId);
      assert.equal(after.length, 4);
      assert.deepEqual(after.slice(0, 3), before);
      assert.equal(new Set(after).size, 4);
    });
  });
});

Deno.test("variables: ids beyond 32 bits", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("large ids work for plain and wrapped variables", async () => {
      const { client } = await h.open();
      const big = 2 ** 32 + 7;
      const bigger = Number.MAX_SAFE_INTEGER - 1;
      const answer = await client.exchange([
        create(big, 1, { path: "items", wrapper: "lua.ViewList" }),
        create(bigger, 1, { path: "name" }),
        create(2 ** 31, bigger, { path: "../title" }),
      ]);
      assert.equal(answer.some((m) => m.type === "error"), false, JSON.stringify(answer));
      const list = onlyUpdate(answer, big);
      assert.equal((list.value as unknown[]).map(objId).length, 3); // one ViewListItem each
      assert.equal(list.properties.type, "lua.ViewList");
      assert.equal(valueOf(answer, bigger), "Ada");
      assert.equal(valueOf(answer, 2 ** 31), "Title");
      const items = await client.exchange([create(3, big, { path: "items" })]);
      assert.equal((valueOf(items, 3) as unknown[]).length, 3);
      const order = await client.exchange([destroy(big)]);
      assert.deepEqual(order.map((m) => m.data.varId), [3, big]);
    });
  });
});

Deno.test("variables: type changes", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("type is cleared to '' when the value stops being an object", async () => {
      const { client } = await h.open();
      const made = await client.exchange([
        create(2, 1, { path: "shape" }),
        create(3, 2, { path: "sides" }),
        create(4, 1, { path: "dropShape()", access: "action" }),
        create(5, 1, { path: "restoreShape()", access: "action" }),
      ]);
      assert.equal(onlyUpdate(made, 2).properties.type, "Shape");
      assert.ok(JSON.parse(made[0]?.data.properties.viewdefs)["Shape.DEFAULT"]);
      assert.equal(valueOf(made, 3), 3);

      const dropped = await client.exchange([update(4, null)]);
      const shape = onlyUpdate(dropped, 2);
      assert.equal(shape.value, "no longer a table");
      assert.equal(shape.properties.type, "");
      assert.equal(valueOf(dropped, 3), null);

      const restored = await client.exchange([update(5, null)]);
      const back = onlyUpdate(restored, 2);
      objId(back.value);
      assert.equal(back.properties.type, "Shape");
      assert.equal(valueOf(restored, 3), 4);
      // The viewdefs were sent already on this connection.
      assert.equal(restored.some((m) => m.data.properties?.viewdefs !== undefined), false);
    });
  });
});

Deno.test("variables: priorities and watch", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("a priority suffix is stripped: path:high is the path", async () => {
      const { client } = await h.open();
      const answer = await client.exchange([
        create(2, 1, { "path:high": "name", "hint:low": "x", "label:medium": "y" }),
      ]);
      assert.equal(answer.some((m) => m.type === "error"), false, JSON.stringify(answer));
      assert.equal(valueOf(answer, 2), "Ada");
      const resent = onlyUpdate(await client.exchange([watch(2)]), 2);
      assert.equal(resent.value, "Ada");
      assert.deepEqual(
        Object.keys(resent.properties).sort(),
        ["hint", "label"],
      );
      assert.equal(resent.properties.hint, "x");
      assert.equal(resent.properties.label, "y");
    });

    await t.step("suffixes on updated properties are stripped too", async () => {
      const { client } = await h.open();
      await client.exchange([create(2, 1, { path: "name" })]);
      await client.exchange([updateProperties(2, { "hint:high": "z" })]);
      const resent = onlyUpdate(await client.exchange([watch(2)]), 2);
      assert.equal(resent.properties.hint, "z");
      assert.equal("hint:high" in resent.properties, false);
    });

    await t.step("watch resends the value and every property", async () => {
      const { client, appId } = await h.open();
      await client.exchange([create(2, 1, { path: "favourite", namespace: "compact", a: "1" })]);
      const resent = onlyUpdate(await client.exchange([watch(2)]), 2);
      objId(resent.value);
      assert.notEqual(objId(resent.value), appId);
      assert.equal(resent.properties.type, "Item");
      assert.equal(resent.properties.namespace, "compact");
      assert.equal(resent.properties.a, "1");
    });

    await t.step("updates go out high, then medium, then low", async () => {
      const { client } = await h.open();
      const answer = await client.exchange([
        create(2, 1, { path: "name", priority: "low" }),
        create(3, 1, { path: "count" }),
        create(4, 1, { path: "title", priority: "high" }),
      ]);
      assert.deepEqual(answer.map((m) => m.data.varId), [4, 3, 2]);
    });

    await t.step("unwatch stops the updates; watch brings them back", async () => {
      const { client } = await h.open();
      await client.exchange([
        create(2, 1, { path: "clicks" }),
        create(3, 1, { path: "click()", access: "action" }),
      ]);
      assertNothing(await client.exchange([unwatch(2)]));
      assertNothing(await client.exchange([update(3, null)]));
      assert.equal(valueOf(await client.exchange([watch(2)]), 2), 1);
      assert.equal(valueOf(await client.exchange([update(3, null)]), 2), 2);
    });

    await t.step("inactive silences a variable and its subtree until cleared", async () => {
      const { client } = await h.open();
      await client.exchange([
        create(2, 1, { path: "nested" }),
        create(3, 2, { path: "inner" }),
        create(4, 1, { path: "clicks" }),
        create(5, 1, { path: "click()", access: "action" }),
      ]);
      await client.exchange([updateProperties(1, { inactive: "true" })]);
      assertNothing(await client.exchange([update(5, null)]));
      await client.exchange([updateProperties(1, { inactive: "" })]);
      assert.equal(valueOf(await client.exchange([update(5, null)]), 4), 2);
    });
  });
});

Deno.test("variables: destroy and '..' paths", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("destroy of a subtree is answered children first", async () => {
      const { client } = await h.open();
      await client.exchange([
        create(2, 1, { path: "items" }),
        create(3, 2, { path: "0" }),
        create(4, 3, { path: "name" }),
        create(5, 2, { path: "1" }),
        create(6, 5, { path: "label()" }),
        create(7, 1, { path: "name" }),
      ]);
      const answer = await client.exchange([destroy(2)]);
      assert.ok(answer.every((m) => m.type === "destroy"), JSON.stringify(answer));
      const order = answer.map((m) => m.data.varId as number);
      assert.deepEqual([...order].sort(), [2, 3, 4, 5, 6]);
      const before = (child: number, parent: number) =>
        assert.ok(order.indexOf(child) < order.indexOf(parent), `${child} after ${parent}`);
      before(4, 3);
      before(6, 5);
      before(3, 2);
      before(5, 2);
      assert.equal(order.at(-1), 2);
      // Gone: each of them is now unknown; the sibling lives on.
      for (const id of order) onlyError(await client.exchange([watch(id)]), "not-found", id);
      assert.equal(valueOf(await client.exchange([watch(7)]), 7), "Ada");
    });

    await t.step("a destroyed id can be created again", async () => {
      const { client } = await h.open();
      await client.exchange([create(2, 1, { path: "name" })]);
      await client.exchange([destroy(2)]);
      assert.equal(valueOf(await client.exchange([create(2, 1, { path: "title" })]), 2), "Title");
    });

    await t.step("'..' starts from the parent's parent", async () => {
      const { client, appId } = await h.open();
      const list = await client.exchange([
        create(2, 1, { path: "items" }),
        create(3, 2, { path: "0" }),
      ]);
      const firstItem = objId(valueOf(list, 3));
      const answer = await client.exchange([
        create(4, 3, { path: "name" }), // from items.0
        create(5, 3, { path: "../.." }), // two variables up: the app
        create(6, 3, { path: "...name" }), // one up (the list) then name: nil
        create(7, 3, { path: "../../title" }),
        create(8, 4, { path: ".." }), // from name's parent's parent: items.0
      ]);
      assert.equal(answer.some((m) => m.type === "error"), false, JSON.stringify(answer));
      assert.equal(valueOf(answer, 4), "a");
      const app = onlyUpdate(answer, 5);
      assert.deepEqual(app.value, { obj: appId });
      assert.equal(app.properties.type, "App");
      assert.equal(valueOf(answer, 6), null);
      assert.equal(valueOf(answer, 7), "Title");
      const up = onlyUpdate(answer, 8);
      assert.equal(objId(up.value), firstItem);
      assert.equal(up.properties.type, "Item");
    });

    await t.step("a write through '..' reaches the ancestor's value", async () => {
      const { client } = await h.open();
      await client.exchange([
        create(2, 1, { path: "nested" }),
        create(3, 2, { path: "inner" }),
        create(4, 1, { path: "title" }),
      ]);
      await client.exchange([create(5, 3, { path: "../../title" })]);
      const answer = await client.exchange([update(5, "Up there")]);
      assert.equal(valueOf(answer, 4), "Up there");
      assert.deepEqual(updatesFor(answer, 5), []);
    });
  });
});
