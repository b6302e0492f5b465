/**
 * ui-engine's own frontend against this server, mimicked at the protocol level over real
 * sockets (its files are not in the repository and cannot be fetched in CI). What is mimicked,
 * from its `web/src/connection.ts` and `app_view.ts` (v0.21.0): frames are JSON arrays; a page
 * sends `watch 1` once, when it starts; variable ids are vended from 2 and never reused; after
 * any close it reconnects (1 s, 2 s, 4 s, 8 s, 16 s; the count resets once a socket opens) and
 * re-creates nothing. The delays are scaled down here; their order is what matters.
 */
import assert from "node:assert/strict";
import {
  OPEN_ELSEWHERE,
  REANNOUNCE_AFTER_MS,
  TAKEN_OVER,
} from "../../src/session/session_connections.ts";
import {
  defaultBrowser,
  fixture,
  openWebSocket,
  type Received,
  startTestServer,
} from "../support/ws_client.ts";
import { withHarness } from "./helpers.ts";

const SITE = "protocol_site";
/** ui-engine waits 1 s before its first retry; scaled down. */
const RETRY_MS = 40;

/** A tab running ui-engine's frontend, reduced to its connection behaviour. */
class UiEngineTab {
  readonly received: Received[] = [];
  readonly closes: number[] = [];
  socket: WebSocket | undefined;
  #attempts = 0;
  #stopped = false;
  #nextId = 2;

  constructor(readonly url: string, readonly headers: Record<string, string>) {}

  /** Opens the page: connects and sends `watch 1` (only this once). */
  async start(): Promise<void> {
    await this.#connect();
    this.send([{ type: "watch", data: { varId: 1 } }]);
  }

  /** Creates a binding variable with the next vended id. */
  create(parentId: number, properties: Record<string, string>): number {
    const id = this.#nextId++;
    this.send([{ type: "create", data: { id, parentId, properties } }]);
    return id;
  }

  /** ui-engine's connection drops a message when the socket is not open. */
  send(messages: unknown[]): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(messages));
  }

  /** The last value received for a variable. */
  value(varId: number): unknown {
    return this.received.filter((m) => m.type === "update" && m.data.varId === varId)
      .filter((m) => "value" in m.data).at(-1)?.data.value;
  }

  /** Closes the socket as a network drop would; the tab reconnects on its own. */
  drop(): void {
    this.socket?.close();
  }

  stop(): void {
    this.#stopped = true;
    this.socket?.close();
  }

  #connect(): Promise<void> {
    const socket = openWebSocket(this.url, this.headers);
    this.socket = socket;
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data as string);
      this.received.push(...(Array.isArray(data) ? data : [data]));
    };
    socket.onclose = (event) => {
      this.closes.push(event.code);
      if (this.#stopped || this.#attempts >= 5) return;
      this.#attempts++;
      setTimeout(
        () => !this.#stopped && this.#connect().catch(() => {}),
        RETRY_MS * 2 ** (this.#attempts - 1),
      );
    };
    return new Promise((resolve, reject) => {
      socket.onopen = () => {
        this.#attempts = 0;
        resolve();
      };
      socket.onerror = () => reject(new Error("WebSocket failed"));
    });
  }
}

async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("ui-engine's frontend: a dropped connection continues", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const browser = defaultBrowser(h.server);
    const sid = await browser.newSid();
    const url = `ws://127.0.0.1:${h.server.port}/ws/${sid}`;
    const tab = new UiEngineTab(url, browser.headers());
    try {
      await tab.start();
      const clicks = tab.create(1, { path: "clicks" });
      const click = tab.create(1, { path: "click()", access: "action" });
      tab.send([{ type: "update", data: { varId: click, value: null } }]);
      await until(() => tab.value(clicks) === 1, "the first click");

      await t.step("after a drop the server sends the state again, unasked", async () => {
        const before = tab.received.length;
        tab.drop();
        await until(() => tab.received.length > before, "the resent state");
        assert.equal(tab.closes.length, 1);
        assert.equal(tab.value(clicks), 1);
      });

      await t.step("the old variable ids still work: no re-create needed", async () => {
        tab.send([{ type: "update", data: { varId: click, value: null } }]);
        await until(() => tab.value(clicks) === 2, "the click after the reconnect");
        assert.equal(tab.received.filter((m) => m.type === "error").length, 0);
      });

      await t.step(
        "a re-create with identical properties is a no-op; a different one is not",
        async () => {
          tab.send([{
            type: "create",
            data: { id: clicks, parentId: 1, properties: { path: "clicks" } },
          }]);
          tab.send([{
            type: "create",
            data: { id: click, parentId: 1, properties: { path: "name" } },
          }]);
          await until(() => tab.received.some((m) => m.type === "error"), "the refusal");
          const errors = tab.received.filter((m) => m.type === "error");
          assert.deepEqual(errors.map((m) => [m.data.varId, m.data.code]), [[
            click,
            "duplicate-id",
          ]]);
          tab.send([{ type: "update", data: { varId: click, value: null } }]);
          await until(() => tab.value(clicks) === 3, "the click after the re-create");
        },
      );
    } finally {
      tab.stop();
    }
  });
});

