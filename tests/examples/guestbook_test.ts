/**
 * The guestbook example (examples/guestbook) keeps its entries across a restart: a server with
 * `--app-store` on a file-backed Deno KV store takes an entry over a real WebSocket, stops, and
 * a new server on the same file shows it to a new session.
 */
import assert from "node:assert/strict";
import {
  create,
  type Received,
  startTestServer,
  TestClient,
  update,
  updatesFor,
  watch,
} from "../support/ws_client.ts";

const SITE = new URL("../../examples/guestbook/", import.meta.url).pathname;

function lastValue(client: TestClient, varId: number): unknown {
  const updates = updatesFor(client.messages(), varId);
  return (updates.at(-1) as Received | undefined)?.data.value;
}

Deno.test("guestbook across a restart", async (t) => {
  const dir = await Deno.makeTempDir();
  const config = { dir: SITE, sessionStore: `kv:${dir}/guestbook.sqlite`, appStore: true };
  try {
    await t.step("an entry signed in one server's session", async () => {
      const server = await startTestServer(config);
      try {
        const client = await TestClient.connect(server);
        client.send([
          watch(1),
          create(2, 1, { path: "name" }),
          create(3, 1, { path: "message" }),
          create(4, 1, { path: "sign()", access: "action" }),
          create(5, 1, { path: "summary()" }),
        ]);
        await client.until(() => lastValue(client, 5) === "0 entries", 5000);
        client.send([update(2, "Ada"), update(3, "Hello from before the restart")]);
        client.send([update(4, null)]);
        await client.until(() => lastValue(client, 5) === "1 entry", 5000);
        await client.close();
      } finally {
        await server.shutdown();
      }
    });

    await t.step("is shown by a new server on the same store", async () => {
      const server = await startTestServer(config);
      try {
        const client = await TestClient.connect(server);
        client.send([
          watch(1),
          create(2, 1, { path: "summary()" }),
          create(3, 1, { path: "entries.0.message" }),
        ]);
        await client.until(() => lastValue(client, 2) === "1 entry", 5000);
        await client.until(() => lastValue(client, 3) === "Hello from before the restart", 5000);
        assert.equal(lastValue(client, 2), "1 entry");
        await client.close();
      } finally {
        await server.shutdown();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
