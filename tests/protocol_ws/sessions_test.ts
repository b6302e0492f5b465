/**
 * Sessions and connections over real sockets (SPEC 3): isolation, reconnect within the timeout,
 * takeover of a session by a newer connection, and expiry.
 */
import assert from "node:assert/strict";
import { create, update, watch } from "../support/ws_client.ts";
import { objId, onlyError, onlyUpdate, valueOf, waitFor, withHarness } from "./helpers.ts";

const SITE = "protocol_site";

Deno.test("sessions: isolation", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("two sessions run the same main.lua with separate state", async () => {
      const a = await h.open();
      const b = await h.open();
      assert.notEqual(a.client.sid, b.client.sid);
      for (const { client } of [a, b]) {
        await client.exchange([
          create(2, 1, { path: "clicks" }),
          create(3, 1, { path: "click()", access: "action" }),
          create(4, 1, { path: "name" }),
          create(5, 1, { path: "sessionId" }),
        ]);
      }
      assert.equal(valueOf(await a.client.exchange([update(3, null)]), 2), 1);
      assert.equal(valueOf(await a.client.exchange([update(3, null)]), 2), 2);
      await a.client.exchange([update(4, "Only in A")]);
      // B sees none of it.
      const seenByB = await b.client.exchange([watch(2), watch(4)]);
      assert.equal(valueOf(seenByB, 2), 0);
      assert.equal(valueOf(seenByB, 4), "Ada");
      assert.equal(valueOf(await b.client.exchange([update(3, null)]), 2), 1);
      // A's own state is untouched by B's click.
      assert.equal(valueOf(await a.client.exchange([watch(2)]), 2), 2);
    });

    await t.step("each session has its own vended id and its own variable ids", async () => {
      const a = await h.open();
      const b = await h.open();
      const idA = valueOf(await a.client.exchange([create(2, 1, { path: "sessionId" })]), 2);
      const idB = valueOf(await b.client.exchange([create(2, 1, { path: "sessionId" })]), 2);
      assert.equal(typeof idA, "string");
      assert.match(idA as string, /^\d+$/);
      assert.notEqual(idA, idB);
    });

    await t.step("an error in one session does not touch another", async () => {
      const a = await h.open();
      const b = await h.open();
      await b.client.exchange([create(2, 1, { path: "name" })]);
      await a.client.exchange([create(2, 1, { path: "boom()", access: "action" })]);
      onlyError(await a.client.exchange([update(2, null)]), "lua-error", 2);
      assert.equal(valueOf(await b.client.exchange([watch(2)]), 2), "Ada");
    });

    await t.step("the manager counts the sessions", () => {
      assert.equal(h.server.manager.sessionCount, h.clients.length);
      assert.equal(h.server.manager.connectionCount, h.clients.length);
    });
  });
});

Deno.test("sessions: reconnect and takeover", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("a reconnect within the timeout keeps the Lua state", async () => {
      const first = await h.open();
      await first.client.exchange([
        create(2, 1, { path: "clicks" }),
        create(3, 1, { path: "click()", access: "action" }),
        create(4, 1, { path: "name" }),
      ]);
      await first.client.exchange([update(3, null)]);
      await first.client.exchange([update(3, null)]);
      await first.client.exchange([update(4, "Kept")]);
      await first.client.close();
      await waitFor(() => h.server.manager.connectionCount === h.clients.length - 1);

      const again = await h.open(first.client.sid);
      assert.equal(again.appId, first.appId);
      // The viewdefs are sent again with the first answer to watch 1.
      const viewdefs = again.answer[0];
      assert.ok(viewdefs);
      assert.ok(JSON.parse(viewdefs.data.properties.viewdefs)["App.DEFAULT"]);
      // The frontend's old variables are gone: the ids are free again.
      onlyError(await again.client.exchange([watch(2)]), "not-found", 2);
      const state = await again.client.exchange([
        create(2, 1, { path: "clicks" }),
        create(4, 1, { path: "name" }),
      ]);
      assert.equal(valueOf(state, 2), 2);
      assert.equal(valueOf(state, 4), "Kept");
    });

    await t.step("viewdefs of other types are sent again after a reconnect", async () => {
      const first = await h.open();
      const made = await first.client.exchange([create(2, 1, { path: "shape" })]);
      assert.ok(made.some((m) => m.data.properties?.viewdefs?.includes("Shape.DEFAULT")));
      await first.client.close();
      const again = await h.open(first.client.sid);
      const remade = await again.client.exchange([create(2, 1, { path: "shape" })]);
      assert.ok(remade.some((m) => m.data.properties?.viewdefs?.includes("Shape.DEFAULT")));
      assert.equal(onlyUpdate(remade, 2).properties.type, "Shape");
    });

    await t.step("a second connection takes over; the first is closed with 4000", async () => {
      const first = await h.open();
      await first.client.exchange([
        create(2, 1, { path: "clicks" }),
        create(3, 1, { path: "click()", access: "action" }),
      ]);
      await first.client.exchange([update(3, null)]);

      const second = await h.connect(first.client.sid);
      // The takeover happens on the newcomer's first frame, which starts over with watch 1.
      const answered = second.exchange([watch(1)]);
      assert.equal(await first.client.closedPromise, 4000);
      assert.equal(first.client.closeCode, 4000);

      const answer = await answered;
      assert.equal(objId(valueOf(answer.slice(1), 1)), first.appId);
      assert.ok(JSON.parse(answer[0]?.data.properties.viewdefs)["App.DEFAULT"]);
      const state = await second.exchange([
        create(2, 1, { path: "clicks" }),
        create(3, 1, { path: "click()", access: "action" }),
      ]);
      assert.equal(valueOf(state, 2), 1);
      assert.equal(valueOf(await second.exchange([update(3, null)]), 2), 2);
      assert.equal(h.server.manager.session(first.client.sid) !== undefined, true);
    });

    await t.step("the taken-over socket gets nothing more", async () => {
      const first = await h.open();
      const second = await h.connect(first.client.sid);
      const answered = second.exchange([watch(1)]);
      await first.client.closedPromise;
      const frames = first.client.frames.length;
      await answered;
      await second.exchange([watch(1)]);
      assert.equal(first.client.frames.length, frames);
    });
  });
});

Deno.test("sessions: expiry", async (t) => {
  await withHarness(SITE, { sessionTimeoutMs: 50 }, async (h) => {
    await t.step("after the session timeout a reconnect starts over", async () => {
      const first = await h.open();
      await first.client.exchange([
        create(2, 1, { path: "clicks" }),
        create(3, 1, { path: "click()", access: "action" }),
      ]);
      await first.client.exchange([update(3, null)]);
      const sid = first.client.sid;
      await first.client.close();
      await waitFor(
        () => h.server.manager.session(sid) === undefined,
        5000,
        "the session to expire",
      );

      const again = await h.open(sid);
      const state = await again.client.exchange([create(2, 1, { path: "clicks" })]);
      assert.equal(valueOf(state, 2), 0);
    });

    await t.step("a connected session does not expire", async () => {
      const live = await h.open();
      const other = await h.open();
      await other.client.close();
      await waitFor(() => h.server.manager.session(other.client.sid) === undefined);
      assert.ok(h.server.manager.session(live.client.sid));
      assert.equal(valueOf(await live.client.exchange([create(2, 1, { path: "name" })]), 2), "Ada");
    });
  });
});
