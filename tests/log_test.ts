/**
 * Tests for src/log.ts: one line per event with level, time, session tag and message.
 */
import assert from "node:assert/strict";
import type { LogLevel } from "../src/config.ts";
import { createLogger, oneLine, silentLogger } from "../src/log.ts";

const FIXED = new Date("2026-01-02T03:04:05.678Z");

function capture(level: LogLevel) {
  const lines: [string, LogLevel][] = [];
  const log = createLogger({
    level,
    write: (line, at) => lines.push([line, at]),
    now: () => FIXED,
  });
  return { log, lines };
}

Deno.test("createLogger", async (t) => {
  await t.step("the line format: LEVEL TIME message", () => {
    const { log, lines } = capture("debug");
    log.info("Server started");
    assert.deepEqual(lines, [["INFO 2026-01-02T03:04:05.678Z Server started", "info"]]);
  });
  await t.step("each level names itself and is passed to the writer", () => {
    const { log, lines } = capture("debug");
    log.error("e");
    log.warn("w");
    log.info("i");
    log.debug("d");
    assert.deepEqual(lines.map(([line, level]) => [line.split(" ")[0], level]), [
      ["ERROR", "error"],
      ["WARN", "warn"],
      ["INFO", "info"],
      ["DEBUG", "debug"],
    ]);
  });
  await t.step("lines below the level are dropped", () => {
    const cases: [LogLevel, string[]][] = [
      ["error", ["ERROR"]],
      ["warn", ["ERROR", "WARN"]],
      ["info", ["ERROR", "WARN", "INFO"]],
      ["debug", ["ERROR", "WARN", "INFO", "DEBUG"]],
    ];
    for (const [level, expected] of cases) {
      const { log, lines } = capture(level);
      log.error("x");
      log.warn("x");
      log.info("x");
      log.debug("x");
      assert.deepEqual(lines.map(([line]) => line.split(" ")[0]), expected, level);
    }
  });
  await t.step("a session logger tags its lines with the vended id", () => {
    const { log, lines } = capture("info");
    log.forSession("7").warn("Slow frame");
    assert.deepEqual(lines[0]?.[0], "WARN 2026-01-02T03:04:05.678Z [session 7] Slow frame");
  });
  await t.step("a session logger keeps the level", () => {
    const { log, lines } = capture("warn");
    const session = log.forSession("2");
    session.info("dropped");
    session.error("kept");
    assert.equal(lines.length, 1);
  });
  await t.step("forSession of a session logger names the new session only", () => {
    const { log, lines } = capture("info");
    log.forSession("1").forSession("2").info("x");
    assert.match(lines[0]?.[0] ?? "", /\[session 2\] x$/);
    assert.ok(!(lines[0]?.[0] ?? "").includes("session 1"));
  });
  await t.step("line breaks in a message stay on one line", () => {
    const { log, lines } = capture("info");
    log.info("boom\nstack traceback:\n\tat x");
    assert.equal(lines.length, 1);
    assert.ok(!(lines[0]?.[0] ?? "").includes("\n"));
    assert.match(lines[0]?.[0] ?? "", /boom\\nstack traceback:\\n\tat x$/);
  });
  await t.step("a message cannot forge another log line", () => {
    const { log, lines } = capture("info");
    log.forSession("1").info("ok\nERROR 2026-01-01T00:00:00.000Z [session 2] forged");
    assert.equal(lines.length, 1);
    assert.equal((lines[0]?.[0] ?? "").split("\n").length, 1);
  });
  await t.step("the clock is read for every line", () => {
    let tick = 0;
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      write: (line) => lines.push(line),
      now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)),
    });
    log.info("a");
    log.info("b");
    assert.match(lines[0] ?? "", /T00:00:00\.000Z a$/);
    assert.match(lines[1] ?? "", /T00:00:01\.000Z b$/);
  });
});

Deno.test("oneLine", async (t) => {
  await t.step("escapes line breaks and control characters", () => {
    assert.equal(oneLine("a\nb"), "a\\nb");
    assert.equal(oneLine("a\r\nb"), "a\\r\\nb");
    assert.equal(oneLine("\u001b[31mred"), "\\u001b[31mred");
    assert.equal(oneLine("x\u0000y"), "x\\u0000y");
    assert.equal(oneLine("p\u2028q\u2029r"), "p\\u2028q\\u2029r");
    assert.equal(oneLine("del\u007f"), "del\\u007f");
  });
  await t.step("keeps tabs and ordinary text", () => {
    assert.equal(oneLine("a\tb"), "a\tb");
    assert.equal(oneLine("héllo wörld ✓"), "héllo wörld ✓");
  });
});

Deno.test("silentLogger writes nothing, also through session loggers", () => {
  const calls: unknown[] = [];
  const saved = {
    error: console.error,
    warn: console.warn,
    info: console.info,
    debug: console.debug,
  };
  const record = (...args: unknown[]) => calls.push(args);
  Object.assign(console, { error: record, warn: record, info: record, debug: record });
  try {
    silentLogger.error("nothing");
    silentLogger.warn("nothing");
    const session = silentLogger.forSession("1");
    session.info("nothing");
    session.debug("nothing");
  } finally {
    Object.assign(console, saved);
  }
  assert.deepEqual(calls, []);
});

Deno.test("the default writer uses the console method of each level", () => {
  const calls: [string, unknown][] = [];
  const saved = {
    error: console.error,
    warn: console.warn,
    info: console.info,
    debug: console.debug,
  };
  Object.assign(console, {
    error: (line: unknown) => calls.push(["error", line]),
    warn: (line: unknown) => calls.push(["warn", line]),
    info: (line: unknown) => calls.push(["info", line]),
    debug: (line: unknown) => calls.push(["debug", line]),
  });
  try {
    const log = createLogger({ level: "debug", now: () => FIXED });
    log.error("e");
    log.warn("w");
    log.info("i");
    log.debug("d");
  } finally {
    Object.assign(console, saved);
  }
  assert.deepEqual(calls.map(([method]) => method), ["error", "warn", "info", "debug"]);
  assert.equal(calls[0]?.[1], "ERROR 2026-01-02T03:04:05.678Z e");
});