Deno.test("ui-engine's frontend: two tabs on one session stop instead of ping-ponging", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const browser = defaultBrowser(h.server);
    const sid = await browser.newSid();
    const url = `ws://127.0.0.1:${h.server.port}/ws/${sid}`;
    const older = new UiEngineTab(url, browser.headers());
    const newer = new UiEngineTab(url, browser.headers());
    try {
      await older.start();
      const olderClick = older.create(1, { path: "click()", access: "action" });
      await until(() => older.value(1) !== undefined, "the older tab's app");

      await newer.start();
      const clicks = newer.create(1, { path: "clicks" });
      const click = newer.create(1, { path: "click()", access: "action" });

      await t.step("the newer tab takes the session; the older is closed with 4000", async () => {
        await until(() => older.closes.includes(TAKEN_OVER), "the takeover");
        await until(() => newer.value(clicks) !== undefined, "the newer tab's state");
      });

      await t.step("the older tab reconnects but does not take the session back", async () => {
        await sleep(RETRY_MS * 20);
        assert.deepEqual(newer.closes, [], "the newer tab was never closed");
        assert.deepEqual(older.closes, [TAKEN_OVER], "the older tab's reconnect just waits");
      });

      await t.step("a click in the older tab is refused; the newer tab keeps working", async () => {
        older.send([{ type: "update", data: { varId: olderClick, value: null } }]);
        await until(() => older.closes.includes(OPEN_ELSEWHERE), "the refusal");
        const before = Number(newer.value(clicks));
        newer.send([{ type: "update", data: { varId: click, value: null } }]);
        await until(() => newer.value(clicks) === before + 1, "the newer tab's click");
        await sleep(RETRY_MS * 10);
        assert.deepEqual(newer.closes, []);
      });

      await t.step("reloading the older tab (a fresh page) takes the session over", async () => {
        older.stop();
        const reloaded = new UiEngineTab(url, browser.headers());
        try {
          await reloaded.start();
          await until(() => newer.closes.includes(TAKEN_OVER), "the takeover by the reload");
          await until(() => reloaded.value(1) !== undefined, "the reloaded page's app");
        } finally {
          reloaded.stop();
        }
      });
    } finally {
      older.stop();
      newer.stop();
    }
  });
});

Deno.test("ui-engine's frontend: after a restart the server asks the page to render again", async (t) => {
  const dir = await Deno.makeTempDir();
  const config = { dir: fixture("persist_site"), sessionStore: `kv:${dir}/sessions.kv` };
  let server = await startTestServer(config);
  const browser = defaultBrowser(server);
  const sid = await browser.newSid();
  const url = `ws://127.0.0.1:${server.port}/ws/${sid}`;
  const tab = new UiEngineTab(url, browser.headers());
  /** Where variable 1 with an empty type was received first, from `from` on; -1 if not. */
  const blankAt = (from = 0) =>
    tab.received.findIndex((m, i) =>
      i >= from && m.type === "update" && m.data.varId === 1 && m.data.properties?.type === ""
    );
  try {
    await tab.start();
    const count = tab.create(1, { path: "count" });
    const click = tab.create(1, { path: "click()", access: "action" });
    tab.send([{ type: "update", data: { varId: click, value: null } }]);
    await until(() => tab.value(count) === 1, "the first click");
    assert.equal(blankAt(), -1, "a page that starts is not asked to render again");

    await t.step("a reconnect that sends nothing gets variable 1 blank, then in full", async () => {
      const before = tab.received.length;
      await server.shutdown();
      server = await startTestServer({ ...config, port: server.port });
      await until(() => blankAt(before) >= 0, "variable 1 with an empty type", 5000);
      const full = tab.received.findIndex((m, i) =>
        i > blankAt(before) && m.type === "update" && m.data.varId === 1 && m.data.properties?.type
      );
      assert.ok(full > blankAt(before), "then variable 1 with its type");
      assert.ok("value" in tab.received[full]!.data);
    });

    await t.step("the page's new bindings see the state kept by the store", async () => {
      const again = tab.create(1, { path: "count" });
      const clickAgain = tab.create(1, { path: "click()", access: "action" });
      await until(() => tab.value(again) === 1, "the restored count");
      tab.send([{ type: "update", data: { varId: clickAgain, value: null } }]);
      await until(() => tab.value(again) === 2, "a click after the restart");
    });

    await t.step("a first frame that continues is preceded by the request", async () => {
      tab.drop();
      const before = tab.received.length;
      await server.shutdown();
      server = await startTestServer({ ...config, port: server.port });
      await until(() => tab.socket?.readyState === WebSocket.OPEN, "the reconnect", 5000);
      tab.send([{ type: "update", data: { varId: click, value: null } }]);
      const errorAt = () => tab.received.findIndex((m, i) => i >= before && m.type === "error");
      await until(() => errorAt() >= 0, "the refusal of the unknown id", 5000);
      assert.ok(blankAt(before) >= 0 && blankAt(before) < errorAt(), "the request comes first");
    });

    await t.step("a page that starts over after a restart is not asked", async () => {
      const page = new UiEngineTab(url, browser.headers());
      try {
        await page.start();
        await until(() => page.value(1) !== undefined, "the new page's app");
        await sleep(REANNOUNCE_AFTER_MS + 200);
        assert.ok(
          !page.received.some((m) => m.type === "update" && m.data.properties?.type === ""),
        );
      } finally {
        page.stop();
      }
    });
  } finally {
    tab.stop();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
