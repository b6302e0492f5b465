/**
 * Graceful shutdown: `main.ts` as a real process, real sockets, real signals; and the flush of
 * pending frames on an in-process server.
 */
import assert from "node:assert/strict";
import { openWebSocket, startTestServer, TestBrowser, TestClient } from "../support/ws_client.ts";
import { spawnMain, within } from "./process.ts";

/** A WebSocket to a running `main.ts` that records its close code. */
async function openSocket(port: number): Promise<{ socket: WebSocket; closed: Promise<number> }> {
  const browser = new TestBrowser(port);
  const socket = openWebSocket(`ws://127.0.0.1:${port}/ws/${await browser.newSid()}`, {
    ...browser.headers(),
  });
  const closed = new Promise<number>((resolve) => socket.onclose = (event) => resolve(event.code));
  const opened = Promise.withResolvers<void>();
  socket.onopen = () => opened.resolve();
  socket.onerror = () => opened.reject(new Error("WebSocket failed to open"));
  await opened.promise;
  // Wait for the answer to `watch 1`, so that the session exists.
  const answered = Promise.withResolvers<void>();
  socket.onmessage = () => answered.resolve();
  socket.send(
    JSON.stringify({ userEvent: true, messages: [{ type: "watch", data: { varId: 1 } }] }),
  );
  await within(5000, answered.promise);
  return { socket, closed };
}

/**
 * Opens a WebSocket by hand over TCP and then never reads or answers: the server's close
 * handshake cannot complete, so shutdown has to wait for its timeout.
 */
async function openSilentSocket(port: number): Promise<Deno.TcpConn> {
  const browser = new TestBrowser(port);
  const sid = await browser.newSid();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const request = [
    `GET /ws/${sid} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    `Cookie: ${browser.cookie}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    "",
    "",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(4096);
  const read = await conn.read(buffer);
  const head = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
  assert.match(head, /^HTTP\/1\.1 101/);
  return conn;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`main.ts shuts down gracefully on ${signal}`, async (t) => {
    const server = await spawnMain();
    try {
      const client = await openSocket(server.port);

      await t.step(
        "the socket is closed with 1012 and the process exits 0 within 5 s",
        async () => {
          const started = Date.now();
          server.child.kill(signal);
          const code = await within(5000, client.closed);
          const status = await within(5000, server.status);
          assert.equal(code, 1012);
          assert.equal(status.code, 0);
          assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
        },
      );

      await t.step("the shutdown is logged", () => {
        assert.ok(server.lines.some((line) => line.includes(`Received ${signal}`)));
        assert.ok(
          server.lines.some((line) => /Shutting down: 1 connections, 1 sessions/.test(line)),
        );
        assert.ok(server.lines.some((line) => line.includes("Server stopped")));
      });
    } finally {
      await server.stop();
    }
  });
}

Deno.test("main.ts exits within 5 s even when a client never answers the close", async (t) => {
  const server = await spawnMain();
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await openSilentSocket(server.port);
    await server.waitForLine(/Connected/);
    await t.step("SIGTERM still ends the process with code 0 in time", async () => {
      const started = Date.now();
      server.child.kill("SIGTERM");
      const status = await within(5000, server.status);
      assert.equal(status.code, 0);
      assert.ok(Date.now() - started < 5000);
    });
  } finally {
    conn?.close();
    await server.stop();
  }
});

Deno.test("main.ts exits at once on a second signal", async (t) => {
  const server = await spawnMain();
  let conn: Deno.TcpConn | undefined;
  try {
    // A client that never answers the close keeps the first shutdown waiting.
    conn = await openSilentSocket(server.port);
    await server.waitForLine(/Connected/);
    await t.step("the second SIGINT exits with code 130 before shutdown finishes", async () => {
      server.child.kill("SIGINT");
      await server.waitForLine(/Received SIGINT; shutting down/);
      const started = Date.now();
      server.child.kill("SIGINT");
      const status = await within(5000, server.status);
      assert.equal(status.code, 130);
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      assert.ok(server.lines.some((line) => line.includes("Received SIGINT again")));
      assert.ok(!server.lines.some((line) => line.includes("Server stopped")));
    });
  } finally {
    conn?.close();
    await server.stop();
  }
});

Deno.test("shutdown flushes pending frames before closing with 1012", async (t) => {
  // A long flush delay: without the shutdown's flush the answer would never be sent.
  const server = await startTestServer({}, { flushDelayMs: 60_000 });
  const client = await TestClient.connect(server);
  try {
    client.send([{ type: "watch", data: { varId: 1 } }], false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await t.step("nothing was sent yet", () => {
      assert.equal(client.frames.length, 0);
    });
    await t.step("shutdown sends the pending update, then closes with 1012", async () => {
      await within(5000, server.shutdown());
      const code = await within(5000, client.closedPromise);
      assert.equal(code, 1012);
      // The app variable's value (and its viewdefs) came in the one flushed frame.
      assert.equal(client.frames.length, 1);
      const updates = client.messages().filter((m) => m.type === "update" && m.data.varId === 1);
      assert.ok(updates.some((m) => m.data.value !== undefined), JSON.stringify(updates));
    });
    await t.step("new requests are refused while closed", async () => {
      assert.equal(server.closing, true);
      assert.equal(server.manager.sessionCount, 0);
      await assert.rejects(fetch(`http://127.0.0.1:${server.port}/healthz`));
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("shutdown cancels every Lua timer and expiry", async (t) => {
  const site = new URL("./fixtures/timer_site", import.meta.url).pathname;
  const server = await startTestServer({ dir: site, sessionTimeoutMs: 60_000 });
  const client = await TestClient.connect(server);
  const idle = await TestClient.connect(server);
  try {
    await client.request([{ type: "watch", data: { varId: 1 } }]);
    await idle.request([{ type: "watch", data: { varId: 1 } }]);
    await idle.close(); // its session now waits for the 60 s expiry
    const sessions = server.manager.sids().flatMap((sid) => server.manager.session(sid) ?? []);
    await t.step("the timers run before shutdown", () => {
      assert.equal(sessions.length, 2);
      for (const session of sessions) assert.equal(session.timerCount, 2);
    });
    await t.step("none is left after shutdown", async () => {
      await within(5000, server.shutdown());
      for (const session of sessions) assert.equal(session.timerCount, 0);
      assert.equal(server.manager.sessionCount, 0);
      assert.equal(await within(5000, client.closedPromise), 1012);
      // Deno's op sanitizer fails this test if a timer (Lua, flush or expiry) is still pending.
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});
