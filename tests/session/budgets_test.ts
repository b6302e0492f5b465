/**
 * Issue 10's Lua-VM attacks at a scale CI affords, against in-process sessions with small
 * limits: memory, library work, pattern steps, json, runaway timers, and one session's long
 * action against another's click (src/session/entry_runner.ts, src/lua/resumable.ts).
 */
import assert from "node:assert/strict";
import { FailureError } from "../../src/failure.ts";
import type { LuaSession } from "../../src/session/lua_session.ts";
import { sessionHarness, type Wire } from "../support/session_harness.ts";

const MIB = 1024 * 1024;

const MAIN = `
app = { count = 0, text = "" }
function app:click() self.count = self.count + 1 end
function app:grow() local t = {} for i = 1, 1e8 do t[i] = i end end
function app:keep() kept = {} for i = 1, 1e8 do kept[i] = i end end
function app:concat()
  local a = string.rep("x", 16 * 1024 * 1024 - 64)
  local s = a..a..a..a..a..a..a..a..a..a..a..a..a..a..a..a..a..a..a..a
  return #s
end
function app:utf8() local s = string.rep("a", 15000000) for i = 1, 300 do utf8.len(s) end end
function app:busy() local t = os.clock() while os.clock() - t < 0.25 do end self.done = true end
function app:trimmed() return (self.text:match("^%s*(.-)%s*$")) end
function app:json()
  local s = '"' .. string.rep("a", 4000000) .. '"'
  for i = 1, 100 do ui.json_decode(s) end
end
function app:leakInterval()
  session:setInterval(function() local t = {} for i = 1, 1e8 do t[i] = i end end, 1)
end
function app:failInterval() session:setInterval(function() error("tick") end, 1) end
session:createAppVariable(app)
`;

interface Harness {
  session: LuaSession;
  /** Everything sent to the session's sink, as wire messages. */
  sent: Wire[];
  send(...messages: unknown[]): Promise<Wire[]>;
  /** Creates an action variable for a method and calls it; resolves with the flush. */
  act(id: number, method: string): Promise<Wire[]>;
}

function makeSession(
  options: { budget?: number; memory?: number; vendedId?: string } = {},
): Harness {
  return sessionHarness(MAIN, {
    vendedId: options.vendedId,
    instructionBudget: options.budget,
    maxSessionMemory: options.memory ?? 16 * MIB,
  });
}

const create = (id: number, parentId: number, properties: Record<string, string>) => ({
  type: "create",
  data: { id, parentId, properties },
});

function errorsOf(frame: Wire[]): { code: string; varId?: number; description: string }[] {
  return frame.filter((m) => m.type === "error").map((m) => m.data);
}

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work;
  return [value, performance.now() - started];
}

Deno.test("memory budget", async (t) => {
  const a = makeSession();
  const b = makeSession({ vendedId: "2" });
  await a.send({ type: "watch", data: { varId: 1 } });
  await b.send({ type: "watch", data: { varId: 1 } });

  await t.step("a table grown past 16 MiB stops the action with lua-memory", async () => {
    const rss = Deno.memoryUsage().rss;
    const [frame, ms] = await timed(a.act(2, "grow"));
    const errors = errorsOf(frame);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0]?.code, "lua-memory");
    assert.equal(errors[0]?.varId, 2);
    assert.ok(ms < 10_000, `took ${ms} ms`);
    assert.ok(Deno.memoryUsage().rss - rss < 400 * MIB);
  });

  await t.step("the session and another one go on", async () => {
    assert.deepEqual(errorsOf(await a.act(3, "click")), []);
    assert.deepEqual(errorsOf(await b.act(3, "click")), []);
  });

  await t.step("one `..` of many 16 MiB operands is refused before it allocates", async () => {
    const big = makeSession({ memory: 32 * MIB, vendedId: "3" });
    const rss = Deno.memoryUsage().rss;
    const frame = await big.act(2, "concat");
    assert.equal(errorsOf(frame)[0]?.code, "lua-memory");
    assert.ok(Deno.memoryUsage().rss - rss < 200 * MIB);
    assert.deepEqual(errorsOf(await big.act(3, "click")), []);
    big.session.shutdown();
  });

  await t.step("memory still held at the next entry ends the session", async () => {
    const keeper = makeSession({ vendedId: "4" });
    await keeper.send({ type: "watch", data: { varId: 1 } });
    const frame = await keeper.act(2, "keep");
    assert.equal(errorsOf(frame)[0]?.code, "lua-memory");
    // The table stays reachable from a global: the next entry finds the session over budget.
    await assert.rejects(keeper.act(3, "click"), (error: unknown) => {
      assert.ok(error instanceof FailureError);
      assert.equal(error.code, "lua-memory");
      assert.match(error.message, /This session was ended/);
      return true;
    });
    const ended = errorsOf(keeper.sent).filter((e) => /was ended/.test(e.description));
    assert.equal(ended.length, 1);
    await assert.rejects(keeper.send({ type: "watch", data: { varId: 1 } }), /was ended/);
    assert.deepEqual(errorsOf(await b.act(4, "click")), []);
  });

  await t.step("the third stop within a minute ends the session", async () => {
    const offender = makeSession({ vendedId: "5" });
    await offender.send({ type: "watch", data: { varId: 1 } });
    await offender.act(2, "grow");
    await offender.act(2, "grow");
    await offender.act(2, "grow");
    assert.ok(offender.session.closed);
    assert.equal(errorsOf(offender.sent).filter((e) => /was ended/.test(e.description)).length, 1);
    assert.deepEqual(errorsOf(await b.act(5, "click")), []);
  });

  await t.step("a setInterval that grows a table is stopped, not a crash", async () => {
    const leaky = makeSession({ vendedId: "6" });
    await leaky.send({ type: "watch", data: { varId: 1 } });
    await leaky.act(2, "leakInterval");
    const deadline = Date.now() + 20_000;
    while (leaky.session.timerCount > 0 && !leaky.session.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(leaky.session.timerCount === 0 || leaky.session.closed);
    const memoryErrors = errorsOf(leaky.sent).filter((e) => e.code === "lua-memory");
    assert.ok(memoryErrors.length >= 1 && memoryErrors.length <= 3, JSON.stringify(memoryErrors));
    assert.deepEqual(errorsOf(await b.act(6, "click")), []);
    leaky.session.shutdown();
  });

  a.session.shutdown();
  b.session.shutdown();
});

