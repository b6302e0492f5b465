/**
 * Tests for src/session/executor.ts: one session's work runs one task at a time, in order.
 */
import assert from "node:assert/strict";
import { createExecutor } from "../../src/session/executor.ts";

/** A promise with its resolver, to hold a task open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

Deno.test("executor", async (t) => {
  await t.step("returns each task's result", async () => {
    const executor = createExecutor();
    assert.equal(await executor.run(() => 42), 42);
    assert.equal(await executor.run(() => Promise.resolve("async")), "async");
  });
  await t.step("runs tasks in arrival order", async () => {
    const executor = createExecutor();
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((n) => executor.run(() => order.push(n))));
    assert.deepEqual(order, [1, 2, 3, 4]);
  });
  await t.step("async tasks never interleave", async () => {
    const executor = createExecutor();
    const events: string[] = [];
    const first = gate();
    const a = executor.run(async () => {
      events.push("a:start");
      await first.promise;
      events.push("a:end");
    });
    const b = executor.run(() => {
      events.push("b");
    });
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(events, ["a:start"], "b waits for a");
    first.open();
    await Promise.all([a, b]);
    assert.deepEqual(events, ["a:start", "a:end", "b"]);
  });
  await t.step("a task does not start synchronously inside run", () => {
    const executor = createExecutor();
    let ran = false;
    const done = executor.run(() => {
      ran = true;
    });
    assert.equal(ran, false);
    return done;
  });
  await t.step("a failing task rejects its own promise and the queue goes on", async () => {
    const executor = createExecutor();
    const failing = executor.run(() => {
      throw new Error("task failed");
    });
    const rejecting = executor.run(() => Promise.reject(new Error("async failure")));
    const after = executor.run(() => "still running");
    await assert.rejects(failing, /task failed/);
    await assert.rejects(rejecting, /async failure/);
    assert.equal(await after, "still running");
  });
  await t.step("close refuses new tasks; queued ones still run", async () => {
    const executor = createExecutor();
    const held = gate();
    const order: string[] = [];
    const queued = [
      executor.run(async () => {
        await held.promise;
        order.push("first");
      }),
      executor.run(() => {
        order.push("second");
      }),
    ];
    executor.close();
    assert.equal(executor.closed, true);
    await assert.rejects(executor.run(() => order.push("late")), /closed/);
    held.open();
    await Promise.all(queued);
    assert.deepEqual(order, ["first", "second"]);
  });
  await t.step("a new executor is open", () => {
    assert.equal(createExecutor().closed, false);
  });
  await t.step("separate executors do not wait for each other", async () => {
    const a = createExecutor();
    const b = createExecutor();
    const held = gate();
    const blocked = a.run(() => held.promise);
    assert.equal(await b.run(() => "b ran"), "b ran");
    held.open();
    await blocked;
  });
});
