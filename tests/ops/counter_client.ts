/**
 * The persistence fixture (`tests/fixtures/persist_site`, a counter) as the tests of stores,
 * restarts and several processes drive it: bind the count and the click action, click, read the
 * count back.
 */
import {
  create,
  type Received,
  TestBrowser,
  TestClient,
  update,
  updatesFor,
  watch,
} from "../support/ws_client.ts";

/** The frame that watches the app and binds the count (variable 2) and `click()` (variable 3). */
export const BIND_COUNTER = [
  watch(1),
  create(2, 1, { path: "count" }),
  create(3, 1, { path: "click()", access: "action" }),
];

/** The last count in an answer. */
export function countIn(messages: Received[]): unknown {
  return updatesFor(messages, 2).at(-1)?.data.value;
}

/** Connects to `port` as `browser`, binds the counter and returns the client and its count. */
export async function openCounter(port: number, browser: TestBrowser, sid: string, ms?: number) {
  const client = await TestClient.connect({ port }, sid, { browser });
  return { client, count: countIn(await client.exchange(BIND_COUNTER, true, ms)) };
}

/** Clicks `times` times, one round trip each; the count after the last. */
export async function click(client: TestClient, times: number): Promise<unknown> {
  let count: unknown;
  for (let i = 0; i < times; i++) count = countIn(await client.exchange([update(3, null)]));
  return count;
}

/** Resolves after `ms`. */
export const pause = (ms: number): Promise<unknown> =>
  new Promise((resolve) => setTimeout(resolve, ms));
