/**
 * `/healthz` over real HTTP: version, uptime, live sessions and connections.
 */
import assert from "node:assert/strict";
import { VERSION } from "../../src/server/server_core.ts";
import { startTestServer, TestClient } from "../support/ws_client.ts";

interface Health {
  status: string;
  version: string;
  uptimeSeconds: number;
  sessions: number;
  connections: number;
}

async function health(port: number): Promise<{ response: Response; body: Health }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { response, body: await response.json() };
}

Deno.test("/healthz", async (t) => {
  const server = await startTestServer({ sessionTimeoutMs: 60_000 });
  const clients: TestClient[] = [];
  try {
    await t.step("answers 200 JSON with the version and nothing live", async () => {
      const { response, body } = await health(server.port);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(body.status, "ok");
      assert.equal(body.version, VERSION);
      const denoJson = await Deno.readTextFile(new URL("../../deno.json", import.meta.url));
      assert.equal(body.version, JSON.parse(denoJson).version);
      assert.equal(typeof body.uptimeSeconds, "number");
      assert.ok(body.uptimeSeconds >= 0 && body.uptimeSeconds < 60);
      assert.equal(body.sessions, 0);
      assert.equal(body.connections, 0);
    });

    await t.step("counts live sessions and connections", async () => {
      for (let i = 0; i < 2; i++) {
        const client = await TestClient.connect(server);
        clients.push(client);
        await client.request([{ type: "watch", data: { varId: 1 } }]);
      }
      const { body } = await health(server.port);
      assert.equal(body.sessions, 2);
      assert.equal(body.connections, 2);
    });

    await t.step("a closed connection leaves its session live until the timeout", async () => {
      await clients[0]?.close();
      const deadline = Date.now() + 2000;
      let body = (await health(server.port)).body;
      while (body.connections !== 1 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        body = (await health(server.port)).body;
      }
      assert.equal(body.connections, 1);
      assert.equal(body.sessions, 2);
    });

    await t.step("reveals no session ids", async () => {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).text();
      for (const client of clients) assert.ok(!text.includes(client.sid));
    });
  } finally {
    for (const client of clients) await client.close();
    await server.shutdown();
  }
});
