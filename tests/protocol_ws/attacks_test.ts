/**
 * Attacks through values a client sends, over real sockets with small limits: client values that
 * would exhaust memory, shared references that amplify output, and deep variable chains. Each
 * leaves the process alive, memory bounded, and another session served promptly.
 */
import assert from "node:assert/strict";
import { create, type Received, type TestClient, watch } from "../support/ws_client.ts";
import { type Harness, objId, withHarness } from "./helpers.ts";

const SITE = "protocol_site";

/** A `create` of a variable holding `value`, at the top (no parent, no path). */
function holding(id: number, value: unknown) {
  return { type: "create", data: { id, parentId: 0, properties: {}, value } };
}

function errors(messages: Received[], code: string): Received[] {
  return messages.filter((m) => m.type === "error" && m.data.code === code);
}

/** Asserts that another session answers a watch within a second. */
async function servedPromptly(victim: TestClient): Promise<void> {
  const start = performance.now();
  const answer = await victim.exchange([watch(1)]);
  const ms = performance.now() - start;
  assert.ok(answer.some((m) => m.type === "update" && m.data.varId === 1), JSON.stringify(answer));
  assert.ok(ms < 1000, `the other session waited ${ms.toFixed(0)} ms`);
}

function rssMiB(): number {
  return Deno.memoryUsage().rss / 2 ** 20;
}

Deno.test("client values cannot exhaust memory", async (t) => {
  await withHarness(SITE, { maxClientValueBytes: 8 * 2 ** 20 }, async (harness) => {
    const { client: victim } = await harness.open();
    const attacker = await harness.connect();
    const zeros = new Array(10_000).fill(0); // 20 KB of JSON, 1.6 MB estimated (and real)
    const before = rssMiB();
    let refused = 0;
    await t.step("creates past the session's budget are refused with limit", async () => {
      for (let frame = 0; frame < 100; frame++) {
        const answer = await attacker.exchange([holding(100 + frame, zeros)], true, 10_000);
        refused += errors(answer, "limit").length;
      }
      // 8 MiB hold five of them; every later one is refused.
      assert.equal(refused, 95);
    });
    await t.step("a refused value is not kept", () => {
      const session = harness.server.manager.session(attacker.sid);
      assert.ok(session);
      assert.equal(session.variable(105), undefined);
      assert.equal(session.variable(104)?.id, 104);
    });
    await t.step("memory stays bounded and the other session is served", async () => {
      const growth = rssMiB() - before;
      // Without the budget, 100 tables of 10,000 numbers take about 170 MiB.
      assert.ok(growth < 80, `RSS grew ${growth.toFixed(0)} MiB`);
      await servedPromptly(victim);
    });
    await t.step("destroying a variable gives its bytes back", async () => {
      const answer = await attacker.exchange([
        { type: "destroy", data: { varId: 100 } },
        holding(200, zeros),
      ]);
      assert.deepEqual(errors(answer, "limit"), []);
    });
    await t.step("properties count too", async () => {
      const answer = await attacker.exchange([
        { type: "create", data: { id: 300, parentId: 0, properties: { x: "y".repeat(900_000) } } },
      ]);
      assert.equal(errors(answer, "limit").length, 1);
    });
  });
});

/** Creates a value nested past the value-JSON depth limit and returns the id of its inner part. */
async function deepReference(client: TestClient, width: number): Promise<number> {
  let value: unknown = new Array(width).fill(0);
  for (let i = 0; i < 33; i++) value = [value];
  const answer = await client.exchange([holding(10, value)]);
  let shown = answer.find((m) => m.type === "update" && m.data.varId === 10)?.data.value;
  while (Array.isArray(shown)) shown = shown[0];
  return objId(shown);
}

