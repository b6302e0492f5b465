/**
 * Logs: one line per event with level, time, the session's vended id and the message; Lua's
 * `print`, `ui.log` and `session:log` land there; session life and Lua errors are logged with
 * enough to find the cause. Real server, real sockets, a capturing logger.
 */
import assert from "node:assert/strict";
import type { LogLevel } from "../../src/config.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { create, startTestServer, TestClient, update } from "../support/ws_client.ts";
import { spawnMain } from "./process.ts";

const LOG_SITE = new URL("./fixtures/log_site", import.meta.url).pathname;
const FAILING_MAIN = new URL("./fixtures/failing_main", import.meta.url).pathname;
const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

interface Captured {
  log: Logger;
  lines: { line: string; level: LogLevel }[];
  /** The line matching a pattern; fails when there is none. */
  find(pattern: RegExp): string;
  has(pattern: RegExp): boolean;
}

function capture(level: LogLevel): Captured {
  const lines: { line: string; level: LogLevel }[] = [];
  const log = createLogger({ level, write: (line, level) => lines.push({ line, level }) });
  const has = (pattern: RegExp) => lines.some(({ line }) => pattern.test(line));
  const find = (pattern: RegExp) => {
    const found = lines.find(({ line }) => pattern.test(line));
    assert.ok(found, `no log line matches ${pattern}:\n${lines.map((l) => l.line).join("\n")}`);
    return found.line;
  };
  return { log, lines, find, has };
}

