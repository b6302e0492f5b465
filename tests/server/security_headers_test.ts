/**
 * The security headers on every kind of response of a real server: the app page, the redirect,
 * a static file of the site, the built-in client's script, a 404; and `--csp` replacing the
 * policy.
 */
import assert from "node:assert/strict";
import { defaultPolicy } from "../../src/server/security_headers.ts";
import { templateScriptHashes } from "../../src/server/script_hashes.ts";
import { ViewdefStore } from "../../src/viewdefs/store.ts";
import { fixture, startTestServer, TestBrowser } from "../support/ws_client.ts";

function assertHeaders(headers: Headers, what: string, policy?: string): void {
  const csp = headers.get("content-security-policy") ?? "";
  if (policy) assert.equal(csp, policy, what);
  else {
    assert.match(csp, /(^|; )script-src 'self'/, what);
    assert.match(csp, /(^|; )object-src 'none'/, what);
    assert.doesNotMatch(csp, /unsafe-eval|script-src[^;]*unsafe-inline/, what);
  }
  assert.match(csp, /(^|; )frame-ancestors 'self'(;|$)/, what);
  assert.equal(headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(headers.get("x-frame-options"), "SAMEORIGIN", what);
  assert.equal(headers.get("referrer-policy"), "same-origin", what);
}

Deno.test("security headers on every response", async (t) => {
  const server = await startTestServer({ dir: fixture("protocol_site") });
  const browser = new TestBrowser(server.port);
  const check = async (path: string, status: number) => {
    const response = await browser.get(path);
    await response.body?.cancel();
    assert.equal(response.status, status, path);
    assertHeaders(response.headers, path);
  };
  try {
    await t.step("/ (the redirect) and /<sid> (the page)", async () => {
      await check("/", 307);
      await check(`/${await browser.newSid()}`, 200);
      await check("/0123456789abcdef0123456789abcdef", 307);
    });
    await t.step("a static file, the client script and stylesheet, a 404, /healthz", async () => {
      await check("/app.js", 200);
      await check("/css/site.css", 200);
      await check("/ui-engine-client.js", 200);
      await check("/ui-engine-client.css", 200);
      await check("/missing.txt", 404);
      await check("/healthz", 200);
    });
  } finally {
    await server.shutdown();
  }

  await t.step("--csp replaces the policy; the other headers stay", async () => {
    const policy = "default-src 'self' 'unsafe-inline'; frame-ancestors 'self'";
    const relaxed = await startTestServer({ dir: fixture("protocol_site"), csp: policy });
    try {
      const other = new TestBrowser(relaxed.port);
      const response = await other.get(`/${await other.newSid()}`);
      await response.body?.cancel();
      assertHeaders(response.headers, "--csp page", policy);
    } finally {
      await relaxed.shutdown();
    }
  });
});

Deno.test("templates' inline scripts are allowed by hash, and only they", async (t) => {
  const body = "window.ran = true;\r\n";
  const store = new ViewdefStore(
    new Map([
      ["A.DEFAULT", `<template><div><script>${body}</script></div></template>`],
      ["B.DEFAULT", `<template><script src="/b.js"></script><p>b</p></template>`],
    ]),
  );
  const hashes = templateScriptHashes(store);
  await t.step(
    "one sha256 source per inline script, over the text as the browser sees it",
    async () => {
      const digest = await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode("window.ran = true;\n"),
      );
      const expected = `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
      assert.deepEqual(await hashes(), [expected]);
      assert.match(defaultPolicy(await hashes()), new RegExp(`script-src 'self' ${expected};`));
    },
  );
  await t.step("recomputed when the templates change", async () => {
    store.set("A.DEFAULT", "<template><p>no script</p></template>");
    assert.deepEqual(await hashes(), []);
  });
});
