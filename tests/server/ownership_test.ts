/**
 * Tests for src/server/ownership.ts: sids bound to browser ids, verifiable with the secret
 * alone; cookies read and written.
 */
import assert from "node:assert/strict";
import { SID_PATTERN } from "../../src/session/manager.ts";
import {
  browserCookie,
  browserIdOf,
  createOwnership,
  isHttps,
} from "../../src/server/ownership.ts";

const SECRET = "a secret of at least sixteen characters";

Deno.test("ownership", async (t) => {
  const ownership = createOwnership(SECRET);
  const browser = ownership.newBrowserId();

  await t.step("a minted sid has the manager's shape and belongs to its browser only", async () => {
    const sid = await ownership.mint(browser);
    assert.ok(SID_PATTERN.test(sid), sid);
    assert.notEqual(await ownership.mint(browser), sid);
    assert.equal(await ownership.owns(sid, browser), true);
    assert.equal(await ownership.owns(sid, ownership.newBrowserId()), false);
    assert.equal(await ownership.owns(sid, undefined), false);
    assert.equal(await ownership.owns(sid, "not hex"), false);
  });

  await t.step(
    "another instance with the same secret agrees; another secret does not",
    async () => {
      const sid = await ownership.mint(browser);
      assert.equal(await createOwnership(SECRET).owns(sid, browser), true);
      assert.equal(await createOwnership(`${SECRET}!`).owns(sid, browser), false);
    },
  );

  await t.step("any changed digit breaks the tag", async () => {
    const sid = await ownership.mint(browser);
    for (const at of [0, 15, 16, 31]) {
      const digit = sid[at] === "a" ? "b" : "a";
      const changed = sid.slice(0, at) + digit + sid.slice(at + 1);
      assert.equal(await ownership.owns(changed, browser), false, changed);
    }
  });

  await t.step("cookies: written HttpOnly/Lax, Secure with __Host- over https", () => {
    const id = "0123456789abcdef0123456789abcdef";
    assert.equal(browserCookie(id, false), `ui_browser=${id}; Path=/; HttpOnly; SameSite=Lax`);
    assert.equal(
      browserCookie(id, true),
      `__Host-ui_browser=${id}; Path=/; HttpOnly; SameSite=Lax; Secure`,
    );
    const request = (cookie: string, proto?: string) =>
      new Request("http://a/", {
        headers: proto ? { cookie, "x-forwarded-proto": proto } : { cookie },
      });
    assert.equal(browserIdOf(request(`x=1; ui_browser=${id}`)), id);
    assert.equal(browserIdOf(request(`ui_browser=${id}`, "https")), undefined);
    assert.equal(browserIdOf(request(`__Host-ui_browser=${id}`, "https")), id);
    assert.equal(browserIdOf(request("ui_browser=zz")), undefined);
    assert.equal(isHttps(request("", "https")), true);
    assert.equal(isHttps(new Request("https://a/")), true);
    assert.equal(isHttps(new Request("http://a/")), false);
  });
});
