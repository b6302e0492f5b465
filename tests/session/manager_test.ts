/**
 * Tests for src/session/manager.ts: sessions by sid, vended ids, takeover, the idle timeout and
 * the session limit, with fake connection sinks (the manager is transport-agnostic).
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log.ts";
import { FailureError } from "../../src/failure.ts";
import type { ConnectionSink } from "../../src/session/connection.ts";
import {
  type ManagerOptions,
  newSid,
  SessionManager,
  SID_PATTERN,
} from "../../src/session/manager.ts";
import {
  OPEN_ELSEWHERE,
  SERVICE_RESTART,
  TAKEN_OVER,
} from "../../src/session/session_connections.ts";
import type { Site } from "../../src/site/site.ts";
import { ViewdefStore } from "../../src/viewdefs/store.ts";

// deno-lint-ignore no-explicit-any
type Wire = { type: string; data: any };

const MAIN = `
App = {type = "App", count = 0}
function App:add() self.count = self.count + 1 end
session:createAppVariable(App)
`;

function site(): Site {
  return {
    root: "/in-memory",
    lua: new Map([["main.lua", MAIN]]),
    viewdefs: new ViewdefStore(),
    htmlDir: undefined,
  };
}

function manager(options: Partial<ManagerOptions> = {}): SessionManager {
  return new SessionManager({
    sessionTimeoutMs: 60_000,
    maxSessions: 100,
    maxFrameBytes: 1 << 20,
    maxMessagesPerFrame: 100,
    maxVariables: 1000,
    instructionBudget: 1_000_000,
    inlineLua: false,
    openPaths: true,
    site: site(),
    log: silentLogger,
    flushDelayMs: 1,
    ...options,
  });
}

/** A fake transport that records frames and closes. */
class FakeSink implements ConnectionSink {
  readonly frames: Wire[][] = [];
  readonly closes: [number, string][] = [];
  #waiters: (() => void)[] = [];

  send(frame: string): void {
    this.frames.push(JSON.parse(frame));
    for (const wake of this.#waiters.splice(0)) wake();
  }

  close(code: number, reason: string): void {
    this.closes.push([code, reason]);
  }

  /** Resolves once at least `count` frames have arrived. */
  async waitForFrames(count: number): Promise<void> {
    for (let tries = 0; this.frames.length < count; tries++) {
      if (tries > 1000) assert.fail(`only ${this.frames.length} of ${count} frames arrived`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 10);
      });
    }
  }

  get last(): Wire[] {
    return this.frames.at(-1) ?? [];
  }
}

const frameText = (userEvent: boolean, ...messages: unknown[]) =>
  JSON.stringify({ userEvent, messages });
const WATCH_1 = { type: "watch", data: { varId: 1 } };

