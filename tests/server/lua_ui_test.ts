/**
 * Tests for src/server/lua_ui.ts (the library's `luaUi`): mounted in a host Hono app under `/ui`
 * and served on its own, over real HTTP and WebSockets.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { luaUi } from "../../mod.ts";
import { silentLogger } from "../../src/log.ts";
import { openWebSocket, TEST_SECRET } from "../support/ws_client.ts";

const SITE = {
  lua: {
    "main.lua": `app = {type = "Greeter", greeting = "hello from memory"}
                 session:createAppVariable(app)`,
  },
  viewdefs: {
    "Greeter.DEFAULT": `<template><p ui-value="greeting"></p></template>`,
  },
};

function serve(handler: Deno.ServeHandler) {
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    handler,
  );
}

// deno-lint-ignore no-explicit-any
type Wire = { type: string; data: any };

/** Opens a socket with `cookie`, watches variable 1 and returns the first frame. */
async function firstFrame(url: string, cookie: string): Promise<Wire[]> {
  const socket = openWebSocket(url, { cookie });
  const frame = new Promise<string>((resolve, reject) => {
    socket.onmessage = (event) => resolve(event.data as string);
    socket.onerror = () => reject(new Error("WebSocket failed"));
  });
  await new Promise<void>((resolve) => socket.onopen = () => resolve());
  socket.send(
    JSON.stringify({
      userEvent: true,
      messages: [{ type: "watch", data: { varId: 1 } }],
    }),
  );
  const text = await frame;
  const closed = new Promise((resolve) => socket.onclose = resolve);
  socket.close();
  await closed;
  return JSON.parse(text);
}

Deno.test("luaUi mounted at /ui in a host app", async (t) => {
  const ui = luaUi({
    site: SITE,
    config: { secret: TEST_SECRET },
    log: silentLogger,
  });
  const host = new Hono();
  host.get("/", (c) => c.text("the host's own page"));
  host.route("/ui", ui);
  const server = serve(host.fetch);
  const origin = `http://127.0.0.1:${server.addr.port}`;
  try {
    await t.step("the host's own routes still answer", async () => {
      const response = await fetch(`${origin}/`);
      assert.equal(await response.text(), "the host's own page");
    });
    let sid = "";
    let cookie = "";
    await t.step(
      "/ui mints a session under /ui with a cookie for /ui",
      async () => {
        const response = await fetch(`${origin}/ui`, { redirect: "manual" });
        await response.body?.cancel();
        assert.equal(response.status, 307);
        const location = response.headers.get("location") ?? "";
        sid = /^\/ui\/([0-9a-f]{32})$/.exec(location)?.[1] ?? "";
        assert.notEqual(sid, "", location);
        const set = response.headers.get("set-cookie") ?? "";
        assert.match(set, /; Path=\/ui;/);
        cookie = set.split(";")[0] ?? "";
      },
    );
    await t.step(
      "the page links the client under /ui and names its base",
      async () => {
        const response = await fetch(`${origin}/ui/${sid}`, {
          headers: { cookie },
        });
        const html = await response.text();
        assert.match(
          html,
          /<script type="module" src="\/ui\/ui-engine-client\.[0-9a-f]+\.js"><\/script>/,
        );
        assert.match(
          html,
          /<link rel="stylesheet" href="\/ui\/ui-engine-client.css">/,
        );
        assert.match(html, /<meta name="ui-base" content="\/ui">/);
      },
    );
    await t.step("the client script is served under /ui", async () => {
      const response = await fetch(`${origin}/ui/ui-engine-client.js`);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /ui-value-change/);
    });
    await t.step(
      "the socket at /ui/ws/<sid> runs the in-memory site",
      async () => {
        const frame = await firstFrame(
          `ws://127.0.0.1:${server.addr.port}/ui/ws/${sid}`,
          cookie,
        );
        const app = frame.find((m) =>
          m.type === "update" && m.data.varId === 1 && "value" in m.data
        );
        assert.equal(app?.data.properties.type, "Greeter");
        assert.match(
          frame[0]?.data.properties.viewdefs ?? "",
          /Greeter.DEFAULT/,
        );
      },
    );
    await t.step(
      "a session URL of another browser gets a fresh one under /ui",
      async () => {
        const response = await fetch(`${origin}/ui/${sid}/deep?x=1`, {
          redirect: "manual",
        });
        await response.body?.cancel();
        assert.match(
          response.headers.get("location") ?? "",
          /^\/ui\/[0-9a-f]{32}\/deep\?x=1$/,
        );
      },
    );
  } finally {
    await ui.shutdown();
    await server.shutdown();
  }
});

Deno.test("luaUi on its own with Deno.serve serves the default app at the root", async () => {
  const ui = luaUi({ config: { secret: TEST_SECRET }, log: silentLogger });
  const server = serve(ui.fetch);
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
      redirect: "manual",
    });
    await response.body?.cancel();
    assert.equal(response.status, 307);
    assert.match(response.headers.get("location") ?? "", /^\/[0-9a-f]{32}$/);
    assert.match(response.headers.get("set-cookie") ?? "", /; Path=\/;/);
  } finally {
    await ui.shutdown();
    await server.shutdown();
  }
});
