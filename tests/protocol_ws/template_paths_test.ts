/**
 * Template-only paths on the default app with the default flags: a client creates only what
 * the templates of the parent's type bind, and nothing else changes the app. Both clients'
 * forms keep working: the built-in client's (explicit access) and ui-engine's frontend's (no
 * access on views and lists, `?wrapper=` on list items, namespaces), and a reconnect's replay
 * of a whole page in one frame. Real server, real sockets.
 */
import assert from "node:assert/strict";
import type { RunningServer } from "../../src/server/start.ts";
import {
  create,
  type Received,
  startTestServer,
  TestClient,
  update,
  updateProperties,
  watch,
} from "../support/ws_client.ts";
import { onlyError, valueOf } from "./helpers.ts";

const SUMMARY = "8 contacts · 3 favourites";

/** The errors of an answer, as `code: description` lines (for failure messages). */
function errorsOf(messages: Received[]): string[] {
  return messages.filter((m) => m.type === "error").map((m) =>
    `${m.data.code}: ${m.data.description}`
  );
}

/** Creates a variable and returns the answer, asserting that it was refused with bad-access. */
async function refused(
  client: TestClient,
  id: number,
  parentId: number,
  properties: Record<string, string>,
): Promise<string> {
  const answer = await client.exchange([create(id, parentId, properties)]);
  const error = onlyError(answer, "bad-access", id);
  // Nothing was made: the id is free and the variable does not exist.
  onlyError(await client.exchange([watch(id)]), "not-found", id);
  return error.description;
}