/** Polls until the condition holds, failing after a generous bound. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    if (tries > 500) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("newSid and SID_PATTERN", async (t) => {
  await t.step("a fresh sid is 32 lowercase hex characters", () => {
    for (let i = 0; i < 20; i++) assert.match(newSid(), /^[0-9a-f]{32}$/);
  });
  await t.step("sids are distinct", () => {
    const sids = new Set(Array.from({ length: 100 }, newSid));
    assert.equal(sids.size, 100);
  });
  await t.step("the pattern accepts only well-formed sids", () => {
    assert.ok(SID_PATTERN.test("0123456789abcdef0123456789abcdef"));
    for (
      const bad of ["", "abc", "0123456789ABCDEF0123456789ABCDEF", "g".repeat(32), "a".repeat(33)]
    ) {
      assert.ok(!SID_PATTERN.test(bad), bad);
    }
  });
});

Deno.test("connecting creates sessions", async (t) => {
  const sessions = manager();
  const sidA = newSid();
  const sidB = newSid();
  await t.step("a malformed sid is refused", () => {
    assert.throws(() => sessions.connect("not-a-sid", new FakeSink()), (error: unknown) => {
      assert.ok(error instanceof FailureError);
      assert.equal(error.code, "bad-message");
      return true;
    });
    assert.equal(sessions.sessionCount, 0);
  });
  await t.step("the first connection for a sid creates a session and runs main.lua", () => {
    const connection = sessions.connect(sidA, new FakeSink());
    assert.equal(sessions.sessionCount, 1);
    assert.equal(sessions.connectionCount, 1);
    assert.equal(connection.session, sessions.session(sidA));
    assert.equal(connection.session.vendedId, "1");
    assert.ok(connection.session.variable(1), "main.lua created variable 1");
  });
  await t.step("each session has its own VM and the next vended id", () => {
    const connection = sessions.connect(sidB, new FakeSink());
    assert.equal(connection.session.vendedId, "2");
    assert.notEqual(connection.session, sessions.session(sidA));
    assert.deepEqual(sessions.sids().sort(), [sidA, sidB].sort());
    assert.equal(sessions.sessionCount, 2);
  });
  await t.step("an unknown sid has no session", () => {
    assert.equal(sessions.session(newSid()), undefined);
  });
  sessions.shutdown();
});

Deno.test("frames", async (t) => {
  const sessions = manager();
  const sink = new FakeSink();
  const connection = sessions.connect(newSid(), sink);
  await t.step("a user event is answered at once with one frame", async () => {
    await connection.receive(frameText(true, WATCH_1));
    assert.equal(sink.frames.length, 1);
    const update = sink.last.find((m) => m.type === "update" && "value" in m.data);
    assert.equal(update?.data.properties.type, "App");
  });
  await t.step("a background frame is answered after the flush delay", async () => {
    await connection.receive(
      frameText(false, {
        type: "create",
        data: { id: 2, parentId: 1, properties: { path: "count" } },
      }),
    );
    await sink.waitForFrames(2);
    assert.deepEqual(sink.last, [{ type: "update", data: { varId: 2, value: 0 } }]);
  });
  await t.step("a frame that is not JSON is answered with bad-message", async () => {
    await connection.receive("{oops");
    await sink.waitForFrames(3);
    assert.deepEqual(sink.last.map((m) => [m.type, m.data.code]), [["error", "bad-message"]]);
  });
  await t.step("a frame with too many messages is answered with limit", async () => {
    await connection.receive(JSON.stringify(Array(101).fill(WATCH_1)));
    await sink.waitForFrames(4);
    assert.deepEqual(sink.last.map((m) => m.data.code), ["limit"]);
  });
  await t.step("an action changes the session's state", async () => {
    await connection.receive(
      frameText(
        true,
        {
          type: "create",
          data: { id: 3, parentId: 1, properties: { path: "add()", access: "action" } },
        },
        { type: "update", data: { varId: 3, value: null } },
      ),
    );
    await sink.waitForFrames(5);
    assert.deepEqual(sink.last, [{ type: "update", data: { varId: 2, value: 1 } }]);
  });
  sessions.shutdown();
});

Deno.test("takeover", async (t) => {
  const sessions = manager();
  const sid = newSid();
  const first = new FakeSink();
  const second = new FakeSink();
  const old = sessions.connect(sid, first);
  await old.receive(frameText(true, WATCH_1));
  const session = old.session;
  const replacement = sessions.connect(sid, second);
  await t.step("a second connection waits for its first frame", () => {
    assert.deepEqual(first.closes, []);
  });
  await replacement.receive(frameText(true, WATCH_1));
  await t.step("its first frame with watch 1 closes the older connection with 4000", () => {
    assert.equal(TAKEN_OVER, 4000);
    assert.equal(first.closes.length, 1);
    assert.equal(first.closes[0]?.[0], 4000);
    assert.deepEqual(second.closes, []);
  });
  await t.step("the session and its state are kept", () => {
    assert.equal(replacement.session, session);
    assert.equal(sessions.sessionCount, 1);
    assert.equal(sessions.connectionCount, 1);
  });
  await t.step("the older connection's frames are ignored", async () => {
    const before = first.frames.length;
    await old.receive(frameText(true, WATCH_1));
    assert.equal(first.frames.length, before);
    assert.equal(second.frames.length, 1, "only the answer to its own watch 1");
  });
  await t.step("the new connection got everything again", () => {
    assert.equal(second.frames.length, 1);
    assert.ok(second.last.some((m) => m.data.varId === 1 && m.data.properties?.type === "App"));
  });
  await t.step("closing the older connection later does not detach the new one", async () => {
    old.closed();
    assert.equal(sessions.connectionCount, 1);
    await replacement.receive(frameText(true, WATCH_1));
    assert.equal(second.frames.length, 2);
  });
  await t.step("a later connection whose first frame does not start over is refused", async () => {
    const third = new FakeSink();
    const late = sessions.connect(sid, third);
    await late.receive(frameText(true, { type: "update", data: { varId: 2, value: 1 } }));
    assert.deepEqual(third.closes.map(([code]) => code), [OPEN_ELSEWHERE]);
    assert.deepEqual(second.closes, [], "the live connection keeps the session");
    assert.equal(sessions.connectionCount, 1);
  });
  sessions.shutdown();
});

Deno.test("closing and reconnecting", async (t) => {
  const sessions = manager({ sessionTimeoutMs: 60_000 });
  const sid = newSid();
  const sink = new FakeSink();
  const connection = sessions.connect(sid, sink);
  await connection.receive(
    frameText(
      true,
      WATCH_1,
      { type: "create", data: { id: 2, parentId: 1, properties: { path: "count" } } },
      {
        type: "create",
        data: { id: 3, parentId: 1, properties: { path: "add()", access: "action" } },
      },
      { type: "update", data: { varId: 3, value: null } },
    ),
  );
  const session = connection.session;
  await t.step("a closed connection leaves the session alive", () => {
    connection.closed();
    connection.closed();
    assert.equal(sessions.connectionCount, 0);
    assert.equal(sessions.sessionCount, 1);
    assert.deepEqual(sink.closes, [], "the transport closed itself");
  });
  await t.step("a reconnect within the timeout sees the same app state", async () => {
    const again = new FakeSink();
    const next = sessions.connect(sid, again);
    assert.equal(next.session, session);
    await next.receive(
      frameText(
        true,
        WATCH_1,
        { type: "watch", data: { varId: 2 } },
        { type: "create", data: { id: 2, parentId: 1, properties: { path: "count" } } },
      ),
    );
    const frame = again.last;
    assert.deepEqual(
      frame.map((m) => [m.type, m.data.varId, m.data.code ?? m.data.value]),
      [["update", 1, { obj: 5 }], ["update", 2, 1], ["error", 2, "not-found"]],
      "a page starting over (watch 1) drops the kept variables; the count survived",
    );
  });
  sessions.shutdown();
});

Deno.test("idle sessions expire", async (t) => {
  const sessions = manager({ sessionTimeoutMs: 20 });
  const sid = newSid();
  const connection = sessions.connect(sid, new FakeSink());
  const session = connection.session;
  await t.step("a connected session does not expire", async () => {
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(sessions.sessionCount, 1);
  });
  await t.step("after the last connection closes, the session is shut down", async () => {
    connection.closed();
    await eventually(() => sessions.sessionCount === 0, "the session expired");
    assert.equal(sessions.session(sid), undefined);
    assert.equal(session.closed, true);
  });
  await t.step("the same sid then gets a brand-new session", () => {
    const fresh = sessions.connect(sid, new FakeSink());
    assert.notEqual(fresh.session, session);
    assert.equal(fresh.session.vendedId, "2");
  });
  sessions.shutdown();
});

Deno.test("a reconnect cancels the expiry", async () => {
  const sessions = manager({ sessionTimeoutMs: 30 });
  const sid = newSid();
  const first = sessions.connect(sid, new FakeSink());
  first.closed();
  const second = sessions.connect(sid, new FakeSink());
  await new Promise((resolve) => setTimeout(resolve, 90));
  assert.equal(sessions.session(sid), second.session);
  assert.equal(second.session, first.session);
  assert.equal(second.session.closed, false);
  sessions.shutdown();
});

Deno.test("session limit", async (t) => {
  const sessions = manager({ maxSessions: 2, sessionTimeoutMs: 20 });
  const sidA = newSid();
  const sidB = newSid();
  const a = sessions.connect(sidA, new FakeSink());
  const b = sessions.connect(sidB, new FakeSink());
  await t.step("a new session beyond the limit is refused with limit", () => {
    assert.throws(() => sessions.connect(newSid(), new FakeSink()), (error: unknown) => {
      assert.ok(error instanceof FailureError);
      assert.equal(error.code, "limit");
      return true;
    });
    assert.equal(sessions.sessionCount, 2);
  });
  await t.step("an existing session can still be reconnected", () => {
    const again = sessions.connect(sidA, new FakeSink());
    assert.equal(again.session, a.session);
  });
  await t.step("an expired session frees a place", async () => {
    b.closed();
    await eventually(() => sessions.sessionCount === 1, "a session expired");
    const sidC = newSid();
    sessions.connect(sidC, new FakeSink());
    assert.equal(sessions.sessionCount, 2);
  });
  sessions.shutdown();
});

Deno.test("shutdown", async (t) => {
  const sessions = manager();
  const sinks = [new FakeSink(), new FakeSink()];
  const connections = sinks.map((sink) => sessions.connect(newSid(), sink));
  sessions.shutdown();
  await t.step("every connection is closed with 1012", () => {
    assert.equal(SERVICE_RESTART, 1012);
    for (const sink of sinks) assert.deepEqual(sink.closes.map(([code]) => code), [1012]);
  });
  await t.step("every session is shut down", () => {
    assert.equal(sessions.sessionCount, 0);
    assert.equal(sessions.connectionCount, 0);
    for (const connection of connections) assert.equal(connection.session.closed, true);
  });
  await t.step("no new connections are accepted", () => {
    assert.throws(() => sessions.connect(newSid(), new FakeSink()), FailureError);
  });
});

Deno.test("a sink that throws does not break the session", async () => {
  const sessions = manager();
  const sid = newSid();
  const broken: ConnectionSink = {
    send() {
      throw new Error("socket gone");
    },
    close() {
      throw new Error("socket gone");
    },
  };
  const connection = sessions.connect(sid, broken);
  await connection.receive(frameText(true, WATCH_1));
  const sink = new FakeSink();
  const next = sessions.connect(sid, sink);
  await next.receive(frameText(true, WATCH_1));
  assert.equal(sink.frames.length, 1);
  sessions.shutdown();
});
