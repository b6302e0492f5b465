/**
 * SIGTERM while a session runs a long Lua action: the action is time-sliced, so the signal is
 * served between slices and the process exits well within Deno Deploy's 5 s.
 */
import assert from "node:assert/strict";
import { openWebSocket, TestBrowser } from "../support/ws_client.ts";
import { spawnMain, within } from "./process.ts";

const SITE = new URL("./fixtures/long_entry_site", import.meta.url).pathname;

Deno.test("SIGTERM during a long Lua entry exits within 4 s", async (t) => {
  // An instruction budget large enough that the action alone would run for minutes.
  const server = await spawnMain(["--dir", SITE, "--instruction-budget", "2000000000"]);
  try {
    const browser = new TestBrowser(server.port);
    const socket = openWebSocket(`ws://127.0.0.1:${server.port}/ws/${await browser.newSid()}`, {
      ...browser.headers(),
    });
    const closed = new Promise<number>((resolve) =>
      socket.onclose = (event) => resolve(event.code)
    );
    const opened = Promise.withResolvers<void>();
    socket.onopen = () => opened.resolve();
    socket.onerror = () => opened.reject(new Error("WebSocket failed to open"));
    await within(5000, opened.promise);
    const answered = Promise.withResolvers<void>();
    socket.onmessage = () => answered.resolve();
    socket.send(JSON.stringify({
      userEvent: true,
      messages: [
        { type: "watch", data: { varId: 1 } },
        {
          type: "create",
          data: { id: 2, parentId: 1, properties: { path: "spin()", access: "action" } },
        },
      ],
    }));
    await within(5000, answered.promise);
    socket.send(
      JSON.stringify({
        userEvent: true,
        messages: [{ type: "update", data: { varId: 2, value: null } }],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    await t.step("the process exits 0 within 4 s of the signal", async () => {
      const started = Date.now();
      server.child.kill("SIGTERM");
      const status = await within(4000, server.status);
      assert.equal(status.code, 0);
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
      assert.equal(await within(1000, closed), 1012);
    });
  } finally {
    await server.stop();
  }
});
