/**
 * Host functions (src/lua/host_functions.ts) in real sessions: sync and async calls from
 * actions and timers, rejections as Lua errors, budgets after a resumption, a session closed
 * while a call is pending, and two sessions progressing while one waits.
 */
import assert from "node:assert/strict";
import type { HostTables } from "../../src/lua/host_functions.ts";
import { installHostTables } from "../../src/lua/host_functions.ts";
import { LuaVm } from "../../src/lua/vm.ts";
import { encodeFrame } from "../../src/protocol/outgoing.ts";
import { parseMessage } from "../../src/protocol/messages.ts";
import type { LuaSession } from "../../src/session/lua_session.ts";
import { sessionHarness, type Wire } from "../support/session_harness.ts";

const MAIN = `
app = { result = "", log = "" }
function app:sync() self.result = ui.json_encode(host.echo({a = {1, 2}, b = "x"}, 3)) end
function app:async() self.result = host.later("v") .. "!" end
function app:fails() self.result = host.reject("why") end
function app:caught()
  local ok, e = pcall(host.reject, "why")
  self.result = tostring(ok) .. " " .. e
end
function app:twice() self.result = host.later("a") .. host.later("b") end
function app:spin() host.later("x") self.result = "resumed" while true do end end
function app:slow() self.result = host.never() end
function app:inGetter() return host.later("g") end
function app:timer()
  session:setTimeout(function() app.result = "timer " .. host.later("t") end, 0)
end
function app:fromCoroutine()
  local co = coroutine.create(function() return host.later("c") end)
  local ok, e = coroutine.resume(co)
  self.result = tostring(ok) .. " " .. tostring(e)
end
session:createAppVariable(app)
`;

interface Harness {
  session: LuaSession;
  sent: Wire[];
  /** Watches `app.result` as variable 100, so that its changes are pushed. */
  watchResult(): Promise<Wire[]>;
  act(id: number, method: string): Promise<Wire[]>;
  result(): unknown;
}

function makeSession(
  host: (signal: AbortSignal) => HostTables,
  options: { vendedId?: string; budget?: number; timeoutMs?: number } = {},
): Harness {
  const { session, sent, send, act } = sessionHarness(MAIN, {
    vendedId: options.vendedId,
    instructionBudget: options.budget,
    host,
    hostCallTimeoutMs: options.timeoutMs,
  });
  const result = () => {
    const value = session.evaluate("return app.result");
    return value.ok ? value.value[0] : value.failure.description;
  };
  const watchResult = () =>
    send({ type: "watch", data: { varId: 1 } }, {
      type: "create",
      data: { id: 100, parentId: 1, properties: { path: "result" } },
    });
  return { session, sent, act, result, watchResult };
}

function errorsOf(frame: Wire[]): { code: string; description: string }[] {
  return frame.filter((m) => m.type === "error").map((m) => m.data);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Host functions whose async ones wait `ms` (or for `gate` when given). */
function functions(ms = 20, gate?: Promise<void>): HostTables {
  return {
    host: {
      echo: (...args) => args,
      later: async (value) => {
        await (gate ?? delay(ms));
        return value;
      },
      reject: (why) => Promise.reject(new Error(`refused: ${why}`)),
      never: () => new Promise(() => {}),
    },
  };
}

Deno.test("host functions in a session", async (t) => {
  const h = makeSession(() => functions());
  await h.watchResult();
  await t.step("a sync call marshals tables both ways", async () => {
    assert.deepEqual(errorsOf(await h.act(2, "sync")), []);
    assert.deepEqual(JSON.parse(String(h.result())), [{ a: [1, 2], b: "x" }, 3]);
  });

  await t.step("an async call suspends the action and the change is pushed", async () => {
    const frame = await h.act(3, "async");
    assert.deepEqual(errorsOf(frame), []);
    assert.equal(h.result(), "v!");
    assert.deepEqual(frame.find((m) => m.data.varId === 100)?.data.value, "v!");
  });

  await t.step("two async calls in one action", async () => {
    assert.deepEqual(errorsOf(await h.act(4, "twice")), []);
    assert.equal(h.result(), "ab");
  });

  await t.step("a rejection is a Lua error, catchable with pcall", async () => {
    const errors = errorsOf(await h.act(5, "fails"));
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.description ?? "", /host\.reject: refused: why/);
    assert.deepEqual(errorsOf(await h.act(6, "caught")), []);
    assert.equal(h.result(), "false host.reject: refused: why");
  });

  await t.step("a timer's async call completes and is pushed", async () => {
    const before = h.sent.length;
    await h.act(7, "timer");
    for (let i = 0; i < 100 && h.result() !== "timer t"; i++) await delay(10);
    assert.equal(h.result(), "timer t");
    await h.session.idle();
    assert.match(JSON.stringify(h.sent.slice(before)), /timer t/);
  });

  await t.step("not from a getter during change detection, nor an app coroutine", async () => {
    const frame = await h.act(8, "fromCoroutine");
    assert.deepEqual(errorsOf(frame), []);
    assert.match(String(h.result()), /^false .*cannot be called here/);
    const created = await h.session.handleFrame({
      userEvent: false,
      items: [
        parseMessage({
          type: "create",
          data: { id: 9, parentId: 1, properties: { path: "inGetter()" } },
        }),
      ],
    });
    // The create reads the getter inside the entry, where the call may suspend; change
    // detection recomputes it outside, where it may not.
    const all = JSON.stringify(errorsOf(JSON.parse(encodeFrame(created))));
    assert.match(all, /cannot be called here/);
  });
  h.session.shutdown();
});

