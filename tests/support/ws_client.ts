/**
 * Test support: start a real server on port 0 and talk to it over a real WebSocket.
 *
 * @module
 */
import { type Config, DEFAULT_CONFIG } from "../../src/config.ts";
import { type Logger, silentLogger } from "../../src/log.ts";
import { type RunningServer, startServer } from "../../src/server/start.ts";

/** A message as received: `{type, data}`. */
export interface Received {
  type: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/**
 * The `--secret` of test servers. Fixed, as a deployment's is, so that a server restarted on the
 * same port accepts the session ids its predecessor minted.
 */
export const TEST_SECRET = "test secret, the same for every test server";

/**
 * Starts a server for a fixture site (a folder under tests/fixtures) or the embedded app. Test
 * servers let clients bind arbitrary paths (`openPaths`) unless a test asks for the default,
 * template-only paths, with `{ openPaths: false }`.
 */
export function startTestServer(
  overrides: Partial<Config> = {},
  options: { log?: Logger; flushDelayMs?: number } = {},
): Promise<RunningServer> {
  return startServer(
    {
      ...DEFAULT_CONFIG,
      port: 0,
      host: "127.0.0.1",
      secret: TEST_SECRET,
      openPaths: true,
      ...overrides,
    },
    { log: options.log ?? silentLogger, flushDelayMs: options.flushDelayMs },
  );
}

/** A logger that keeps every line (level and message) for assertions. */
export function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const make = (scope: string): Logger => ({
    error: (message) => lines.push({ level: "error", message: scope + message }),
    warn: (message) => lines.push({ level: "warn", message: scope + message }),
    info: (message) => lines.push({ level: "info", message: scope + message }),
    debug: (message) => lines.push({ level: "debug", message: scope + message }),
    forSession: (vendedId) => make(`[session ${vendedId}] `),
  });
  return Object.assign(make(""), { lines });
}

/** The absolute path of a fixture site. */
export function fixture(name: string): string {
  return new URL(`../fixtures/${name}`, import.meta.url).pathname;
}

/**
 * A browser as the server sees it: the ownership cookie it was given, kept across requests.
 * Sessions are made the way a browser makes them: `GET /`, keep the cookie, follow the redirect.
 */
export class TestBrowser {
  readonly port: number;
  /** The `name=value` pair of the ownership cookie, once the server has set it. */
  cookie: string | undefined;

  constructor(port: number) {
    this.port = port;
  }

  /** `http://127.0.0.1:<port>`. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A GET with this browser's cookie; keeps any cookie the server sets. Redirects not followed. */
  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(`${this.origin}${path}`, {
      redirect: "manual",
      headers: { ...this.headers(), ...headers },
    });
    const set = response.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0];
    return response;
  }

  /** A fresh session id owned by this browser (`GET /` and its redirect). */
  async newSid(): Promise<string> {
    const response = await this.get("/");
    await response.body?.cancel();
    const location = response.headers.get("location") ?? "";
    const sid = /^\/([0-9a-f]{32})$/.exec(location)?.[1];
    if (response.status !== 307 || !sid) {
      throw new Error(`GET / gave ${response.status} to ${JSON.stringify(location)}`);
    }
    return sid;
  }

  /** The headers this browser sends: its cookie, if it has one. */
  headers(): Record<string, string> {
    return this.cookie ? { cookie: this.cookie } : {};
  }
}

/**
 * Opens a WebSocket that sends `headers` on its upgrade request (Deno's `WebSocket` takes
 * `{ headers }`; the DOM typings that the browser tests load do not know it).
 */
export function openWebSocket(url: string, headers: Record<string, string>): WebSocket {
  const DenoWebSocket = WebSocket as unknown as new (
    url: string,
    options: { headers: Record<string, string> },
  ) => WebSocket;
  return new DenoWebSocket(url, { headers });
}

/** A server as the test clients need it: where it listens. */
export type ServerAddress = Pick<RunningServer, "port">;

const browsers = new WeakMap<ServerAddress, TestBrowser>();

/** The browser the test clients of `server` share unless given another one. */
export function defaultBrowser(server: ServerAddress): TestBrowser {
  let browser = browsers.get(server);
  if (!browser) browsers.set(server, browser = new TestBrowser(server.port));
  return browser;
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

  /**
   * Opens a connection to `/ws/<sid>` (a fresh session by default) as `browser` (the server's
   * default test browser unless given), with its cookie and any extra `headers` (`origin`).
   */
  static async connect(
    server: ServerAddress,
    sid?: string,
    options: { browser?: TestBrowser; headers?: Record<string, string> } = {},
  ): Promise<TestClient> {
    const browser = options.browser ?? defaultBrowser(server);
    sid ??= await browser.newSid();
    const socket = openWebSocket(`ws://127.0.0.1:${server.port}/ws/${sid}`, {
      ...browser.headers(),
      ...options.headers,
    });
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

  /**
   * Sends a batch, then a sentinel frame that the server always answers (an `unwatch` of
   * {@link SENTINEL_ID}, refused with `not-found`), and returns every message that arrived
   * before the sentinel's answer. Frames are handled in order, so this is exactly the answer
   * to the batch, even when that answer is empty.
   */
  async exchange(messages: unknown[], userEvent = true, ms = 5000): Promise<Received[]> {
    return await this.exchangeRaw(JSON.stringify({ userEvent, messages }), ms);
  }

  /** Like {@link exchange}, for a raw text frame. */
  async exchangeRaw(text: string, ms = 5000): Promise<Received[]> {
    const start = this.frames.length;
    this.socket.send(text);
    this.socket.send(JSON.stringify({ userEvent: true, messages: [SENTINEL] }));
    const isSentinel = (m: Received) =>
      m.type === "error" && m.data?.varId === SENTINEL_ID && m.data?.code === "not-found";
    await this.until(() => this.frames.slice(start).some((frame) => frame.some(isSentinel)), ms);
    const answer: Received[] = [];
    for (const frame of this.frames.slice(start)) {
      for (const message of frame) {
        if (isSentinel(message)) return answer;
        answer.push(message);
      }
    }
    return answer;
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

/** A variable id no test creates; the sentinel of {@link TestClient.exchange} unwatches it. */
export const SENTINEL_ID = Number.MAX_SAFE_INTEGER;

const SENTINEL = { type: "unwatch", data: { varId: SENTINEL_ID } };

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

/** Shorthand for a `watch` message. */
export function watch(varId: number) {
  return { type: "watch", data: { varId } };
}

/** Shorthand for an `unwatch` message. */
export function unwatch(varId: number) {
  return { type: "unwatch", data: { varId } };
}

/** Shorthand for a `destroy` message. */
export function destroy(varId: number) {
  return { type: "destroy", data: { varId } };
}

/** Shorthand for an `update` message that carries only properties. */
export function updateProperties(varId: number, properties: Record<string, string>) {
  return { type: "update", data: { varId, properties } };
}
