/**
 * Many processes behind one port (`--reuse-port`, Linux `SO_REUSEPORT`): two real server
 * processes listen on the same port and share one real redis-server. The kernel spreads new
 * connections over both; a session whose connection lands on the other process is restored
 * there from the store with its state.
 */
import assert from "node:assert/strict";
import { startRedis } from "../store/redis_server.ts";
import { fixture, TEST_SECRET, TestBrowser } from "../support/ws_client.ts";
import { type MainProcess, runMain, spawnMain } from "./process.ts";
import { click, openCounter, pause } from "./counter_client.ts";

const UNSTABLE_NET = { denoFlags: ["--unstable-net"] };

function serverArgs(store: string, port?: number): string[] {
  return [
    "--dir",
    fixture("persist_site"),
    "--session-store",
    store,
    "--secret",
    TEST_SECRET,
    "--snapshot-delay",
    "100ms",
    "--reuse-port",
    ...(port === undefined ? [] : ["--port", String(port)]),
  ];
}

/** How many connections a process has taken, from its log. */
function connections(server: MainProcess): number {
  return server.lines.filter((line) => / (Connected|Reconnected|Connection taken over)$/.test(line))
    .length;
}

/** Waits until one of the processes logs one more connection; returns the one that did. */
async function servedBy(servers: MainProcess[], before: number[]): Promise<number> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const index = servers.findIndex((server, i) => connections(server) > (before[i] ?? 0));
    if (index >= 0) return index;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `Neither process logged the connection:\n${
      servers.map((s) => s.lines.join("\n")).join("\n--\n")
    }`,
  );
}

/** Connects through the shared port; returns the client, its count and the serving process. */
async function open(servers: MainProcess[], browser: TestBrowser, sid: string) {
  const before = servers.map(connections);
  let opened;
  try {
    opened = await openCounter(browser.port, browser, sid);
  } catch (error) {
    console.log("SERVERS\n" + servers.map((s) => s.lines.join("\n")).join("\n--\n"));
    throw error;
  }
  const { client, count } = opened;
  return { client, count, server: await servedBy(servers, before) };
}

Deno.test({
  name: "two processes on one port and one redis-server share the connections and the sessions",
  ignore: Deno.build.os !== "linux",
  fn: async (t) => {
    const redis = await startRedis();
    const a = await spawnMain(serverArgs(redis.url), UNSTABLE_NET);
    let b: MainProcess | undefined;
    try {
      b = await spawnMain(serverArgs(redis.url, a.port), UNSTABLE_NET);
      const servers = [a, b];
      assert.equal(b.port, a.port);
      const browser = new TestBrowser(a.port);

      await t.step("new connections are served by both processes", async () => {
        const seen = [0, 0];
        for (let i = 0; i < 24 && (seen[0] === 0 || seen[1] === 0); i++) {
          const opened = await open(servers, browser, await browser.newSid());
          seen[opened.server]!++;
          await opened.client.close();
        }
        assert.ok(seen[0]! > 0 && seen[1]! > 0, `connections per process: ${seen}`);
      });

      const sid = await browser.newSid();
      let firstServer = -1;
      await t.step("a session that lands on the other process keeps its state", async () => {
        const first = await open(servers, browser, sid);
        firstServer = first.server;
        assert.equal(first.count, 0);
        assert.equal(await click(first.client, 3), 3);
        await first.client.close();
        await pause(400); // past the snapshot delay
        // Each new connection has a new source port, so it may land on either process: try
        // until one lands on the other.
        let moved;
        for (let attempt = 0; attempt < 40 && !moved; attempt++) {
          const next = await open(servers, browser, sid);
          if (next.server !== first.server) moved = next;
          else {
            assert.equal(next.count, 3);
            await next.client.close();
          }
        }
        assert.ok(moved, "no connection landed on the other process");
        assert.equal(moved.count, 3);
        assert.equal(await click(moved.client, 1), 4);
        await servers[moved.server]!.waitForLine(/Session restored/);
        await moved.client.close();
      });

      // The first process still holds its copy: a reconnect claims the session again, finds
      // that another process owned it meanwhile, and restores the newer snapshot.
      await t.step({
        name: "a session that comes back to the first process finds the newest state",
        fn: async () => {
          await pause(400);
          let back;
          for (let attempt = 0; attempt < 40 && !back; attempt++) {
            const next = await open(servers, browser, sid);
            if (next.server === firstServer) back = next;
            else await next.client.close();
          }
          assert.ok(back, "no connection landed on the first process");
          await back.client.close();
          assert.equal(back.count, 4);
        },
      });
    } finally {
      await b?.stop();
      await a.stop();
      await redis.stop();
    }
  },
});

Deno.test("--reuse-port without --unstable-net is refused with a clear message", async () => {
  const { code, stderr } = await runMain(["--reuse-port", "--port", "0"]);
  assert.equal(code, 2);
  assert.match(stderr, /--reuse-port needs Deno's --unstable-net flag/);
});
