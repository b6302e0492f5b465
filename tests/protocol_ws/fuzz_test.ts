/**
 * Protocol fuzzing over real sockets: thousands of random frames (random JSON shapes, wrong
 * types, huge and negative ids, deep nesting, long strings, random paths and properties). Every
 * frame must be answered with well-formed messages, the server must log no internal failure,
 * and afterwards it must still serve a fresh session correctly.
 *
 * The generator is seeded: set FUZZ_SEED to replay a failure (the seed is in every message).
 */
import assert from "node:assert/strict";
import { create, type Received, SENTINEL_ID, type TestClient } from "../support/ws_client.ts";
import { recordingLogger } from "../support/ws_client.ts";
import { assertWellFormed, type Harness, onlyUpdate, valueOf, withHarness } from "./helpers.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed1234) >>> 0;
const FRAMES_PER_SOCKET = 1000;
const SOCKETS = 3;
const MAX_FRAME_BYTES = 64 * 1024;
const MAX_MESSAGES = 40;

/** mulberry32: a small seeded PRNG with good enough spread for fuzzing. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random frame generator over one PRNG. */
class Fuzzer {
  readonly random: () => number;

  constructor(seed: number) {
    this.random = prng(seed);
  }

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  string(max = 12): string {
    const alphabets = [
      "abcdefghijklmnopqrstuvwxyz",
      "0123456789",
      "._()?&=/:%\\ \"'{}[]",
      "éü€漢字🙂\u0000\u0001\u202e\ud800",
    ];
    let out = "";
    const length = this.int(max + 1);
    for (let i = 0; i < length; i++) {
      const alphabet = this.pick(alphabets);
      out += [...alphabet][this.int([...alphabet].length)];
    }
    return out;
  }

  /** Mostly small ids that collide with real variables; sometimes absurd ones. */
  id(): unknown {
    const r = this.random();
    if (r < 0.75) return 1 + this.int(30);
    return this.pick<unknown>([
      0,
      -1,
      -this.int(1000),
      2 ** 31,
      2 ** 31 - 1,
      2 ** 32 + 7,
      Number.MAX_SAFE_INTEGER - 1,
      -Number.MAX_SAFE_INTEGER,
      1e300,
      -1e300,
      1.5,
      "3",
      null,
      true,
      [],
      {},
    ]);
  }

  path(): string {
    if (this.chance(0.05)) return this.string(30);
    const segments = [
      "name",
      "count",
      "ratio",
      "flag",
      "nothing",
      "clicks",
      "received",
      "items",
      "numbers",
      "favourite",
      "nested",
      "inner",
      "value",
      "shape",
      "sides",
      "title",
      "0",
      "1",
      "2",
      "3",
      "99",
      "4294967296",
      "-1",
      "..",
      "greeting()",
      "click()",
      "receive(_)",
      "addItem(_)",
      "upper()",
      "label()",
      "boom()",
      "dropShape()",
      "restoreShape()",
      "spin()",
      "nosuch()",
      "__index",
      "type",
      "_private",
      "",
      "€",
      "a b",
      "(_)",
      "x(",
    ];
    const parts: string[] = [];
    const count = 1 + this.int(4);
    for (let i = 0; i < count; i++) parts.push(this.pick(segments));
    let path = parts.join(this.chance(0.9) ? "." : this.pick(["/", "..", ""]));
    if (this.chance(0.1)) {
      path += "?" +
        this.pick(["keypress", "wrapper=lua.ViewList", "a=b&c", "=&&=", this.string(8)]);
    }
    return path;
  }

