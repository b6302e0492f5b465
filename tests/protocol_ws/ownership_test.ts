/**
 * Bound sessions and the Origin check over real sockets: only the browser that was given a
 * session reaches it, a planted or forged sid leads elsewhere, and a refused upgrade never
 * touches the session manager.
 */
import assert from "node:assert/strict";
import { SECURE_BROWSER_COOKIE } from "../../src/server/ownership.ts";
import { create, TestBrowser, TestClient, update, watch } from "../support/ws_client.ts";
import { valueOf, withHarness } from "./helpers.ts";

const SITE = "protocol_site";

/** A WebSocket upgrade written by hand, so that any header (Origin too) goes as given. */
async function rawUpgrade(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; head: string; conn: Deno.TcpConn }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    "",
    "",
  ];
  await conn.write(new TextEncoder().encode(lines.join("\r\n")));
  const buffer = new Uint8Array(8192);
  const read = await conn.read(buffer);
  const head = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, head, conn };
}

/** The status of a hand-written upgrade; the connection is closed. */
async function upgradeStatus(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const { status, conn } = await rawUpgrade(port, path, headers);
  conn.close();
  return status;
}

Deno.test("ownership: a session belongs to the browser it was minted for", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const port = h.server.port;
    const victim = new TestBrowser(port);
    const attacker = new TestBrowser(port);

    await t.step("GET / sets an HttpOnly, SameSite=Lax cookie once and redirects", async () => {
      const first = await victim.get("/");
      await first.body?.cancel();
      const cookie = first.headers.get("set-cookie") ?? "";
      assert.match(cookie, /^ui_browser=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
      assert.equal(first.headers.get("cache-control"), "no-store");
      const again = await victim.get("/");
      await again.body?.cancel();
      assert.equal(again.status, 307);
      assert.equal(again.headers.get("set-cookie"), null, "a browser keeps its id");
    });

    await t.step("behind https the cookie is Secure with the __Host- prefix", async () => {
      const response = await fetch(`${h.url}/`, {
        redirect: "manual",
        headers: { "x-forwarded-proto": "https" },
      });
      await response.body?.cancel();
      const cookie = response.headers.get("set-cookie") ?? "";
      assert.ok(cookie.startsWith(`${SECURE_BROWSER_COOKIE}=`), cookie);
      assert.match(cookie, /; Secure$/);
    });

    await t.step("a planted sid: the victim gets a fresh session of its own", async () => {
      const planted = await attacker.newSid();
      const opened = await victim.get(`/${planted}/contacts?x=1`);
      await opened.body?.cancel();
      assert.equal(opened.status, 307);
      const location = opened.headers.get("location") ?? "";
      const fresh = /^\/([0-9a-f]{32})\/contacts\?x=1$/.exec(location)?.[1];
      assert.ok(fresh, location);
      assert.notEqual(fresh, planted);
      const page = await victim.get(location);
      await page.body?.cancel();
      assert.equal(page.status, 200);
      assert.equal(page.headers.get("cache-control"), "no-store");

      // The victim works in its own session; the attacker cannot reach it.
      const sessions = h.server.manager.sessionCount;
      const own = await TestClient.connect(h.server, fresh, { browser: victim });
      h.clients.push(own);
      await own.exchange([watch(1)]);
      await own.exchange([create(2, 1, { path: "name" })]);
      await own.exchange([update(2, "Victim Private")]);
      assert.equal(h.server.manager.sessionCount, sessions + 1);
      const cookie = `${attacker.cookie}`;
      assert.equal(await upgradeStatus(port, `/ws/${fresh}`, { cookie }), 403);
      assert.equal(await upgradeStatus(port, `/ws/${fresh}`), 403);
      await assert.rejects(TestClient.connect(h.server, fresh, { browser: attacker }));
      assert.equal(h.server.manager.sessionCount, sessions + 1);
      assert.equal(h.server.manager.connectionCount, 1);
      const check = await own.exchange([create(3, 1, { path: "name" })]);
      assert.equal(valueOf(check, 3), "Victim Private");
    });

    await t.step("the planted sid's socket needs the attacker's own cookie", async () => {
      const planted = await attacker.newSid();
      assert.equal(
        await upgradeStatus(port, `/ws/${planted}`, { cookie: `${victim.cookie}` }),
        403,
      );
      assert.equal(h.server.manager.session(planted), undefined);
    });

    await t.step("a forged or altered sid is refused and never makes a session", async () => {
      const real = await victim.newSid();
      const flipped = real.slice(0, 31) + (real[31] === "0" ? "1" : "0");
      const forged = [flipped, "0".repeat(32), real.slice(16) + real.slice(0, 16)];
      const cookie = `${victim.cookie}`;
      for (const sid of forged) {
        assert.equal(await upgradeStatus(port, `/ws/${sid}`, { cookie }), 403, sid);
        assert.equal(h.server.manager.session(sid), undefined);
        const page = await victim.get(`/${sid}`);
        await page.body?.cancel();
        assert.equal(page.status, 307, sid);
      }
      const junk = await upgradeStatus(port, `/ws/${real}`, { cookie: "ui_browser=../../etc" });
      assert.equal(junk, 403);
      assert.equal(await upgradeStatus(port, `/ws/${real}`, { cookie }), 101);
    });
  });
});