Deno.test("template-only paths on the default app", async (t) => {
  const server: RunningServer = await startTestServer({ openPaths: false });
  const client = await TestClient.connect(server);
  try {
    const opened = await client.exchange([watch(1)]);
    assert.deepEqual(errorsOf(opened), []);

    await t.step("a path a template binds works, with the template's access", async () => {
      const answer = await client.exchange([
        create(2, 1, { path: "summary()", access: "r", elementId: "ui-1" }),
        create(3, 1, { path: "search", access: "rw", keypress: "true", elementId: "ui-2" }),
      ]);
      assert.deepEqual(errorsOf(answer), []);
      assert.equal(valueOf(answer, 2), SUMMARY);
      assert.equal(valueOf(answer, 3), "");
      const typed = await client.exchange([update(3, "ada")]);
      assert.deepEqual(errorsOf(typed), []);
      await client.exchange([create(4, 1, { path: "matchSummary()", access: "r" })]);
    });

    await t.step("contacts.0.email is refused", async () => {
      const why = await refused(client, 10, 1, { path: "contacts.0.email", access: "rw" });
      assert.match(why, /No template of type ContactBook binds 'contacts\.0\.email'/);
    });

    await t.step("summary as a field (to assign it) is refused", async () => {
      await refused(client, 11, 1, { path: "summary", access: "rw" });
      await refused(client, 12, 1, { path: "summary" });
    });

    await t.step("__index.search (a write into the prototype) is refused", async () => {
      await refused(client, 13, 1, { path: "__index.search", access: "rw" });
    });

    await t.step("new() and other unbound methods are refused", async () => {
      await refused(client, 14, 1, { path: "new()", access: "action" });
      await refused(client, 15, 1, { path: "new()", access: "r" });
      await refused(client, 16, 1, { path: "restore()", access: "action" });
    });

    await t.step("more access than the template gives is refused", async () => {
      // summary() is shown (r): as an action or rw it would call the method with a value.
      await refused(client, 17, 1, { path: "summary()", access: "action" });
      await refused(client, 18, 1, { path: "summary()", access: "rw" });
      // newContact() is an action: read, every refresh would call it.
      await refused(client, 19, 1, { path: "newContact()", access: "r" });
      // notice is shown in a span: it cannot be written.
      await refused(client, 20, 1, { path: "notice", access: "rw" });
    });

    await t.step("a wrapper or presenter the template does not name is refused", async () => {
      await refused(client, 21, 1, { path: "search", access: "r", wrapper: "ContactRow" });
      await refused(client, 22, 1, { path: "summary()", access: "r", create: "ContactEditor" });
      await refused(client, 23, 1, { path: "visible()", access: "r", itemWrapper: "Contact" });
    });

    await t.step("a variable's path, access or wrapper cannot be changed later", async () => {
      const changes: Record<string, string>[] = [
        { path: "contacts" },
        { access: "rw" },
        { wrapper: "X" },
      ];
      for (const change of changes) {
        const answer = await client.exchange([updateProperties(2, change)]);
        onlyError(answer, "bad-access", 2);
      }
      // Other properties (the viewdef a view shows, namespaces) still go through.
      const answer = await client.exchange([updateProperties(2, { viewdef: "", inactive: "" })]);
      assert.deepEqual(errorsOf(answer), []);
      const again = await client.exchange([watch(2)]);
      assert.equal(valueOf(again, 2), SUMMARY);
    });

    await t.step("the built-in client's list, item and presenter bindings work", async () => {
      const answer = await client.exchange([
        update(3, ""),
        create(30, 1, {
          path: "visible()",
          wrapper: "lua.ViewList",
          itemWrapper: "ContactRow",
          access: "r",
          fallbackNamespace: "list-item",
        }),
        create(31, 30, { path: "0", access: "r", fallbackNamespace: "list-item" }),
        create(32, 31, { path: "item", access: "r", namespace: "list-item" }),
        create(33, 32, { path: "name()", access: "r" }),
        create(34, 32, { path: "select()", access: "action" }),
      ]);
      assert.deepEqual(errorsOf(answer), []);
      assert.equal(valueOf(answer, 33), "Ada Lovelace");
      // The row's presenter has no `new()` binding, and a list item cannot be written.
      await refused(client, 35, 32, { path: "new()", access: "action" });
      onlyError(await client.exchange([update(31, "x")]), "bad-access", 31);
      onlyError(await client.exchange([update(30, [])]), "bad-access", 30);
    });

    await t.step("the detail view shows a contact; its fields are read-only there", async () => {
      const selected = await client.exchange([update(34, null)]);
      assert.deepEqual(errorsOf(selected), []);
      const answer = await client.exchange([
        create(40, 1, { path: "panel()", access: "r", namespace: "detail" }),
        create(41, 40, { path: "name", access: "r" }),
      ]);
      assert.deepEqual(errorsOf(answer), []);
      assert.equal(valueOf(answer, 41), "Ada Lovelace");
      // Contact.detail shows the name in an <h2>: writing it would skip the editor's checks.
      await refused(client, 42, 40, { path: "name", access: "rw" });
      await refused(client, 43, 40, { path: "email", access: "rw" });
      // Without an access (as ui-engine's frontend may send it) it is made read-only.
      const plain = await client.exchange([create(44, 40, { path: "name" })]);
      assert.equal(valueOf(plain, 44), "Ada Lovelace");
      onlyError(await client.exchange([update(44, "")]), "bad-access", 44);
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("ui-engine frontend forms and a replayed page pass template-only paths", async (t) => {
  const server = await startTestServer({ openPaths: false });
  try {
    await t.step("views and lists without access are read-only; items with ?wrapper", async () => {
      const client = await TestClient.connect(server);
      try {
        await client.exchange([watch(1)]);
        // ui-engine's frontend sends the query as properties and no access on lists and
        // views, and repeats a list's itemWrapper on each item.
        const answer = await client.exchange([
          create(2, 1, {
            path: "visible()",
            elementId: "list",
            wrapper: "lua.ViewList",
            itemWrapper: "ContactRow",
          }),
          create(3, 2, {
            path: "0",
            elementId: "item-0",
            wrapper: "ContactRow",
            fallbackNamespace: "list-item",
          }),
          create(4, 3, { path: "item", elementId: "v-0", namespace: "list-item" }),
          create(5, 4, { path: "subtitle()", access: "r", elementId: "s-0" }),
          create(6, 1, { path: "favourites()", elementId: "chips" }),
          create(7, 6, { path: "1", elementId: "chip-1", fallbackNamespace: "list-item" }),
          create(8, 7, { path: "firstName()", access: "r" }),
          create(9, 1, { path: "search", elementId: "search", keypress: "true" }),
          create(10, 1, { path: "selectFirst()", access: "action", priority: "low" }),
        ]);
        assert.deepEqual(errorsOf(answer), []);
        assert.equal(valueOf(answer, 5), "ada@example.com");
        assert.equal(typeof valueOf(answer, 8), "string");
        // Read-only: the list, an item and a view cannot be written.
        onlyError(await client.exchange([update(2, [])]), "bad-access", 2);
        onlyError(await client.exchange([update(3, "x")]), "bad-access", 3);
        onlyError(await client.exchange([update(4, "x")]), "bad-access", 4);
        // An editable field without access is rw, as the server's default.
        assert.deepEqual(errorsOf(await client.exchange([update(9, "grace")])), []);
        // A list item's wrapper must be one the templates name.
        const wrapped = await client.exchange([
          create(11, 6, { path: "0?wrapper=ContactEditor", fallbackNamespace: "list-item" }),
        ]);
        onlyError(wrapped, "bad-access", 11);
      } finally {
        await client.close();
      }
    });

    await t.step("a reconnect replays parents and children in one frame", async () => {
      const client = await TestClient.connect(server);
      try {
        // As src/client/store.ts replays a page: watch 1, then every create, in one frame.
        const answer = await client.exchange([
          watch(1),
          create(2, 1, {
            path: "visible()",
            wrapper: "lua.ViewList",
            itemWrapper: "ContactRow",
            access: "r",
          }),
          create(3, 2, { path: "1", access: "r", fallbackNamespace: "list-item" }),
          create(4, 3, { path: "item", access: "r" }),
          create(5, 4, { path: "name()", access: "r" }),
          create(6, 4, { path: "contact.email", access: "rw" }),
        ]);
        assert.deepEqual(errorsOf(answer), [
          "bad-access: No template of type ContactRow binds 'contact.email'",
        ]);
        assert.equal(valueOf(answer, 5), "Alan Turing");
      } finally {
        await client.close();
      }
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("--open-paths lets a client bind any path, but never replace a method", async (t) => {
  const server = await startTestServer({ openPaths: true });
  const client = await TestClient.connect(server);
  try {
    await client.exchange([watch(1)]);
    await t.step("any path can be bound", async () => {
      const answer = await client.exchange([
        create(2, 1, { path: "contacts.0.email", access: "r" }),
        create(3, 1, { path: "summary", access: "rw" }),
        create(4, 1, { path: "summary()", access: "r" }),
      ]);
      assert.deepEqual(errorsOf(answer), []);
      assert.equal(valueOf(answer, 2), "ada@example.com");
    });
    await t.step("summary = 'x' is refused and summary() still works", async () => {
      const answer = await client.exchange([update(3, "x")]);
      const error = onlyError(answer, "bad-access", 3);
      assert.match(error.description, /'summary' is a function/);
      const again = await client.exchange([watch(4)]);
      assert.equal(valueOf(again, 4), SUMMARY);
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});
