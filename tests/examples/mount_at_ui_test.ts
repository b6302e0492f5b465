/**
 * examples/mount_at_ui.ts, run as a program: the host's page at `/`, the default app at `/ui`
 * over real HTTP and a real WebSocket, and a clean stop on SIGTERM.
 */
import assert from "node:assert/strict";
import { openWebSocket, TEST_SECRET } from "../support/ws_client.ts";

const PROGRAM = new URL("../../examples/mount_at_ui.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

Deno.test("examples/mount_at_ui.ts", async (t) => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--config", CONFIG, PROGRAM],
    env: { PORT: "0", UI_SECRET: TEST_SECRET },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let origin = "";
  for (let text = ""; !origin;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The program ended: ${text}`);
    text += value;
    const port = /Listening on https?:\/\/[^:\s]+:(\d+)/.exec(text)?.[1];
    if (port) origin = `http://127.0.0.1:${port}`;
  }
  try {
    await t.step("the host app's own page links to /ui", async () => {
      assert.match(await (await fetch(`${origin}/`)).text(), /href="\/ui"/);
    });
    await t.step("/ui serves the default app over a WebSocket under /ui", async () => {
      const minted = await fetch(`${origin}/ui`, { redirect: "manual" });
      await minted.body?.cancel();
      const sid = /^\/ui\/([0-9a-f]{32})$/.exec(minted.headers.get("location") ?? "")?.[1];
      assert.ok(sid);
      const cookie = (minted.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      const page = await (await fetch(`${origin}/ui/${sid}`, { headers: { cookie } })).text();
      assert.match(page, /src="\/ui\/[^"]*\.js"/);
      const socket = openWebSocket(`ws://${origin.slice(7)}/ui/ws/${sid}`, { cookie });
      const frame = new Promise<string>((resolve) => socket.onmessage = (e) => resolve(e.data));
      await new Promise((resolve) => socket.onopen = resolve);
      socket.send(
        JSON.stringify({ userEvent: true, messages: [{ type: "watch", data: { varId: 1 } }] }),
      );
      assert.match(await frame, /ContactBook/);
      const closed = new Promise((resolve) => socket.onclose = resolve);
      socket.close();
      await closed;
    });
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await reader.cancel();
    await child.stdout.cancel();
    assert.equal(status.success || status.signal === "SIGTERM", true);
  }
});