Deno.test("origin: the upgrade is refused from a foreign page", async (t) => {
  const allowed = "https://partner.example";
  await withHarness(SITE, { allowedOrigins: [allowed] }, async (h) => {
    const port = h.server.port;
    const browser = new TestBrowser(port);
    const sid = await browser.newSid();
    const cookie = `${browser.cookie}`;

    await t.step("a foreign Origin or Origin: null with the owner's cookie gets 403", async () => {
      for (const origin of ["https://evil.example", "null", "http://127.0.0.1.evil.example"]) {
        assert.equal(await upgradeStatus(port, `/ws/${sid}`, { cookie, origin }), 403, origin);
      }
      assert.equal(h.server.manager.session(sid), undefined);
      assert.equal(h.server.manager.sessionCount, 0);
    });

    await t.step(
      "the server's own origin, an allowed one, or none at all is accepted",
      async () => {
        for (const origin of [`http://127.0.0.1:${port}`, allowed, undefined]) {
          const headers: Record<string, string> = origin ? { cookie, origin } : { cookie };
          const client = await TestClient.connect(h.server, sid, { headers });
          h.clients.push(client);
          const answer = await client.exchange([watch(1)]);
          assert.ok(answer.some((m) => m.type === "update" && m.data.varId === 1), origin);
        }
      },
    );

    await t.step("behind a proxy the origin's scheme follows X-Forwarded-Proto", async () => {
      const headers = { cookie, origin: `https://127.0.0.1:${port}`, "x-forwarded-proto": "http" };
      assert.equal(await upgradeStatus(port, `/ws/${sid}`, headers), 403);
    });
  });
});

Deno.test("protocol hygiene: an unmasked client frame harms nothing", async (t) => {
  await withHarness(SITE, {}, async (h) => {
    const other = await h.open();
    const browser = new TestBrowser(h.server.port);
    const sid = await browser.newSid();
    const { status, conn } = await rawUpgrade(h.server.port, `/ws/${sid}`, {
      cookie: `${browser.cookie}`,
    });
    try {
      assert.equal(status, 101);
      await t.step("the raw connection is closed or answered, never left broken", async () => {
        const text = JSON.stringify({ userEvent: true, messages: [watch(1)] });
        const payload = new TextEncoder().encode(text);
        // FIN + text opcode, mask bit clear: RFC 6455 says clients must mask every frame.
        await conn.write(new Uint8Array([0x81, payload.length, ...payload]));
        const outcome = await readOutcome(conn);
        // Deno's server accepts unmasked frames (README, "Known limits"): either outcome is fine
        // as long as the server is unharmed.
        assert.ok(outcome === "closed" || outcome.includes('"varId":1'), outcome);
      });
      await t.step("the process and other sessions are fine", async () => {
        const answer = await other.client.exchange([create(2, 1, { path: "name" })]);
        assert.equal(valueOf(answer, 2), "Ada");
        const health = await fetch(`${h.url}/healthz`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
      });
    } finally {
      conn.close();
    }
  });
});

/** Reads until the server closes the connection or sends a text frame (then its text). */
async function readOutcome(conn: Deno.TcpConn): Promise<string> {
  const buffer = new Uint8Array(65536);
  let received = new Uint8Array();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return "closed";
    const joined = new Uint8Array(received.length + n);
    joined.set(received);
    joined.set(buffer.subarray(0, n), received.length);
    received = joined;
    // Pings may come first; the answer to `watch 1` names variable 1.
    const text = new TextDecoder().decode(received);
    if (text.includes('"varId":1')) return text;
  }
  throw new Error("Neither an answer nor a close within 5 s");
}