  value(depth = 0): unknown {
    const r = this.random();
    if (depth > 3 || r < 0.5) {
      return this.pick<() => unknown>([
        () => null,
        () => this.chance(0.5),
        () => this.int(100) - 50,
        () => this.random() * 1e6,
        () => this.pick([2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1e308, -1e308, 5e-324]),
        () => this.string(20),
        () => "x".repeat(this.int(20_000)),
        () => ({ obj: this.int(40) }),
        () => ({ obj: this.pick([-1, 0, 1e300, "1", null]) }),
      ])();
    }
    if (r < 0.75) {
      return Array.from({ length: this.int(6) }, () => this.value(depth + 1));
    }
    const object: Record<string, unknown> = {};
    for (let i = this.int(5); i > 0; i--) {
      object[this.pick(["type", "obj", "name", "1", "_x", this.string(6)])] = this.value(depth + 1);
    }
    return object;
  }

  properties(): unknown {
    if (this.chance(0.05)) return this.value();
    const properties: Record<string, unknown> = {};
    if (this.chance(0.9)) {
      properties[this.pick(["path", "path", "path", "path:high", "path:low"])] = this.path();
    }
    const names = [
      "access",
      "wrapper",
      "itemWrapper",
      "inactive",
      "priority",
      "namespace",
      "fallbackNamespace",
      "create",
      "viewdef",
      "type",
      "lua",
      "keypress",
      "hint:high",
      "x:med",
      "y:medium",
      "z:bogus",
      this.string(6),
    ];
    for (let i = this.int(4); i > 0; i--) {
      const name = this.pick(names);
      properties[name] = this.chance(0.9)
        ? this.pick([
          "r",
          "w",
          "rw",
          "action",
          "high",
          "low",
          "true",
          "",
          "lua.ViewList",
          "App",
          "Item",
          "nosuch",
          this.string(10),
        ])
        : this.value();
    }
    return properties;
  }

  message(): unknown {
    const type = this.chance(0.93)
      ? this.pick(["create", "create", "create", "update", "update", "destroy", "watch", "unwatch"])
      : this.pick<unknown>(["", "CREATE", "error", this.string(8), 7, null, ["create"], {}]);
    if (this.chance(0.04)) return this.pick<unknown>([null, 1, "watch", [], { type }]);
    let data: unknown;
    if (this.chance(0.05)) {
      data = this.value();
    } else if (type === "create") {
      const record: Record<string, unknown> = {
        id: this.id(),
        parentId: this.chance(0.85) ? this.id() : 0,
      };
      if (this.chance(0.95)) record.properties = this.properties();
      if (this.chance(0.15)) record.value = this.value();
      if (this.chance(0.1)) record.nowatch = this.pick<unknown>([true, false, "yes", 1]);
      if (this.chance(0.05)) record.unbound = true;
      if (this.chance(0.05)) record.widget = this.string(5);
      data = record;
    } else if (type === "update") {
      const record: Record<string, unknown> = { varId: this.id() };
      if (this.chance(0.8)) record.value = this.value();
      if (this.chance(0.3)) record.properties = this.properties();
      data = record;
    } else {
      data = { varId: this.id() };
    }
    // Never touch the id the test client uses to tell frames apart.
    if (typeof data === "object" && data !== null && !Array.isArray(data)) {
      const record = data as Record<string, unknown>;
      if (record.varId === SENTINEL_ID) record.varId = 2;
      if (record.id === SENTINEL_ID) record.id = 2;
    }
    return { type, data };
  }