Deno.test("shared references cannot amplify output", async (t) => {
  const limits = { maxValueBytes: 50_000, maxFlushBytes: 200_000 };
  await withHarness(SITE, limits, async (harness) => {
    const { client: victim } = await harness.open();
    const attacker = await harness.connect();
    const k = await deepReference(attacker, 10_000); // K is 20 KB of JSON
    const bytesFrom = (messages: Received[]) => JSON.stringify(messages).length;

    await t.step("one value naming K 5,000 times is not sent, with one too-large", async () => {
      const refs = new Array(5_000).fill({ obj: k });
      const answer = await attacker.exchange([holding(11, refs)], true, 10_000);
      assert.equal(errors(answer, "too-large").length, 1, JSON.stringify(answer).slice(0, 500));
      assert.equal(answer.find((m) => m.type === "update" && m.data.varId === 11), undefined);
      assert.ok(bytesFrom(answer) < 10_000, `${bytesFrom(answer)} bytes`);
    });
    await t.step("the error is not repeated on later flushes", async () => {
      const answer = await attacker.exchange([watch(1)]);
      assert.deepEqual(errors(answer, "too-large"), []);
    });
    await t.step("1,000 variables each showing K are cut at the batch limit", async () => {
      const creates = Array.from({ length: 1_000 }, (_, i) => holding(1_000 + i, { obj: k }));
      const answer = await attacker.exchange(creates, true, 10_000);
      // The batch stops building value JSON, and the frame is cut at its limit: one error each.
      const descriptions = errors(answer, "too-large").map((m) => m.data.description).join("\n");
      assert.match(descriptions, /passed the limit of one batch; .* \(\d+ variables\)/);
      assert.match(descriptions, /This flush passed the limit of 200000 bytes; \d+ updates/);
      assert.ok(errors(answer, "too-large").length === 2, descriptions);
      // At most one flush limit of values, not 1,000 × 20 KB.
      assert.ok(bytesFrom(answer) < limits.maxFlushBytes + 10_000, `${bytesFrom(answer)} bytes`);
    });
    await t.step("the other session is served", () => servedPromptly(victim));
  });
});

/** Variable `id` of a chain that starts at 10 under the app: `nested`, then `inner` all the way. */
function chainLink(id: number) {
  return id === 10 ? create(id, 1, { path: "nested" }) : create(id, id - 1, { path: "inner" });
}

Deno.test("deep variable chains", async (t) => {
  await t.step("a variable past the depth limit is refused with limit", async () => {
    await withHarness(SITE, { maxVariableDepth: 5 }, async (harness) => {
      const client = await harness.connect();
      const creates = Array.from({ length: 7 }, (_, i) => chainLink(10 + i));
      const answer = await client.exchange(creates);
      const limit = errors(answer, "limit");
      // 10 is at depth 1 under the app, so 14 is at depth 5 and 15 is refused (16, its child,
      // then has no parent).
      assert.deepEqual(limit.map((m) => m.data.varId), [15]);
      assert.match(limit[0]?.data.description, /limit is 5/);
    });
  });

  await t.step("20,000 nested variables: change detection and clean-up", async () => {
    const options = { maxVariableDepth: 25_000, maxMessagesPerFrame: 1_000 };
    await withHarness(SITE, options, async (harness: Harness) => {
      const { client: victim } = await harness.open();
      const client = await harness.connect();
      const sid = client.sid;
      for (let start = 0; start < 20_000; start += 1_000) {
        const creates = Array.from({ length: 1_000 }, (_, i) => chainLink(10 + start + i));
        const answer = await client.exchange(creates, true, 20_000);
        assert.deepEqual(answer.filter((m) => m.type === "error"), []);
      }
      const session = harness.server.manager.session(sid);
      assert.ok(session);
      assert.equal(session.variable(20_009)?.id, 20_009);
      // A change deep down is detected and sent.
      const answer = await client.exchange([watch(1)], true, 20_000);
      assert.deepEqual(answer.filter((m) => m.type === "error"), []);
      await client.close();
      // The closed connection's variables are kept for a reconnect that continues; a page
      // that starts over (`watch 1`) drops them, the whole chain at once.
      const again = await harness.connect(sid);
      const reopened = await again.exchange([watch(1)], true, 20_000);
      await session.idle();
      assert.equal(session.variable(20_009), undefined, "the chain is gone after starting over");
      assert.ok(reopened.some((m) => m.type === "update" && m.data.varId === 1));
      await servedPromptly(victim);
    });
  });
});
