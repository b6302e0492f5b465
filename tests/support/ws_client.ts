/**
 * Test support: start a real server on port 0 and talk to it over a real WebSocket.
 *
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { newSid } from "../../src/session/manager.ts";
import { type RunningServer, startServer } from "../../src/server/start.ts";

/** A message as received: `{type, data}`. */
export interface Received {
  type: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** Starts a server for a fixture site (a folder under tests/fixtures) or the embedded app. */
export function startTestServer(
  overrides: Partial<Config> = {},
): Promise<RunningServer> {
  return startServer(
    { ...DEFAULT_CONFIG, port: 0, host: "127.0.0.1", ...overrides },
    { log: silentLogger },
  );
}

/** The absolute path of a fixture site. */
export function fixture(name: string): string {
  return new URL(`../fixtures/${name}`, import.meta.url).pathname;
}

/** A protocol client over a real WebSocket. */
export class TestClient {
  readonly socket: WebSocket;
  readonly sid: string;
  /** Every frame received, parsed. */
  readonly frames: Received[][] = [];
  #waiters: (() => void)[] = [];
  closeCode: number | undefined;
  readonly closedPromise: Promise<number>;

  private constructor(socket: WebSocket, sid: string) {
    this.socket = socket;
    this.sid = sid;
    const closed = Promise.withResolvers<number>();
    this.closedPromise = closed.promise;
    socket.onmessage = (event) => {
      this.frames.push(JSON.parse(event.data as string));
      for (const wake of this.#waiters.splice(0)) wake();
    };
    socket.onclose = (event) => {
      this.closeCode = event.code;
      closed.resolve(event.code);
      for (const wake of this.#waiters.splice(0)) wake();
    };
  }

  /** Opens a connection to `/ws/<sid>` (a fresh sid by default). */
  static async connect(server: RunningServer, sid = newSid()): Promise<TestClient> {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws/${sid}`);
    const client = new TestClient(socket, sid);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("WebSocket failed to open"));
    });
    return client;
  }

  /** Sends a batch of messages. */
  send(messages: unknown[], userEvent = true): void {
    this.socket.send(JSON.stringify({ userEvent, messages }));
  }

  /** Sends raw text. */
  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Every message received so far, flattened. */
  messages(): Received[] {
    return this.frames.flat();
  }

  /** Waits for the next frame (or rejects after `ms`). */
  async nextFrame(ms = 2000): Promise<Received[]> {
    const count = this.frames.length;
    await this.until(() => this.frames.length > count, ms);
    return this.frames[count] as Received[];
  }

  /** Sends a batch and waits for the frame that answers it. */
  async request(messages: unknown[], userEvent = true, ms = 2000): Promise<Received[]> {
    const next = this.nextFrame(ms);
    this.send(messages, userEvent);
    return await next;
  }

  /** Waits until a condition over the received frames holds. */
  async until(condition: () => boolean, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("Timed out waiting for the server");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until nothing arrives for `ms` and returns what arrived meanwhile. */
  async quiet(ms = 60): Promise<Received[]> {
    const start = this.frames.length;
    let seen = start;
    do {
      seen = this.frames.length;
      await new Promise((resolve) => setTimeout(resolve, ms));
    } while (this.frames.length !== seen);
    return this.frames.slice(start).flat();
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close();
    await this.closedPromise;
  }
}

/** Shorthand for a `create` message. */
export function create(
  id: number,
  parentId: number,
  properties: Record<string, string>,
): { type: "create"; data: { id: number; parentId: number; properties: Record<string, string> } } {
  return { type: "create", data: { id, parentId, properties } };
}

/** Shorthand for an `update` message with a value. */
export function update(varId: number, value: unknown) {
  return { type: "update", data: { varId, value } };
}

/** The updates for one variable in a list of messages. */
export function updatesFor(messages: Received[], varId: number): Received[] {
  return messages.filter((m) => m.type === "update" && m.data.varId === varId);
}
