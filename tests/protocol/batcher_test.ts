/**
 * Tests for src/protocol/batcher.ts: when a connection's batches are written (SPEC 8).
 */
import assert from "node:assert/strict";
import { createBatcher } from "../../src/protocol/batcher.ts";
import { emptyOutgoing, encodeFrame } from "../../src/protocol/outgoing.ts";
import { describe, sample } from "./sample_outgoing.ts";

Deno.test("createBatcher", async (t) => {
  await t.step("an immediate add flushes at once as one frame", () => {
    const frames: string[] = [];
    const batcher = createBatcher({ send: (f) => frames.push(f), delayMs: 10_000 });
    batcher.add(sample(), true);
    assert.equal(frames.length, 1);
    assert.equal(frames[0], encodeFrame(sample()));
    batcher.close();
  });
  await t.step("an empty add sends nothing", () => {
    const frames: string[] = [];
    const batcher = createBatcher({ send: (f) => frames.push(f), delayMs: 10_000 });
    batcher.add(emptyOutgoing(), true);
    batcher.add(emptyOutgoing(), false);
    batcher.flush();
    assert.deepEqual(frames, []);
    batcher.close();
  });
  await t.step("background adds wait and coalesce into one frame", async () => {
    const frames: string[] = [];
    let sent!: () => void;
    const done = new Promise<void>((resolve) => (sent = resolve));
    const batcher = createBatcher({
      send: (f) => {
        frames.push(f);
        sent();
      },
      delayMs: 5,
    });
    const a = emptyOutgoing();
    a.updates[1].push({ varId: 2, json: "1" });
    const b = emptyOutgoing();
    b.updates[1].push({ varId: 2, json: "2" });
    b.updates[0].push({ varId: 3, json: "3" });
    batcher.add(a, false);
    batcher.add(b, false);
    assert.equal(frames.length, 0, "nothing is sent synchronously");
    await done;
    assert.equal(frames.length, 1);
    assert.deepEqual(describe(JSON.parse(frames[0] ?? "[]")), ["update:3", "update:2"]);
    assert.deepEqual(JSON.parse(frames[0] ?? "[]")[1].data.value, 2);
    batcher.close();
  });
  await t.step("an immediate add also sends what was waiting", () => {
    const frames: string[] = [];
    const batcher = createBatcher({ send: (f) => frames.push(f), delayMs: 10_000 });
    const waiting = emptyOutgoing();
    waiting.destroys.push(8);
    batcher.add(waiting, false);
    const now = emptyOutgoing();
    now.updates[1].push({ varId: 2, json: "1" });
    batcher.add(now, true);
    assert.equal(frames.length, 1);
    assert.deepEqual(describe(JSON.parse(frames[0] ?? "[]")), ["destroy:8", "update:2"]);
    batcher.close();
  });
  await t.step("flush sends what is pending", () => {
    const frames: string[] = [];
    const batcher = createBatcher({ send: (f) => frames.push(f), delayMs: 10_000 });
    const out = emptyOutgoing();
    out.destroys.push(3);
    batcher.add(out, false);
    batcher.flush();
    assert.equal(frames.length, 1);
    batcher.flush();
    assert.equal(frames.length, 1, "nothing is sent twice");
    batcher.close();
  });
  await t.step("close drops pending work and stops the timer", async () => {
    const frames: string[] = [];
    const batcher = createBatcher({ send: (f) => frames.push(f), delayMs: 1 });
    const out = emptyOutgoing();
    out.destroys.push(3);
    batcher.add(out, false);
    batcher.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    batcher.flush();
    assert.deepEqual(frames, []);
  });
});