  /** A frame as text (or bytes, for a binary frame). */
  frame(): string | Uint8Array {
    const r = this.random();
    if (r < 0.6) {
      const messages = Array.from({ length: 1 + this.int(6) }, () => this.message());
      return JSON.stringify({ userEvent: this.chance(0.7), messages });
    }
    if (r < 0.7) return JSON.stringify(this.message());
    if (r < 0.75) return JSON.stringify(Array.from({ length: this.int(5) }, () => this.message()));
    if (r < 0.8) return JSON.stringify(this.value());
    if (r < 0.85) {
      const text = JSON.stringify({ messages: [this.message(), this.message()] });
      return this.chance(0.5) ? text.slice(0, this.int(text.length)) : this.string(40);
    }
    if (r < 0.88) {
      // Deep nesting, written by hand: JSON.stringify itself would overflow.
      const depth = this.pick([100, 1_000, 10_000, 30_000]);
      const where = this.pick(["value", "frame", "properties"]);
      const deep = "[".repeat(depth) + "]".repeat(depth);
      if (where === "frame") return deep;
      if (where === "properties") {
        return `{"type":"create","data":{"id":${
          2 + this.int(30)
        },"parentId":1,"properties":{"path":"name","x":${deep}}}}`;
      }
      return `{"type":"update","data":{"varId":${1 + this.int(30)},"value":${deep}}}`;
    }
    if (r < 0.91) {
      // Too big, or one message too many.
      if (this.chance(0.5)) {
        return JSON.stringify({
          messages: [{ type: "update", data: { varId: 2, value: "z".repeat(MAX_FRAME_BYTES) } }],
        });
      }
      return JSON.stringify({
        messages: Array.from({ length: MAX_MESSAGES + 1 }, () => this.message()),
      });
    }
    if (r < 0.93) {
      // A batch of plausible creates under one parent, to grow real subtrees.
      const parent = 1 + this.int(30);
      const messages = Array.from(
        { length: 1 + this.int(8) },
        () => create(2 + this.int(29), parent, { path: this.path() }),
      );
      return JSON.stringify({ userEvent: true, messages });
    }
    if (r < 0.94) return new Uint8Array(Array.from({ length: this.int(20) }, () => this.int(256)));
    return JSON.stringify({
      userEvent: this.random() < 0.5,
      messages: [this.message()],
      extra: this.value(),
    });
  }
}

/**
 * Sends a group of frames back to back, then the sentinel, and returns everything answered
 * before the sentinel's answer, checking that every reply frame is well formed. Frames are
 * handled in order, so the sentinel's answer proves that each frame of the group was handled.
 */
async function sendGroup(
  client: TestClient,
  frames: (string | Uint8Array)[],
  label: () => string,
): Promise<Received[]> {
  const start = client.frames.length;
  let answer: Received[];
  try {
    for (const frame of frames) client.socket.send(frame);
    answer = await client.exchange([], true, 30_000);
  } catch (error) {
    const got = JSON.stringify(client.frames.slice(start)).slice(0, 500);
    throw new Error(`${label()}: ${(error as Error).message}; got ${got}`);
  }
  for (const reply of client.frames.slice(start)) {
    assert.ok(Array.isArray(reply), `${label()}: reply is not an array`);
    assert.ok(reply.length > 0, `${label()}: empty reply frame`);
    for (const message of reply) {
      try {
        assertWellFormed(message);
      } catch (error) {
        throw new Error(`${label()}: ${(error as Error).message}`);
      }
    }
  }
  return answer;
}

function describeFrame(frame: string | Uint8Array): string {
  return typeof frame === "string" ? frame.slice(0, 300) : `<binary ${frame.length} bytes>`;
}

async function assertFreshSessionWorks(h: Harness): Promise<void> {
  const { client, answer } = await h.open();
  const first = answer[0];
  assert.ok(first && first.data.varId === 1);
  assert.ok(JSON.parse(first.data.properties.viewdefs)["App.DEFAULT"]);
  assert.equal(onlyUpdate(answer.slice(1), 1).properties.type, "App");
  const made = await client.exchange([
    create(2, 1, { path: "name" }),
    create(3, 1, { path: "items" }),
  ]);
  assert.equal(valueOf(made, 2), "Ada");
  assert.equal((valueOf(made, 3) as unknown[]).length, 3);
}

