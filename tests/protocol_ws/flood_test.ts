/**
 * Attacks on the session table and on output, over real sockets with small limits: a flood of
 * new sessions from one address, a full table, and a client that stops reading.
 */
import assert from "node:assert/strict";
import { create, TestBrowser, TestClient, update, watch } from "../support/ws_client.ts";
import { withHarness } from "./helpers.ts";
import { openRawSocket } from "./raw_socket.ts";

const SITE = "protocol_site";

Deno.test("a flood of new sessions from one address is rate-limited", async () => {
  await withHarness(SITE, { sessionsPerMinute: 5 }, async (harness) => {
    const opened: TestClient[] = [];
    for (let i = 0; i < 5; i++) opened.push(await harness.connect());
    const refused = await harness.connect();
    await refused.closedPromise;
    assert.equal(refused.closeCode, 1013);
    const error = refused.messages().find((m) => m.type === "error");
    assert.equal(error?.data.code, "limit");
    assert.match(error?.data.description, /Too many new sessions from this address/);
    assert.equal(harness.server.manager.stats.sessionsRateLimited, 1);
    // Reconnecting to a session of one's own is not a new session.
    await opened[0]?.close();
    const again = await harness.connect(opened[0]?.sid);
    const answer = await again.exchange([watch(1)]);
    assert.ok(answer.some((m) => m.type === "update" && m.data.varId === 1));
  });
});

Deno.test("a full table evicts the longest idle session", async () => {
  await withHarness(SITE, { maxSessions: 3 }, async (harness) => {
    const { client: victim } = await harness.open();
    const first = await harness.connect();
    const second = await harness.connect();
    await first.close();
    await second.close();
    const manager = harness.server.manager;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const newcomer = await harness.connect();
    assert.equal((await newcomer.exchange([watch(1)])).some((m) => m.type === "update"), true);
    assert.equal(manager.stats.sessionsEvicted, 1);
    assert.equal(manager.session(first.sid), undefined, "the oldest idle one went first");
    assert.ok(manager.session(second.sid));
    assert.ok(manager.session(victim.sid), "a connected session is never evicted");
    // With every session connected, a newcomer is refused.
    await harness.connect();
    const refused = await harness.connect();
    await refused.closedPromise;
    assert.equal(refused.messages().find((m) => m.type === "error")?.data.code, "limit");
    const answer = await victim.exchange([watch(1)]);
    assert.ok(answer.some((m) => m.type === "update" && m.data.varId === 1));
  });
});

Deno.test("a client that stops reading is disconnected; its session stays", async () => {
  const limits = { maxUnsentBytes: 256 * 1024, maxFramesPerSecond: 10_000 };
  await withHarness(SITE, limits, async (harness) => {
    const { client: victim } = await harness.open();
    const browser = new TestBrowser(harness.server.port);
    const sid = await browser.newSid();
    const raw = await openRawSocket(harness.server.port, sid, browser);
    const manager = harness.server.manager;
    try {
      // Every write of `name` changes `greeting()`, which is pushed back: 100 KB per frame.
      await raw.sendText(JSON.stringify({
        userEvent: true,
        messages: [watch(1), create(2, 1, { path: "greeting()" }), create(3, 1, { path: "name" })],
      }));
      const deadline = Date.now() + 10_000;
      for (let i = 0; manager.stats.slowReadersClosed === 0 && Date.now() < deadline; i++) {
        const text = `${i}:${"x".repeat(100_000)}`;
        await raw.sendText(JSON.stringify({ userEvent: true, messages: [update(3, text)] }))
          .catch(() => {});
        if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(manager.stats.slowReadersClosed, 1);
      assert.equal(manager.connectionCount, 1, "only the other session is still connected");
      const start = performance.now();
      const answer = await victim.exchange([watch(1)]);
      assert.ok(answer.some((m) => m.type === "update"));
      assert.ok(performance.now() - start < 1000);
    } finally {
      raw.close();
    }
    const session = manager.session(sid);
    assert.ok(session, "the session stays for a reconnect");
    const again = await TestClient.connect(harness.server, sid, { browser });
    harness.clients.push(again);
    const answer = await again.exchange([watch(1), create(2, 1, { path: "name" })]);
    // The kept variables of the closed connection are sent first (a reconnect may continue
    // with them); the answer to this page's own create comes last.
    const name = answer.filter((m) => m.type === "update" && m.data.varId === 2).at(-1)?.data
      .value;
    assert.match(String(name), /^\d+:x{100000}$/, "what it wrote before is still there");
  });
});
