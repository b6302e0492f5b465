/**
 * Tests for src/server/app.ts: the client address that new sessions are rate-limited by.
 * (The routes themselves are tested over real sockets in tests/protocol_ws/.)
 */
import assert from "node:assert/strict";
import { clientAddress } from "../../src/server/app.ts";

function info(hostname: string): Deno.ServeHandlerInfo {
  return {
    remoteAddr: { transport: "tcp", hostname, port: 40000 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
}

Deno.test("clientAddress", async (t) => {
  const forwarded = new Request("http://x/", {
    headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.9" },
  });
  await t.step("is the socket's peer by default, whatever X-Forwarded-For says", () => {
    assert.equal(clientAddress(forwarded, info("192.0.2.5"), false), "192.0.2.5");
  });
  await t.step("behind a trusted proxy, the entry that proxy added (the last)", () => {
    assert.equal(clientAddress(forwarded, info("10.0.0.1"), true), "203.0.113.9");
  });
  await t.step("behind a trusted proxy without the header, the peer", () => {
    assert.equal(clientAddress(new Request("http://x/"), info("10.0.0.1"), true), "10.0.0.1");
  });
  await t.step("nothing known gives undefined (no rate limit)", () => {
    assert.equal(clientAddress(new Request("http://x/"), undefined, false), undefined);
  });
});
