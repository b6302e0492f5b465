/**
 * Production errors: by default a `lua-error` reaches the browser as its message with a short
 * reference, without the traceback or file positions, and the log has everything under the same
 * reference; `--dev` (as `deno task dev` runs) sends the full description. Real server, real
 * sockets, a capturing logger.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { publicDescription, reportLuaErrors } from "../../src/session/lua_errors.ts";
import { emptyOutgoing } from "../../src/protocol/outgoing.ts";
import { create, startTestServer, TestClient, update, watch } from "../support/ws_client.ts";

const LOG_SITE = new URL("./fixtures/log_site", import.meta.url).pathname;
const FAILING_MAIN = new URL("./fixtures/failing_main", import.meta.url).pathname;

/** Runs the fixture's failing action and returns the error sent and the log lines. */
async function failingAction(dev: boolean, dir = LOG_SITE) {
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (line) => lines.push(line) });
  const server = await startTestServer({ dir, dev }, { log });
  const client = await TestClient.connect(server);
  try {
    const opened = await client.exchange([
      watch(1),
      create(2, 1, { path: "fail()", access: "action" }),
    ]);
    const answer = await client.exchange([update(2, true)]);
    const errors = [...opened, ...answer].filter((m) => m.type === "error").map((m) => m.data);
    return { errors, lines };
  } finally {
    await client.close();
    await server.shutdown();
  }
}

Deno.test("Lua errors in production and in development", async (t) => {
  await t.step("production: the message and a reference, no traceback or file", async () => {
    const { errors, lines } = await failingAction(false);
    assert.equal(errors.length, 1);
    const sent = errors[0];
    assert.equal(sent.code, "lua-error");
    assert.equal(sent.varId, 2);
    const match = /^action failed on purpose \(reference ([0-9a-f]{8})\)$/.exec(sent.description);
    assert.ok(match, sent.description);
    assert.ok(!/traceback|\.lua|main/.test(sent.description));
    // The log line with the same reference has the whole story.
    const logged = lines.filter((line) => line.includes(`(reference ${match[1]})`));
    assert.equal(logged.length, 1, lines.join("\n"));
    assert.match(logged[0] as string, /^ERROR .* Lua error \(lua-error\) in variable 2: /);
    assert.match(logged[0] as string, /lua\/main\.lua:11: action failed on purpose/);
    assert.match(logged[0] as string, /stack traceback:/);
  });

  await t.step("development (--dev): the full description, as before", async () => {
    const { errors: all, lines } = await failingAction(true);
    // Development also reports that the fixture's app type has no viewdef.
    assert.ok(all.some((error) => /No viewdef for type LogApp/.test(error.description)));
    const errors = all.filter((error) => error.varId === 2);
    assert.equal(errors.length, 1);
    assert.match(errors[0].description, /^lua\/main\.lua:11: action failed on purpose/);
    assert.match(errors[0].description, /stack traceback:/);
    assert.ok(lines.some((line) => /Lua error \(lua-error\) in variable 2: lua\/main/.test(line)));
    assert.ok(!lines.some((line) => line.includes("(reference ")));
  });

  await t.step("a failing main.lua: the same rule for the startup error", async () => {
    const { errors, lines } = await failingAction(false, FAILING_MAIN);
    const startup = errors.find((error) => error.varId === undefined);
    assert.ok(startup, JSON.stringify(errors));
    assert.match(startup.description, /startup failed on purpose \(reference [0-9a-f]{8}\)$/);
    assert.ok(!startup.description.includes("main.lua"));
    const reference = /reference ([0-9a-f]{8})/.exec(startup.description)?.[1];
    assert.ok(lines.some((line) => line.includes(`(reference ${reference})`)));
  });
});

Deno.test("publicDescription and reportLuaErrors", async (t) => {
  await t.step("positions of every chunk form are removed, the traceback dropped", () => {
    assert.equal(
      publicDescription("lua/a/b.lua:3: lua/c.lua:9: nope\nstack traceback:\n\t[C]: in ?", "r"),
      "nope (reference r)",
    );
    assert.equal(publicDescription('[string "x = 1"]:1: bad', "r"), "bad (reference r)");
    assert.equal(publicDescription("inline:2: oops\nsecond line", "r"), "oops (reference r)");
    assert.equal(publicDescription("", "r"), "Lua error (reference r)");
    // Text that only looks like a time is not a position.
    assert.equal(publicDescription("due at 10:30", "r"), "due at 10:30 (reference r)");
  });

  await t.step("other codes pass unchanged; each Lua error gets its own reference", () => {
    const out = emptyOutgoing();
    out.errors.push(
      { varId: 3, code: "bad-access", description: "Variable 3 is read-only" },
      { varId: 4, code: "lua-error", description: "lua/x.lua:1: a" },
      { code: "lua-timeout", description: "Lua ran too long" },
    );
    const lines: string[] = [];
    reportLuaErrors(createLogger({ level: "info", write: (l) => lines.push(l) }), out, false);
    assert.equal(out.errors[0]?.description, "Variable 3 is read-only");
    assert.match(out.errors[1]?.description ?? "", /^a \(reference [0-9a-f]{8}\)$/);
    assert.match(out.errors[2]?.description ?? "", /^Lua ran too long \(reference [0-9a-f]{8}\)$/);
    assert.notEqual(out.errors[1]?.description.slice(-9), out.errors[2]?.description.slice(-9));
    assert.equal(lines.length, 2);
  });
});