Deno.test("CPU budget covers library work", async (t) => {
  const h = makeSession({ memory: 64 * MIB });
  await h.send({ type: "watch", data: { varId: 1 } });

  await t.step("300 x utf8.len on 15 MB stops with lua-timeout quickly", async () => {
    const [frame, ms] = await timed(h.act(2, "utf8"));
    assert.equal(errorsOf(frame)[0]?.code, "lua-timeout");
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  await t.step("ui.json_decode is charged by input size", async () => {
    const [frame, ms] = await timed(h.act(3, "json"));
    assert.equal(errorsOf(frame)[0]?.code, "lua-timeout");
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  h.session.shutdown();
});

Deno.test("the expensive-getter attack stays bounded per frame", async (t) => {
  const h = makeSession({ budget: 1_000_000, memory: 64 * MIB });
  await h.send({ type: "watch", data: { varId: 1 } });
  await h.send(create(2, 1, { path: "text" }), create(3, 1, { path: "trimmed()" }));
  const text = " " + "x ".repeat(500_000) + " ";
  await h.send({ type: "update", data: { varId: 2, value: text } });

  await t.step("pattern steps count against the frame's budget", async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [frame, ms] = await timed(h.send({ type: "watch", data: { varId: 1 } }));
      times.push(ms);
      for (const error of errorsOf(frame)) assert.match(error.code, /^lua-(timeout|error)$/);
    }
    // The getter stops at the frame's instruction budget or at the per-call step cap.
    const errors = errorsOf(h.sent).filter((e) => e.varId === 3);
    assert.ok(errors.length >= 1, JSON.stringify(errors));
    // A million steps at most per frame: well under a second each, even on a busy machine.
    assert.ok(Math.max(...times) < 1000, `frame times ${times.map(Math.round)}`);
  });

  h.session.shutdown();
});

Deno.test("runaway timers", async (t) => {
  const h = makeSession();
  await h.send({ type: "watch", data: { varId: 1 } });

  await t.step("a failing setInterval is cancelled with one error, not hundreds", async () => {
    await h.act(2, "failInterval");
    const deadline = Date.now() + 5000;
    while (h.session.timerCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(h.session.timerCount, 0);
    const errors = errorsOf(h.sent).filter((e) => /tick/.test(e.description));
    assert.equal(errors.length, 2, JSON.stringify(errors));
    assert.match(errors[1]?.description ?? "", /Timer cancelled after 3 failures in a row/);
  });

  h.session.shutdown();
});

Deno.test("fairness: a long action in one session barely delays another's click", async (t) => {
  const a = makeSession();
  const b = makeSession({ vendedId: "2" });
  await a.send({ type: "watch", data: { varId: 1 } });
  await b.send({ type: "watch", data: { varId: 1 } });
  await a.act(2, "click");
  await b.act(2, "busy");

  await t.step("a click during B's 250 ms action answers within tens of ms", async () => {
    const delays: number[] = [];
    for (let round = 0; round < 3; round++) {
      const busy = b.act(2, "busy");
      await new Promise((resolve) => setTimeout(resolve, 20));
      const [, ms] = await timed(a.act(2, "click"));
      delays.push(ms);
      const frame = await busy;
      assert.deepEqual(errorsOf(frame), []);
    }
    delays.sort((x, y) => x - y);
    // The median of three, so that one garbage collection on a shared CI machine does not fail it.
    assert.ok((delays[1] ?? 0) < 80, `click delays ${delays.map(Math.round)} ms`);
  });

  await t.step("B's action ran to its end once", () => {
    assert.ok(b.sent.every((m) => m.type !== "error"));
  });

  a.session.shutdown();
  b.session.shutdown();
});
