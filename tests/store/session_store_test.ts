// The session store contract, run against every store on real backends: memory, a temporary
// Deno KV file and a redis-server started on a free port. Corruption is made in the backend
// itself, behind the store's back.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createClient } from "redis";
import { openSessionStore } from "../../src/store/open_session_store.ts";
import type { SessionStore } from "../../src/store/session_store.ts";
import { CHUNK_BYTES } from "../../src/store/kv_store.ts";
import { startRedis } from "./redis_server.ts";

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the contract against stores made by `open` (`ttlMs` varies per step). */
async function contract(
  t: Deno.TestContext,
  open: (ttlMs: number) => Promise<SessionStore>,
): Promise<void> {
  const store = await open(60_000);
  try {
    await t.step("a first claim finds nothing; a save loads back", async () => {
      const { lease, previous } = await store.claim("round", "a");
      assert.equal(previous, null);
      assert.equal(await store.load("round").then((r) => r?.snapshot), null);
      const snapshot = bytes(1000, 1);
      assert.equal(await store.save(lease, snapshot), "ok");
      const loaded = await store.load("round");
      assert.deepEqual(loaded?.snapshot, snapshot);
      assert.equal(loaded?.owner, "a");
      assert.equal(loaded?.generation, lease.generation);
      assert.equal(await store.load("absent"), null);
    });

    await t.step("a snapshot over 1 MiB round-trips", async () => {
      const { lease } = await store.claim("big", "a");
      const snapshot = bytes(1024 * 1024 + 12345, 2);
      assert.ok(snapshot.length > 17 * CHUNK_BYTES);
      assert.equal(await store.save(lease, snapshot), "ok");
      assert.deepEqual((await store.load("big"))?.snapshot, snapshot);
      const smaller = bytes(5000, 3);
      assert.equal(await store.save(lease, smaller), "ok");
      assert.deepEqual((await store.load("big"))?.snapshot, smaller);
    });

    await t.step("a newer claim takes over; the old owner's writes are lost", async () => {
      const first = await store.claim("hop", "a");
      const saved = bytes(3000, 4);
      assert.equal(await store.save(first.lease, saved), "ok");
      const second = await store.claim("hop", "b");
      assert.ok(second.lease.generation > first.lease.generation);
      assert.deepEqual(second.previous?.snapshot, saved);
      assert.equal(second.previous?.owner, "a");
      assert.equal(await store.save(first.lease, bytes(10, 5)), "lost");
      assert.equal(await store.touch(first.lease), "lost");
      assert.deepEqual((await store.load("hop"))?.snapshot, saved);
      assert.equal(await store.save(second.lease, bytes(10, 6)), "ok");
      assert.equal(await store.touch(second.lease), "ok");
      const loaded = await store.load("hop");
      assert.equal(loaded?.owner, "b");
      assert.deepEqual(loaded?.snapshot, bytes(10, 6));
    });

    await t.step("concurrent saves leave one whole snapshot; a rival claim wins", async () => {
      const { lease } = await store.claim("race", "a");
      const candidates = Array.from({ length: 6 }, (_, i) => bytes(70_000 + i * 1000, 10 + i));
      const results = await Promise.all(candidates.map((c) => store.save(lease, c)));
      assert.deepEqual(results, candidates.map(() => "ok"));
      const loaded = await store.load("race");
      assert.equal(loaded?.corrupt, undefined);
      assert.ok(
        candidates.some((c) => loaded?.snapshot && Buffer.compare(c, loaded.snapshot) === 0),
      );
      const [saves, rival] = await Promise.all([
        Promise.all(candidates.map((c) => store.save(lease, c))),
        store.claim("race", "b"),
      ]);
      assert.equal(await store.save(lease, bytes(10, 1)), "lost");
      assert.equal(await store.save(rival.lease, bytes(10, 2)), "ok");
      assert.ok(saves.every((r) => r === "ok" || r === "lost"));
      assert.deepEqual((await store.load("race"))?.snapshot, bytes(10, 2));
    });

    await t.step("delete forgets a session", async () => {
      const { lease } = await store.claim("gone", "a");
      await store.save(lease, bytes(200_000, 7));
      await store.delete("gone");
      assert.equal(await store.load("gone"), null);
      assert.equal(await store.save(lease, bytes(10, 7)), "lost");
    });

    await t.step("app values are namespaced, deletable and bounded", async () => {
      await store.setValue("app1", "k", bytes(100, 8));
      await store.setValue("app2", "k", bytes(50, 9));
      assert.deepEqual(await store.getValue("app1", "k"), bytes(100, 8));
      assert.deepEqual(await store.getValue("app2", "k"), bytes(50, 9));
      await store.setValue("app1", "k", null);
      assert.equal(await store.getValue("app1", "k"), null);
      await assert.rejects(() => store.setValue("app1", "big", bytes(70_000, 1)), /limit/);
    });
  } finally {
    await store.close();
  }

  await t.step("a record expires after its TTL; writes to it are lost", async () => {
    const short = await open(300);
    try {
      const { lease } = await short.claim("ttl", "a");
      assert.equal(await short.save(lease, bytes(100, 1)), "ok");
      await sleep(150);
      assert.equal(await short.touch(lease), "ok");
      await sleep(200);
      assert.ok(await short.load("ttl"), "touch renewed the record");
      await sleep(400);
      assert.equal(await short.load("ttl"), null);
      assert.equal(await short.save(lease, bytes(100, 2)), "lost");
      const again = await short.claim("ttl", "b");
      assert.equal(again.previous, null);
      assert.notEqual(again.lease.generation, lease.generation);
    } finally {
      await short.close();
    }
  });
}