Deno.test(`fuzz: random frames (seed ${SEED})`, async (t) => {
  const log = recordingLogger();
  const overrides = {
    instructionBudget: 100_000,
    maxFrameBytes: MAX_FRAME_BYTES,
    maxMessagesPerFrame: MAX_MESSAGES,
    // Groups of large frames go back to back: the per-connection byte rate is not under test.
    maxBytesPerSecond: 1024 * 1024 * 1024,
  };
  await withHarness("protocol_site", overrides, async (h) => {
    const tally = { frames: 0, errors: 0, updates: 0, destroys: 0, empty: 0 };
    const codes = new Map<string, number>();

    await t.step(`${SOCKETS * FRAMES_PER_SOCKET} frames in small groups`, async () => {
      const clients = [];
      for (let i = 0; i < SOCKETS; i++) clients.push((await h.open()).client);
      for (const [index, client] of clients.entries()) {
        const fuzzer = new Fuzzer(SEED + index);
        for (let n = 0; n < FRAMES_PER_SOCKET;) {
          const size = Math.min(1 + fuzzer.int(8), FRAMES_PER_SOCKET - n);
          const frames = Array.from({ length: size }, () => fuzzer.frame());
          const label = () =>
            `seed ${SEED}, socket ${index}, frames ${n}..${n + size - 1}:\n` +
            frames.map(describeFrame).join("\n");
          const answer = await sendGroup(client, frames, label);
          n += size;
          tally.frames += size;
          if (answer.length === 0) tally.empty++;
          for (const message of answer) {
            if (message.type === "error") {
              tally.errors++;
              codes.set(message.data.code, (codes.get(message.data.code) ?? 0) + 1);
              assert.notEqual(
                message.data.description,
                "The server could not handle this frame",
                `${label()}: internal failure`,
              );
            } else if (message.type === "update") tally.updates++;
            else tally.destroys++;
          }
        }
        assert.equal(
          client.socket.readyState,
          WebSocket.OPEN,
          `seed ${SEED}: socket ${index} closed`,
        );
      }
      // The fuzz reached both sides: refusals and real answers.
      assert.equal(tally.frames, SOCKETS * FRAMES_PER_SOCKET);
      assert.ok(tally.errors > 100, `seed ${SEED}: only ${tally.errors} errors`);
      assert.ok(tally.updates > 100, `seed ${SEED}: only ${tally.updates} updates`);
      for (const code of ["bad-message", "not-found", "duplicate-id", "too-large", "limit"]) {
        assert.ok((codes.get(code) ?? 0) > 0, `seed ${SEED}: never saw ${code}`);
      }
    });

    await t.step("a burst of frames without waiting", async () => {
      const { client } = await h.open();
      const fuzzer = new Fuzzer(SEED ^ 0xabcdef);
      const start = client.frames.length;
      for (let n = 0; n < 300; n++) client.socket.send(fuzzer.frame());
      const answer = await client.exchange([], true, 60_000);
      for (const reply of client.frames.slice(start)) {
        assert.ok(Array.isArray(reply));
        for (const message of reply) assertWellFormed(message);
      }
      assert.ok(answer.length > 0);
    });

    await t.step("no internal failure was logged", () => {
      // Lua errors are the fuzzer's doing and are logged too; anything else is the server's.
      const failures = log.lines.filter((line) =>
        line.level === "error" && !/^(\[session \d+\] )?Lua error \(/.test(line.message)
      );
      assert.deepEqual(failures, [], `seed ${SEED}`);
    });

    await t.step("every fuzzed session still answers", async () => {
      for (const client of h.clients) {
        assert.equal(client.socket.readyState, WebSocket.OPEN);
        // Variables left failing (an unknown wrapper, say) may report again; nothing else.
        for (const message of await client.exchange([])) {
          assertWellFormed(message);
          assert.equal(message.type, "error", `seed ${SEED}: ${JSON.stringify(message)}`);
          assert.notEqual(message.data.description, "The server could not handle this frame");
        }
      }
    });

    await t.step("a fresh session still works (watch 1)", async () => {
      await assertFreshSessionWorks(h);
      const health = await fetch(`${h.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).sessions, h.clients.length);
    });
  }, { log });
});