/** Waits until a log line matches (the server logs some events after answering). */
async function eventually(logs: Captured, pattern: RegExp, ms = 2000): Promise<string> {
  const deadline = Date.now() + ms;
  while (!logs.has(pattern) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return logs.find(pattern);
}

Deno.test("session life and Lua output are logged", async (t) => {
  const logs = capture("debug");
  const server = await startTestServer({ dir: LOG_SITE, sessionTimeoutMs: 50 }, { log: logs.log });
  try {
    const client = await TestClient.connect(server);
    await client.request([{ type: "watch", data: { varId: 1 } }]);

    await t.step("a line is LEVEL, ISO time, [session N], message", () => {
      const line = logs.find(/Session created/);
      assert.match(line, new RegExp(`^INFO ${TIME} \\[session 1\\] Session created$`));
      assert.match(logs.find(/Connected$/), new RegExp(`^INFO ${TIME} \\[session 1\\] Connected$`));
    });

    await t.step("the server's own lines carry no session tag", () => {
      assert.match(logs.find(/Serving /), new RegExp(`^INFO ${TIME} Serving \\S+ on http://`));
    });

    await t.step("print goes to the log at info, tagged with the session", () => {
      assert.match(
        logs.find(/hello from main/),
        /^INFO .* \[session 1\] lua: hello from main\t42$/,
      );
    });

    await t.step("ui.log and session:log keep their levels", () => {
      assert.match(logs.find(/ui\.log warning/), /^WARN .* \[session 1\] lua: ui\.log warning$/);
      assert.match(logs.find(/session:log detail/), /^DEBUG .* \[session 1\] lua: session:log/);
      assert.match(logs.find(/plain info/), /^INFO .* \[session 1\] lua: plain info$/);
      const warn = logs.lines.find(({ line }) => line.includes("ui.log warning"));
      assert.equal(warn?.level, "warn");
    });

    await t.step("a line break that Lua prints cannot forge a line", async () => {
      // An action variable has no value to send: nothing answers its creation.
      client.send([create(2, 1, { path: "shout()", access: "action" }), update(2, true)]);
      const line = await eventually(logs, /lua: shout/);
      assert.ok(line.includes("shout\\nINFO 2000-01-01T00:00:00.000Z forged line"));
      assert.ok(!logs.has(/^INFO 2000-01-01/));
      for (const { line } of logs.lines) assert.ok(!line.includes("\n"), line);
    });

    await t.step("closing the connection and the session's expiry are logged", async () => {
      await client.close();
      assert.match(
        await eventually(logs, /Connection closed/),
        /\[session 1\] Connection closed(; variables kept)?$/,
      );
      assert.match(await eventually(logs, /Session expired/), /\[session 1\] Session expired$/);
    });
  } finally {
    await server.shutdown();
  }
  assert.ok(logs.has(/Shutting down: 0 connections, 0 sessions/));
});

Deno.test("Lua errors are logged with the cause", async (t) => {
  const logs = capture("info");
  const server = await startTestServer({ dir: LOG_SITE, instructionBudget: 200_000 }, {
    log: logs.log,
  });
  const client = await TestClient.connect(server);
  try {
    await client.request([{ type: "watch", data: { varId: 1 } }]);
    client.send([
      create(2, 1, { path: "fail()", access: "action" }),
      create(3, 1, { path: "spin()", access: "action" }),
    ]);
    await client.quiet(50);

    await t.step("a failing action: level, session, variable, message and traceback", async () => {
      const answer = await client.request([update(2, true)]);
      const error = answer.find((m) => m.type === "error");
      assert.equal(error?.data.code, "lua-error");
      const line = logs.find(/action failed on purpose/);
      assert.match(line, /^ERROR .* \[session 1\] Lua error \(lua-error\) in variable 2: /);
      assert.match(line, /lua\/main\.lua:11: action failed on purpose/);
      assert.match(line, /\\nstack traceback:/);
      assert.ok(!line.includes("\n"));
    });

    await t.step("a runaway action is logged as lua-timeout", async () => {
      const answer = await client.request([update(3, true)], true, 10_000);
      assert.ok(answer.some((m) => m.type === "error" && m.data.code === "lua-timeout"));
      assert.match(
        logs.find(/lua-timeout/),
        /^ERROR .* \[session 1\] Lua error \(lua-timeout\) in variable 3: /,
      );
    });

    await t.step("debug lines are dropped at level info", () => {
      assert.ok(logs.has(/ui\.log warning/));
      assert.ok(!logs.has(/session:log detail/));
      assert.ok(!logs.has(/^DEBUG /));
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("a failing main.lua is logged and sent", async (t) => {
  const logs = capture("warn");
  const server = await startTestServer({ dir: FAILING_MAIN }, { log: logs.log });
  const client = await TestClient.connect(server);
  try {
    const answer = await client.request([{ type: "watch", data: { varId: 1 } }]);

    await t.step("the log names the session, the file, the line and the message", () => {
      const line = logs.find(/startup failed on purpose/);
      assert.match(line, /^ERROR .* \[session 1\] main\.lua failed: /);
      assert.match(line, /lua\/main\.lua:7: startup failed on purpose/);
    });

    await t.step("the client gets the same as lua-error and the session goes on", () => {
      const error = answer.find((m) => m.type === "error");
      assert.equal(error?.data.code, "lua-error");
      assert.match(error?.data.description, /startup failed on purpose/);
      assert.ok(answer.some((m) => m.type === "update" && m.data.varId === 1));
    });

    await t.step("info lines are dropped at level warn", () => {
      assert.ok(!logs.has(/Session created/));
      assert.ok(!logs.has(/^INFO /));
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("main.ts -v logs debug lines; the default level does not", async (t) => {
  for (const [args, expected] of [[["-v"], true], [[], false]] as const) {
    await t.step(
      `${args.join(" ") || "no flag"}: debug lines ${expected ? "on" : "off"}`,
      async () => {
        const server = await spawnMain([...args]);
        try {
          const response = await fetch(`http://127.0.0.1:${server.port}/healthz`);
          await response.body?.cancel();
          server.child.kill("SIGTERM");
          await server.status;
          assert.equal(server.lines.some((line) => /^DEBUG .* Options: \{/.test(line)), expected);
          assert.ok(server.lines.some((line) => /^INFO .* Server stopped$/.test(line)));
        } finally {
          await server.stop();
        }
      },
    );
  }
});
