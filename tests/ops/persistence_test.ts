/**
 * Sessions that survive restarts and instance hops (`--session-store`): real server processes,
 * a real Deno KV file and a real redis-server, real sockets.
 */
import assert from "node:assert/strict";
import { startRedis } from "../store/redis_server.ts";
import { fixture, TEST_SECRET, TestBrowser, update } from "../support/ws_client.ts";
import { type MainProcess, spawnMain, within } from "./process.ts";
import { click, openCounter, pause } from "./counter_client.ts";

const SITE = fixture("persist_site");

function serverArgs(store: string): string[] {
  return [
    "--dir",
    SITE,
    "--session-store",
    store,
    "--secret",
    TEST_SECRET,
    "--snapshot-delay",
    "150ms",
  ];
}

/** A browser that keeps its cookie across servers (as a real one does for one host). */
function sameBrowser(browser: TestBrowser, server: MainProcess): TestBrowser {
  const moved = new TestBrowser(server.port);
  moved.cookie = browser.cookie;
  return moved;
}

/** Connects, binds the counter and returns its current count. */
function open(server: MainProcess, browser: TestBrowser, sid: string) {
  return openCounter(server.port, browser, sid);
}

Deno.test("a KV store keeps sessions across SIGTERM and kill -9", async (t) => {
  const dir = await Deno.makeTempDir();
  const args = serverArgs(`kv:${dir}/sessions.kv`);
  let server = await spawnMain(args);
  const first = server;
  const browser = new TestBrowser(server.port);
  try {
    const sid = await browser.newSid();
    await t.step("a new session starts at zero and counts clicks", async () => {
      const { client, count } = await open(server, browser, sid);
      assert.equal(count, 0);
      assert.equal(await click(client, 3), 3);
      await client.close();
    });
    await t.step("SIGTERM then a restart keeps the state", async () => {
      server.child.kill("SIGTERM");
      assert.equal((await within(6000, server.status)).code, 0);
      server = await spawnMain(args);
      const { client, count } = await open(server, sameBrowser(browser, server), sid);
      assert.equal(count, 3);
      assert.equal(await click(client, 1), 4);
      await pause(600); // past the snapshot delay
      server.child.kill("SIGKILL");
      await server.status;
    });
    await t.step("kill -9 keeps everything older than the snapshot delay", async () => {
      server = await spawnMain(args);
      const { client, count } = await open(server, sameBrowser(browser, server), sid);
      assert.equal(count, 4);
      await client.close();
    });
    await t.step("a closure in the app is left out with a warning, not an error", () => {
      assert.ok(first.lines.some((line) => /leaves out what is not data: .*helper/.test(line)));
    });
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two processes on one redis-server: a session moves and the first gives it up", async (t) => {
  const redis = await startRedis();
  const args = serverArgs(redis.url);
  const a = await spawnMain(args);
  const b = await spawnMain(args);
  const onA = new TestBrowser(a.port);
  try {
    const sid = await onA.newSid();
    const first = await open(a, onA, sid);
    assert.equal(await click(first.client, 2), 2);
    await pause(500);
    const onB = sameBrowser(onA, b);
    const second = await open(b, onB, sid);
    await t.step("a reconnect to the other process restores the session", () => {
      assert.equal(second.count, 2);
    });
    await t.step("a write there wins; the first process gives the session up", async () => {
      assert.equal(await click(second.client, 1), 3);
      first.client.send([update(3, null)]); // A changes its stale copy
      assert.equal(await within(5000, first.client.closedPromise), 1012);
      await a.waitForLine(/claimed by another instance/);
    });
    await t.step(
      "the client lands on the first process again and finds the newest state",
      async () => {
        await pause(500);
        const again = await open(a, onA, sid);
        assert.equal(again.count, 3);
        await again.client.close();
      },
    );
    await second.client.close();
  } finally {
    await a.stop();
    await b.stop();
    await redis.stop();
  }
});