Deno.test("host functions under the budgets", async (t) => {
  await t.step("the instruction budget still stops the entry after the resumption", async () => {
    const h = makeSession(() => functions(), { budget: 1_000_000 });
    const errors = errorsOf(await h.act(2, "spin"));
    assert.equal(errors[0]?.code, "lua-timeout");
    assert.match(errors[0]?.description ?? "", /instruction budget/);
    assert.equal(h.result(), "resumed");
    h.session.shutdown();
  });

  await t.step("the wait does not count against the wall clock", async () => {
    const h = makeSession(() => functions(5_500));
    assert.deepEqual(errorsOf(await h.act(2, "async")), []);
    assert.equal(h.result(), "v!");
    h.session.shutdown();
  });

  await t.step("a pending call times out as a Lua error", async () => {
    const h = makeSession(() => functions(), { timeoutMs: 50 });
    const errors = errorsOf(await h.act(2, "slow"));
    assert.match(errors[0]?.description ?? "", /host\.never timed out after 50 ms/);
    h.session.shutdown();
  });
});

Deno.test("sessions and pending host calls", async (t) => {
  await t.step("a session closed while a call is pending drops the result", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => release = resolve);
    let signal: AbortSignal | undefined;
    const h = makeSession((s) => {
      signal = s;
      return functions(0, gate);
    });
    const action = h.act(2, "async").then(() => "done", (error) => `failed: ${error}`);
    await delay(20);
    h.session.shutdown();
    assert.equal(signal?.aborted, true);
    const outcome = await action;
    assert.match(outcome, /failed|done/);
    release();
    await delay(10);
    assert.equal(h.session.closed, true);
    // A later session works.
    const next = makeSession(() => functions(), { vendedId: "2" });
    assert.deepEqual(errorsOf(await next.act(2, "async")), []);
    assert.equal(next.result(), "v!");
    next.session.shutdown();
  });

  await t.step("another session runs while one waits", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => release = resolve);
    const waiting = makeSession(() => functions(0, gate));
    const other = makeSession(() => functions(), { vendedId: "2" });
    let finished = false;
    const pending = waiting.act(2, "async").then(() => finished = true);
    await delay(10);
    assert.deepEqual(errorsOf(await other.act(2, "sync")), []);
    assert.deepEqual(errorsOf(await other.act(3, "async")), []);
    assert.equal(other.result(), "v!");
    assert.equal(finished, false);
    release();
    await pending;
    assert.equal(waiting.result(), "v!");
    waiting.session.shutdown();
    other.session.shutdown();
  });
});

Deno.test("host functions on a bare VM", async (t) => {
  await t.step("a sync call from main code; an async one is refused there", () => {
    const vm = new LuaVm();
    installHostTables(vm, functions());
    const sum = vm.evaluate("return #host.echo(1, 2, 3)");
    assert.deepEqual(sum.ok && sum.value, [3]);
    const refused = vm.evaluate("return host.later('x')");
    assert.equal(refused.ok, false);
    assert.match(!refused.ok ? refused.failure.description : "", /cannot be called here/);
  });
});
