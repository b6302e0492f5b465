/**
 * `store.get/set/delete` (src/session/host_builtins/app_store.ts) over the memory, Deno KV and
 * Redis stores, and from Lua through a session.
 */
import assert from "node:assert/strict";
import { createAppStore } from "../../../src/session/host_builtins/app_store.ts";
import { openSessionStore } from "../../../src/store/open_session_store.ts";
import type { SessionStore } from "../../../src/store/session_store.ts";
import { testApp } from "../../../src/testing/app_tester.ts";
import { startRedis } from "../../store/redis_server.ts";

async function contract(t: Deno.TestContext, open: () => Promise<SessionStore>) {
  const sessions = await open();
  const store = createAppStore(sessions);
  try {
    await t.step("get of an unset key is nil", async () => {
      assert.equal(await store.get?.("missing"), null);
    });
    await t.step("set then get gives the JSON-able value back", async () => {
      await store.set?.("entry", { name: "Ada", tags: ["a", "b"], n: 1.5, ok: true });
      assert.deepEqual(await store.get?.("entry"), {
        name: "Ada",
        tags: ["a", "b"],
        n: 1.5,
        ok: true,
      });
    });
    await t.step("values live apart from the server's own", async () => {
      await store.set?.("secret", "mine");
      assert.equal(await sessions.getValue("server", "secret"), null);
    });
    await t.step("delete and set nil forget a key", async () => {
      await store.delete?.("entry");
      assert.equal(await store.get?.("entry"), null);
      await store.set?.("secret", null);
      assert.equal(await store.get?.("secret"), null);
    });
    await t.step("a value over the cap and a bad key are refused", async () => {
      await assert.rejects(async () => await store.set?.("big", "x".repeat(70_000)), /limit is/);
      await assert.rejects(async () => await store.get?.(""), /non-empty string key/);
      await assert.rejects(async () => await store.get?.(3), /non-empty string key/);
    });
  } finally {
    await sessions.close();
  }
}

Deno.test("app store over memory", (t) => contract(t, () => openSessionStore("memory")));

Deno.test("app store over Deno KV", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await contract(t, () => openSessionStore(`kv:${dir}/kv.sqlite`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("app store over Redis", async (t) => {
  const server = await startRedis();
  try {
    await contract(t, () => openSessionStore(server.url));
  } finally {
    await server.stop();
  }
});

Deno.test("store from Lua", async (t) => {
  const sessions = await openSessionStore("memory");
  const site = {
    lua: {
      "main.lua": `
        Notes = session:prototype("Notes", {text = "", shown = ""})
        function Notes:save() store.set("note", {text = self.text}) end
        function Notes:load() self.shown = (store.get("note") or {text = "none"}).text end
        session:createAppVariable(session:create(Notes))`,
    },
    viewdefs: {
      "Notes.DEFAULT": `<template><input ui-value="text">
        <button class="save" ui-action="save()">save</button>
        <button class="load" ui-action="load()">load</button><p ui-value="shown"></p></template>`,
    },
  };
  try {
    await t.step("one session saves, another reads", async () => {
      {
        await using a = await testApp({ site, appStore: sessions });
        await a.fill("input", "hello");
        await a.click(".save");
      }
      await using b = await testApp({ site, appStore: sessions });
      await b.click(".load");
      assert.equal(await b.waitFor(() => b.text("p"), (text) => text !== ""), "hello");
      assert.deepEqual(b.problems, []);
    });
  } finally {
    await sessions.close();
  }
});
