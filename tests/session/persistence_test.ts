/**
 * Persistence (src/session/persistence.ts) over the memory store, with the store's answers to a
 * claim held back so that a save can be refused while a reconnect's claim is in flight.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log.ts";
import { createPersistence } from "../../src/session/persistence.ts";
import { openSessionStore } from "../../src/store/open_session_store.ts";
import type { SessionStore } from "../../src/store/session_store.ts";
import { sessionHarness } from "../support/session_harness.ts";

const MAIN = `
app = { count = 0 }
function app:click() self.count = self.count + 1 end
session:createAppVariable(app)
`;

Deno.test("a save refused while a reconnect claims the session again does not give it up", async () => {
  const memory = await openSessionStore("memory");
  // The store's claims happen at once; their answers wait for `release`.
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  let holding = false;
  const store: SessionStore = {
    ...memory,
    claim: async (sid, owner) => {
      const claimed = await memory.claim(sid, owner);
      if (holding) await held;
      return claimed;
    },
  };
  const lost: string[] = [];
  const persistence = createPersistence({
    store,
    instanceId: "a",
    log: silentLogger,
    delayMs: 60_000,
    touchMs: 60_000,
    lost: (sid) => lost.push(sid),
  });
  const { session, act } = sessionHarness(MAIN);
  try {
    await persistence.claim("s1");
    persistence.track("s1", session);
    await act(2, "click");
    await persistence.save("s1");

    await act(2, "click"); // a change the reconnect's save will carry
    holding = true;
    const reclaimed = persistence.reclaim("s1"); // the store has the new claim; A has not heard
    await new Promise((resolve) => setTimeout(resolve, 10));
    await persistence.save("s1"); // refused: the lease it holds is the old one
    assert.deepEqual(lost, [], "a refusal during the claim gives nothing up");

    release();
    assert.deepEqual(await reclaimed, { stale: false, snapshot: undefined });
    await act(2, "click");
    await persistence.save("s1");
    assert.deepEqual(lost, []);
    const stored = await memory.load("s1");
    assert.ok(stored?.snapshot, "the session is still saved under the renewed lease");
  } finally {
    session.shutdown();
    await persistence.close();
  }
});
