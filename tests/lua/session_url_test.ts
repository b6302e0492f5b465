/**
 * Tests for src/lua/session_url.ts and the url/navigate/title functions of the `session` table:
 * `session.url` follows the `url` property of variable 1, `session:navigate` and
 * `session:setTitle` set the properties the client follows.
 */
import assert from "node:assert/strict";
import { inlineSession } from "../support/session_harness.ts";
import { normalizePageUrl, parsePageUrl } from "../../src/lua/session_url.ts";
import { parseMessage } from "../../src/protocol/messages.ts";
import { encodeFrame } from "../../src/protocol/outgoing.ts";
import type { LuaSession } from "../../src/session/lua_session.ts";

const MAIN = `
seen = {}
session:setTitle("Early")
session:createAppVariable({type = "App"})
session:watchProperty(1, "url", function(value)
  seen[#seen + 1] = value .. " " .. session.url.path
end)
`;

function makeSession(): LuaSession {
  return inlineSession(MAIN, { instructionBudget: 1_000_000, openPaths: false });
}

Deno.test("page addresses", async (t) => {
  await t.step("parsePageUrl splits path and query, decoded", () => {
    assert.deepEqual(parsePageUrl("/contacts/42?tab=notes&flag&q=a%20b"), {
      path: "/contacts/42",
      query: { tab: "notes", flag: "", q: "a b" },
    });
    assert.deepEqual(parsePageUrl(""), { path: "/", query: {} });
    assert.deepEqual(parsePageUrl("/caf%C3%A9"), { path: "/café", query: {} });
    assert.deepEqual(parsePageUrl("/bad%E0"), { path: "/bad%E0", query: {} });
  });
  await t.step("normalizePageUrl adds the slash and refuses other sites", () => {
    assert.equal(normalizePageUrl("contacts/3"), "/contacts/3");
    assert.throws(() => normalizePageUrl("https://elsewhere.example/"), /path below the session/);
    assert.throws(() => normalizePageUrl("//elsewhere.example/"), /path below the session/);
    assert.throws(() => normalizePageUrl("/a\nb"), /control characters/);
  });
});

Deno.test("session.url, session:navigate and session:setTitle", async (t) => {
  const session = makeSession();
  const run = (code: string) => {
    const result = session.evaluate(code);
    if (!result.ok) assert.fail(result.failure.description);
    return result.value;
  };
  try {
    await t.step("session.url starts at /", () => {
      assert.deepEqual(run("return session.url.path, next(session.url.query)"), ["/", null]);
    });
    await t.step("a title set before the app variable reaches it", () => {
      assert.equal(session.variable(1)?.properties.get("title"), "Early");
    });
    await t.step("the browser's address reaches session.url, then the watchers", async () => {
      const out = await session.handleFrame({
        userEvent: false,
        items: [
          parseMessage({ type: "watch", data: { varId: 1 } }),
          parseMessage({ type: "update", data: { varId: 1, properties: { url: "/a/b?x=1" } } }),
        ],
      });
      assert.deepEqual(run("return session.url.path, session.url.query.x, seen[1]"), [
        "/a/b",
        "1",
        "/a/b?x=1 /a/b",
      ]);
      // The client's own value is not echoed back to it, but the title is sent on watch.
      const frame = JSON.parse(encodeFrame(out));
      const update = frame.find((m: { type: string }) => m.type === "update");
      assert.equal(update.data.properties.title, "Early");
    });
    await t.step("navigate sets session.url and the url property, without the watchers", () => {
      run(`session:navigate("contacts/9?tab=x"); session:setTitle("Nine")`);
      assert.deepEqual(run("return session.url.path, session.url.query.tab, #seen"), [
        "/contacts/9",
        "x",
        1,
      ]);
      const properties = session.variable(1)?.properties;
      assert.equal(properties?.get("url"), "/contacts/9?tab=x");
      assert.equal(properties?.get("title"), "Nine");
      const out = session.afterBatch();
      const frame = JSON.parse(encodeFrame(out));
      assert.deepEqual(frame[0].data.properties, { url: "/contacts/9?tab=x", title: "Nine" });
    });
    await t.step("navigate refuses another site", () => {
      const result = session.evaluate(`session:navigate("https://evil.example/")`);
      assert.equal(result.ok, false);
    });
  } finally {
    session.shutdown();
  }
});
