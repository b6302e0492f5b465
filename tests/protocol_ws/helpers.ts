/**
 * Helpers shared by the WebSocket protocol tests: a harness that owns one server and every
 * client opened against it (so each test closes all of them), and small assertions on replies.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config.ts";
import type { Logger } from "../../src/log.ts";
import type { RunningServer } from "../../src/server/start.ts";
import {
  fixture,
  type Received,
  startTestServer,
  TestClient,
  watch,
} from "../support/ws_client.ts";

/** A server plus the clients a test opened against it. */
export class Harness {
  readonly server: RunningServer;
  readonly clients: TestClient[] = [];

  private constructor(server: RunningServer) {
    this.server = server;
  }

  /** Starts a server for a fixture site (by folder name under tests/fixtures). */
  static async start(
    site: string,
    overrides: Partial<Config> = {},
    options: { log?: Logger } = {},
  ): Promise<Harness> {
    return new Harness(await startTestServer({ dir: fixture(site), ...overrides }, options));
  }

  /** Base URL for HTTP requests. */
  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Opens a client (a fresh session unless `sid` is given); it is closed by {@link close}. */
  async connect(sid?: string): Promise<TestClient> {
    const client = await TestClient.connect(this.server, sid);
    this.clients.push(client);
    return client;
  }

  /** Opens a client and watches variable 1; returns the client, the answer and the app's obj id. */
  async open(sid?: string): Promise<{ client: TestClient; answer: Received[]; appId: number }> {
    const client = await this.connect(sid);
    const answer = await client.exchange([watch(1)]);
    const app = answer.find((m) => m.type === "update" && m.data.varId === 1 && "value" in m.data);
    assert.ok(app, `watch 1 got no value: ${JSON.stringify(answer)}`);
    return { client, answer, appId: objId(app.data.value) };
  }

  /** Closes every client, then the server. */
  async close(): Promise<void> {
    for (const client of this.clients) await client.close();
    await this.server.shutdown();
  }
}

/** Runs a test body against a fresh harness and always closes it. */
export async function withHarness(
  site: string,
  overrides: Partial<Config>,
  body: (harness: Harness) => Promise<void>,
  options: { log?: Logger } = {},
): Promise<void> {
  const harness = await Harness.start(site, overrides, options);
  try {
    await body(harness);
  } finally {
    await harness.close();
  }
}

/** The object id in a `{"obj": N}` value. */
export function objId(value: unknown): number {
  assert.ok(
    typeof value === "object" && value !== null && !Array.isArray(value),
    `expected an object reference, got ${JSON.stringify(value)}`,
  );
  const id = (value as Record<string, unknown>).obj;
  assert.equal(typeof id, "number", `expected {"obj": N}, got ${JSON.stringify(value)}`);
  assert.deepEqual(Object.keys(value as object), ["obj"]);
  return id as number;
}

/** The single `update` for a variable in an answer (fails if there is not exactly one). */
export function onlyUpdate(messages: Received[], varId: number): Received["data"] {
  const found = messages.filter((m) => m.type === "update" && m.data.varId === varId);
  assert.equal(found.length, 1, `expected one update of ${varId} in ${JSON.stringify(messages)}`);
  return (found[0] as Received).data;
}

/** The value sent for a variable in an answer. */
export function valueOf(messages: Received[], varId: number): unknown {
  const data = onlyUpdate(messages, varId);
  assert.ok("value" in data, `update of ${varId} carries no value: ${JSON.stringify(data)}`);
  return data.value;
}

/** The single error in an answer, checked for its code (and variable, when given). */
export function onlyError(messages: Received[], code: string, varId?: number): Received["data"] {
  const errors = messages.filter((m) => m.type === "error");
  assert.equal(errors.length, 1, `expected one error in ${JSON.stringify(messages)}`);
  const data = (errors[0] as Received).data;
  assert.equal(data.code, code, `expected ${code}, got ${JSON.stringify(data)}`);
  if (varId !== undefined) assert.equal(data.varId, varId);
  assert.equal(typeof data.description, "string");
  assert.ok(data.description.length > 0);
  return data;
}

/** Asserts that an answer is exactly empty. */
export function assertNothing(messages: Received[]): void {
  assert.deepEqual(messages, []);
}

/** Polls a condition until it holds (or fails after `ms`). */
export async function waitFor(
  condition: () => boolean,
  ms = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Shape check for every server message: `{type, data}` with the fields SPEC 4 gives it. */
export function assertWellFormed(message: unknown): void {
  assert.ok(typeof message === "object" && message !== null && !Array.isArray(message));
  const { type, data } = message as { type: unknown; data: Record<string, unknown> };
  assert.ok(typeof data === "object" && data !== null, `no data in ${JSON.stringify(message)}`);
  switch (type) {
    case "update":
      assert.ok(Number.isSafeInteger(data.varId), `bad update ${JSON.stringify(message)}`);
      assert.ok("value" in data || "properties" in data, `empty update ${JSON.stringify(message)}`);
      if ("properties" in data) {
        const properties = data.properties as Record<string, unknown>;
        for (const [name, value] of Object.entries(properties)) {
          assert.equal(typeof value, "string", `property ${name} is not a string`);
          assert.ok(!/:(high|med|medium|low)$/.test(name), `suffix sent on ${name}`);
        }
      }
      return;
    case "destroy":
      assert.ok(Number.isSafeInteger(data.varId), `bad destroy ${JSON.stringify(message)}`);
      return;
    case "error":
      assert.ok(ERROR_CODES.has(data.code as string), `unknown code ${JSON.stringify(message)}`);
      assert.equal(typeof data.description, "string");
      if ("varId" in data) assert.ok(Number.isSafeInteger(data.varId));
      return;
    default:
      assert.fail(`unexpected message type in ${JSON.stringify(message)}`);
  }
}

/** The error codes of SPEC 12. */
export const ERROR_CODES = new Set([
  "bad-message",
  "unknown-type",
  "not-found",
  "duplicate-id",
  "bad-access",
  "path-failure",
  "lua-error",
  "lua-timeout",
  "forbidden",
  "too-large",
  "limit",
]);
