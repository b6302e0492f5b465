/**
 * The sandbox over the wire (SPEC 10.6): Lua methods invoked by client actions try the dangerous
 * parts of the standard library and report what they got (tests/fixtures/sandbox_site).
 */
import assert from "node:assert/strict";
import { create, update, watch } from "../support/ws_client.ts";
import { type Harness, onlyError, onlyUpdate, valueOf, withHarness } from "./helpers.ts";
import type { TestClient } from "../support/ws_client.ts";

const SITE = "sandbox_site";

/** Opens a session with `last` (2), `probe(_)` (3), `exitNow()` (4) and `exitThroughGlobals()` (5). */
async function openProbe(h: Harness): Promise<TestClient> {
  const { client } = await h.open();
  await client.exchange([
    create(2, 1, { path: "last" }),
    create(3, 1, { path: "probe(_)" }),
    create(4, 1, { path: "exitNow()", access: "action" }),
    create(5, 1, { path: "exitThroughGlobals()", access: "action" }),
  ]);
  return client;
}

async function probe(client: TestClient, name: string): Promise<string> {
  // The watch resends `last` even when this probe got what the previous one got.
  const answer = await client.exchange([update(3, name), watch(2)]);
  assert.equal(answer.filter((m) => m.type === "error").length, 0, JSON.stringify(answer));
  const value = valueOf(answer, 2);
  assert.equal(typeof value, "string");
  return value as string;
}

Deno.test("sandbox: dangerous functions are absent", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const client = await openProbe(h);

    await t.step("the probe mechanism works (controls)", async () => {
      assert.equal(await probe(client, "load_text"), "ok: 2");
      assert.equal(await probe(client, "os_time"), "ok: number");
      assert.match(await probe(client, "os_date"), /^ok: 19(69|70)$/);
      assert.equal(await probe(client, "string_upper"), "ok: OK");
      assert.equal(await probe(client, "print"), "ok: printed");
    });

    await t.step(
      "io, os.execute, os.exit, os.getenv, dofile, loadfile, package.loadlib, debug are nil",
      async () => {
        for (
          const name of [
            "io_type",
            "os_execute_type",
            "os_exit_type",
            "os_getenv_type",
            "dofile_type",
            "loadfile_type",
            "package_type",
            "debug_type",
          ]
        ) {
          assert.equal(await probe(client, name), "ok: nil", name);
        }
      },
    );

    await t.step("calling them fails inside Lua", async () => {
      for (
        const name of [
          "io_open",
          "io_popen",
          "os_execute",
          "os_exit",
          "os_getenv",
          "os_remove",
          "os_rename",
          "os_tmpname",
          "dofile",
          "loadfile",
          "package_loadlib",
        ]
      ) {
        const got = await probe(client, name);
        assert.match(got, /^error: .*attempt to (call|index) a nil value/, `${name}: ${got}`);
      }
    });

    await t.step("require reaches only the site's lua folder", async () => {
      assert.match(await probe(client, "require_os"), /^error: .*not found/);
      assert.match(await probe(client, "require_escape"), /^error: .*[Bb]ad module name/);
    });

    await t.step("load refuses binary chunks", async () => {
      assert.equal(await probe(client, "load_binary"), "ok: nil");
    });

    await t.step("string.rep cannot build a huge string", async () => {
      assert.match(await probe(client, "rep_huge"), /^error: .*too large/);
    });

    await t.step("an unprotected os.exit is a lua-error and the process goes on", async () => {
      for (const id of [4, 5]) {
        const error = onlyError(await client.exchange([update(id, null)]), "lua-error", id);
        assert.match(error.description, /nil value/);
      }
      assert.equal(client.socket.readyState, WebSocket.OPEN);
      assert.equal(await probe(client, "string_upper"), "ok: OK");
    });

    await t.step("the server still serves new sessions and HTTP", async () => {
      const fresh = await h.open();
      assert.equal(
        onlyUpdate(await fresh.client.exchange([watch(1)]), 1).properties.type,
        "Sandbox",
      );
      const response = await fetch(`${h.url}/healthz`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });
  });
});

Deno.test("sandbox: globals do not leak between sessions", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    await t.step("a global set in one session is nil in another", async () => {
      const a = await openProbe(h);
      const b = await openProbe(h);
      assert.equal(await probe(a, "set_global"), "ok: set in one session");
      assert.equal(await probe(a, "read_global"), "ok: string");
      assert.equal(await probe(b, "read_global"), "ok: nil");
    });
  });
});