Deno.test("memory store", async (t) => {
  await contract(t, (ttlMs) => openSessionStore("memory", { ttlMs }));
});

Deno.test("Deno KV store", async (t) => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sessions.kv`;
  try {
    await contract(t, (ttlMs) => openSessionStore(`kv:${path}`, { ttlMs }));

    await t.step("a changed or missing chunk reads as corrupt, not as garbage", async () => {
      const store = await openSessionStore(`kv:${path}`, { ttlMs: 60_000 });
      const kv = await Deno.openKv(path);
      try {
        const { lease } = await store.claim("bad", "a");
        assert.equal(await store.save(lease, bytes(3 * CHUNK_BYTES, 1)), "ok");
        const chunks = await Array.fromAsync(
          kv.list<Uint8Array>({ prefix: ["ui", "chunk", "bad"] }),
        );
        assert.equal(chunks.length, 3, "one version's chunks remain");
        const [first] = chunks;
        assert.ok(first);
        const changed = first.value.slice();
        changed[10] = (changed[10] as number) ^ 1;
        await kv.set(first.key, changed);
        const loaded = await store.load("bad");
        assert.equal(loaded?.snapshot, null);
        assert.match(loaded?.corrupt ?? "", /digest/);
        await kv.set(first.key, changed.subarray(1));
        assert.match((await store.load("bad"))?.corrupt ?? "", /bytes where/);
        await kv.delete(first.key);
        assert.match((await store.load("bad"))?.corrupt ?? "", /missing/);
        const claimed = await store.claim("bad", "b");
        assert.match(claimed.previous?.corrupt ?? "", /missing/);
      } finally {
        kv.close();
        await store.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Redis store", async (t) => {
  const server = await startRedis();
  try {
    await contract(t, (ttlMs) => openSessionStore(server.url, { ttlMs }));

    await t.step("changed bytes read as corrupt, not as garbage", async () => {
      const store = await openSessionStore(server.url, { ttlMs: 60_000 });
      const raw = createClient({ url: server.url });
      await raw.connect();
      try {
        const { lease } = await store.claim("bad", "a");
        assert.equal(await store.save(lease, bytes(5000, 1)), "ok");
        const changed = Buffer.from(bytes(5000, 1));
        changed[7] = (changed[7] as number) ^ 1;
        await raw.hSet("ui:session:bad", "data", changed);
        const loaded = await store.load("bad");
        assert.equal(loaded?.snapshot, null);
        assert.match(loaded?.corrupt ?? "", /digest/);
      } finally {
        await raw.close();
        await store.close();
      }
    });
  } finally {
    await server.stop();
  }
});
