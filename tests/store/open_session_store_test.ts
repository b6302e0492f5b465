// The store URL forms: known ones open the right store, others are refused with the forms.
import assert from "node:assert/strict";
import { openSessionStore } from "../../src/store/open_session_store.ts";

Deno.test("openSessionStore", async (t) => {
  await t.step("memory is the default", async () => {
    for (const url of ["", "memory"]) {
      const store = await openSessionStore(url);
      assert.equal(store.kind, "memory");
      await store.close();
    }
  });

  await t.step("kv:PATH opens a KV file", async () => {
    const dir = await Deno.makeTempDir();
    const store = await openSessionStore(`kv:${dir}/s.kv`);
    assert.equal(store.kind, "kv");
    await store.close();
    assert.ok((await Deno.stat(`${dir}/s.kv`)).isFile);
    await Deno.remove(dir, { recursive: true });
  });

  await t.step("unknown URLs and an empty kv path are refused clearly", async () => {
    await assert.rejects(
      () => openSessionStore("postgres://db"),
      /Session store "postgres:\/\/db" is not known; use memory, kv, kv:PATH or redis:\/\/HOST:PORT/,
    );
    await assert.rejects(() => openSessionStore("kv:"), /needs a path/);
    await assert.rejects(() => openSessionStore("redis://"), /is not known/);
  });

  await t.step("an unreachable Redis fails within the connect timeout", async () => {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    await assert.rejects(
      () => openSessionStore(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 300 }),
      /did not answer within 300 ms/,
    );
  });
});
