/**
 * The load process: drives many WebSocket sessions against a server on loopback and reports
 * what it measured as JSON lines on stdout. It runs in its own process so that the server's
 * work and the clients' work do not share an event loop.
 *
 * Run as `deno run --allow-net bench/load_client.ts '<ClientConfig as JSON>'`, or with `--serve`
 * to take one configuration per stdin line and answer each with its result line. Modes:
 *
 * - `roundtrip`: every session clicks (an `update` of the action variable `click()`) and waits
 *   for the update of its watched `count`; against the echo server it waits for the echo of
 *   the same frame.
 * - `sessions`: opens fresh sessions one after another (a few in flight) and times the way from
 *   opening the socket to the first answer of `watch 1`.
 * - `load`: every session clicks and types at random and checks that each effect reaches its
 *   own client, and only its own: its counter and text must be exactly what it did.
 *
 * Lines written: `{"event":"connected",...}` once every session is set up, `{"event":"idle"}`
 * when `holdOpen` is set and the sessions sit idle (the process then waits for a line on stdin
 * before closing them), and a final `{"event":"result",...}`.
 *
 * @module
 */
import {
  BIND_FRAME,
  CLICK_ID,
  COUNT_ID,
  create,
  SHOWN_ID,
  TEXT_ID,
  WATCH_FRAME,
} from "./frames.ts";
import { lines } from "./lines.ts";
import { summarize, type Summary } from "./stats.ts";

/** What the load process is asked to do. */
export interface ClientConfig {
  mode: "roundtrip" | "sessions" | "load";
  /** Base WebSocket URL, e.g. `ws://127.0.0.1:8000/ws/`; the session id is appended. */
  url: string;
  /** `server` speaks the session protocol; `echo` expects each frame back unchanged. */
  target: "server" | "echo";
  /** Concurrent sessions (`roundtrip`, `load`). */
  sessions: number;
  /** How long the measured phase lasts. */
  durationMs: number;
  /** Mean pause between a session's actions (uniform in [0, 2 × mean]); 0 means none. */
  thinkMs: number;
  /** Sessions set up at the same time while connecting. */
  rampConcurrency?: number;
  /** Sessions opened at the same time (`sessions` mode). */
  concurrency?: number;
  /** Keep the sessions open after the measured phase until a line arrives on stdin. */
  holdOpen?: boolean;
}

/** The final report of a run. */
export interface ClientResult {
  event: "result";
  mode: ClientConfig["mode"];
  target: ClientConfig["target"];
  sessions: number;
  /** Latency of each action (or of each new session), in milliseconds. */
  latency: Summary;
  /** Socket open to the first answer of `watch 1` while connecting, in milliseconds. */
  setup: Summary;
  /** Wall time of the connecting phase. */
  setupMs: number;
  /** Actions (or sessions) per second over the measured phase. */
  rate: number;
  actions: number;
  clicks: number;
  types: number;
  /** `error` messages received, failed or dropped sockets. */
  errors: number;
  /** Values that differed from what the session's own actions imply. */
  mismatches: number;
  /** Actions whose effect never arrived. */
  timeouts: number;
  /** Sessions whose final state (read back through fresh variables) was wrong. */
  finalMismatches: number;
  /** Sessions whose final state was read back and matched. */
  verified: number;
  /** Updates of the written `text` variable sent back to its writer (should be none). */
  echoes: number;
  /** A few of the problems seen, for the report. */
  samples: string[];
}

// deno-lint-ignore no-explicit-any
type Message = { type: string; data: any };

const ACTION_TIMEOUT_MS = 10_000;
const FINAL_COUNT_ID = 10;
const FINAL_TEXT_ID = 11;

const CLICK_FRAME = JSON.stringify({
  userEvent: true,
  messages: [{ type: "update", data: { varId: CLICK_ID, value: null } }],
});
const FINAL_FRAME = JSON.stringify({
  userEvent: true,
  messages: [
    create(FINAL_COUNT_ID, { path: "count", access: "r" }),
    create(FINAL_TEXT_ID, { path: "text", access: "r" }),
  ],
});

function randomSid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Session ids got the way a browser gets them: `GET /` answers with a redirect to a fresh sid
 * bound to the browser's cookie (set on the first request), and the socket's upgrade carries
 * that cookie. All sessions of a run share one browser, like the tabs of one browser. The echo
 * server takes any path, so it gets random ids and no cookie.
 */
class Browser {
  readonly #origin: string;
  readonly #echo: boolean;
  #cookie: string | undefined;
  /** The first request, which gets the cookie: the others wait for it, or each would get one. */
  #first: Promise<string> | undefined;

  constructor(url: string, echo: boolean) {
    this.#origin = new URL(url).origin.replace(/^ws/, "http");
    this.#echo = echo;
  }

  /** A fresh session id owned by this browser. */
  async newSid(): Promise<string> {
    if (this.#echo) return randomSid();
    if (this.#cookie === undefined) {
      if (!this.#first) return await (this.#first = this.#mint());
      await this.#first.catch(() => {});
    }
    return await this.#mint();
  }

  async #mint(): Promise<string> {
    const response = await fetch(`${this.#origin}/`, {
      redirect: "manual",
      headers: this.headers(),
    });
    await response.body?.cancel();
    const set = response.headers.get("set-cookie");
    if (set) this.#cookie = set.split(";")[0];
    const sid = /^\/([0-9a-f]{32})$/.exec(response.headers.get("location") ?? "")?.[1];
    if (response.status !== 307 || !sid) {
      throw new Error(`GET / answered ${response.status} without a session to go to`);
    }
    return sid;
  }

  /** The headers of a request from this browser: its cookie, once it has one. */
  headers(): Record<string, string> {
    return this.#cookie ? { cookie: this.#cookie } : {};
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A WebSocket whose upgrade request carries `headers` (Deno's `WebSocket` takes `{ headers }`;
 * the DOM typings, loaded when the browser tests are checked along, do not know it).
 */
function openWebSocket(url: string, headers: Record<string, string>): WebSocket {
  const DenoWebSocket = WebSocket as unknown as new (
    url: string,
    options: { headers: Record<string, string> },
  ) => WebSocket;
  return new DenoWebSocket(url, { headers });
}

/** Counters shared by every session of the run. */
class Tally {
  errors = 0;
  mismatches = 0;
  timeouts = 0;
  echoes = 0;
  readonly samples: string[] = [];

  note(kind: "errors" | "mismatches" | "timeouts", what: string): void {
    this[kind]++;
    if (this.samples.length < 10) this.samples.push(what);
  }
}

interface Waiter {
  done: (messages: Message[]) => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One session: a socket, what its own actions should have produced, and one pending wait. */
class Session {
  readonly index: number;
  readonly #tally: Tally;
  readonly #echo: boolean;
  #socket: WebSocket | undefined;
  #waiter: Waiter | undefined;
  #closed = Promise.withResolvers<void>();
  /** The counter value this session's clicks imply. */
  expectedCount = 0;
  /** The text this session last typed. */
  expectedText = "";
  /** Values read back at the end. */
  finalCount: unknown = undefined;
  finalText: unknown = undefined;
  failed = false;

  constructor(index: number, tally: Tally, echo: boolean) {
    this.index = index;
    this.#tally = tally;
    this.#echo = echo;
  }

  /** Opens the socket for `sid` as `browser` and resolves once it is open. */
  open(url: string, sid: string, browser: Browser): Promise<void> {
    const opened = Promise.withResolvers<void>();
    const socket = openWebSocket(url + sid, browser.headers());
    this.#socket = socket;
    socket.onopen = () => opened.resolve();
    socket.onerror = () => {
      opened.reject(new Error(`Session ${this.index}: socket error`));
    };
    socket.onclose = (event) => {
      this.#closed.resolve();
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) waiter.reject(new Error(`Session ${this.index}: closed with ${event.code}`));
    };
    socket.onmessage = (event) => this.#receive(event.data as string);
    return opened.promise;
  }

  #receive(text: string): void {
    const parsed = JSON.parse(text) as Message[] | { messages: Message[] };
    const messages = this.#echo
      ? (parsed as { messages: Message[] }).messages
      : parsed as Message[];
    if (!this.#echo) this.#check(messages);
    const waiter = this.#waiter;
    if (!waiter) return;
    if (waiter.done(messages)) {
      this.#waiter = undefined;
      waiter.resolve();
    } else if (!this.#echo && messages.some((m) => m.type === "error")) {
      // The server refused the frame: the answer will not come (already counted as an error).
      this.#waiter = undefined;
      waiter.reject(new RefusedError(`Session ${this.index}: frame refused`));
    }
  }

  /** Every value of the session's own variables must follow from its own actions. */
  #check(messages: Message[]): void {
    for (const message of messages) {
      if (message.type === "error") {
        this.#tally.note("errors", `session ${this.index}: ${JSON.stringify(message.data)}`);
        continue;
      }
      if (message.type !== "update" || !("value" in message.data)) continue;
      const { varId, value } = message.data;
      if (varId === COUNT_ID && value !== this.expectedCount) {
        this.#tally.note(
          "mismatches",
          `session ${this.index}: count ${value}, expected ${this.expectedCount}`,
        );
      } else if (varId === SHOWN_ID && value !== this.expectedText) {
        this.#tally.note("mismatches", `session ${this.index}: text ${JSON.stringify(value)}`);
      } else if (varId === TEXT_ID && this.expectedText !== "") {
        this.#tally.echoes++;
      } else if (varId === FINAL_COUNT_ID) {
        this.finalCount = value;
      } else if (varId === FINAL_TEXT_ID) {
        this.finalText = value;
      }
    }
  }

  /** Sends a frame and waits until `done` holds for a received frame. */
  request(frame: string, done: (messages: Message[]) => boolean): Promise<void> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`Session ${this.index}: socket not open`));
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      if (this.#waiter?.resolve !== settle) return;
      this.#waiter = undefined;
      reject(new TimeoutError(`Session ${this.index}: no answer within ${ACTION_TIMEOUT_MS} ms`));
    }, ACTION_TIMEOUT_MS);
    const settle = () => {
      clearTimeout(timer);
      resolve();
    };
    this.#waiter = {
      done,
      resolve: settle,
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    };
    socket.send(frame);
    return promise;
  }

  /** Watches variable 1 and binds the variables the actions use. */
  async setUp(): Promise<void> {
    const anyFrame = () => true;
    await this.request(WATCH_FRAME, this.#echo ? anyFrame : (m) => hasUpdate(m, 1));
    await this.request(
      BIND_FRAME,
      this.#echo ? anyFrame : (m) => hasUpdate(m, COUNT_ID) && hasUpdate(m, SHOWN_ID),
    );
  }

  /** One click: waits for the counter's new value (or for the echo). */
  click(): Promise<void> {
    this.expectedCount++;
    const expected = this.expectedCount;
    return this.request(
      CLICK_FRAME,
      this.#echo ? () => true : (m) => valueOf(m, COUNT_ID) === expected,
    );
  }

  /** One keystroke in the text field: waits for `shown()` to show exactly the new text. */
  type(): Promise<void> {
    const token = `s${this.index}:`;
    let text = this.expectedText.startsWith(token) ? this.expectedText : token;
    text = text.length > 40 ? token : text;
    text += String.fromCharCode(97 + Math.floor(Math.random() * 26));
    this.expectedText = text;
    const frame = JSON.stringify({
      userEvent: true,
      messages: [{ type: "update", data: { varId: TEXT_ID, value: text } }],
    });
    return this.request(frame, this.#echo ? () => true : (m) => valueOf(m, SHOWN_ID) === text);
  }

  /** Reads the final counter and text back through fresh variables. */
  async readBack(): Promise<void> {
    await this.request(
      FINAL_FRAME,
      (m) => hasUpdate(m, FINAL_COUNT_ID) && hasUpdate(m, FINAL_TEXT_ID),
    );
  }

  /** Closes the socket and waits for the close (at most `ms`). */
  async close(ms = 5000): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      socket.close();
    }
    await Promise.race([this.#closed.promise, sleep(ms)]);
  }
}

class TimeoutError extends Error {}
class RefusedError extends Error {}

function hasUpdate(messages: Message[], varId: number): boolean {
  return messages.some((m) => m.type === "update" && m.data.varId === varId);
}

function valueOf(messages: Message[], varId: number): unknown {
  const found = messages.find((m) => m.type === "update" && m.data.varId === varId);
  return found ? found.data.value : undefined;
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function emit(line: object): void {
  console.log(JSON.stringify(line));
}

const stdinLines = lines(Deno.stdin.readable);

/** The next line of stdin, or `undefined` at its end. */
async function readLine(): Promise<string | undefined> {
  const next = await stdinLines.next();
  return next.done ? undefined : next.value;
}

/** Connects and drives the sessions of a `roundtrip` or `load` run. */
async function runSessions(config: ClientConfig): Promise<ClientResult> {
  const tally = new Tally();
  const echo = config.target === "echo";
  const sessions = Array.from({ length: config.sessions }, (_, i) => new Session(i, tally, echo));
  const browser = new Browser(config.url, echo);
  const setup: number[] = [];
  const setupStart = performance.now();
  await pool(sessions, config.rampConcurrency ?? 32, async (session) => {
    try {
      const sid = await browser.newSid();
      const start = performance.now();
      await session.open(config.url, sid, browser);
      await session.setUp();
      setup.push(performance.now() - start);
    } catch (error) {
      session.failed = true;
      tally.note("errors", String(error));
    }
  });
  const setupMs = performance.now() - setupStart;
  emit({ event: "connected", setupMs });

  const latencies: number[] = [];
  let clicks = 0;
  let types = 0;
  const start = performance.now();
  const deadline = start + config.durationMs;
  // A pause that would end after the deadline ends the session's run instead.
  const think = async () => {
    if (config.thinkMs <= 0) return performance.now() < deadline;
    const pause = Math.random() * 2 * config.thinkMs;
    if (performance.now() + pause >= deadline) return false;
    await sleep(pause);
    return true;
  };
  await Promise.all(sessions.map(async (session) => {
    if (session.failed) return;
    while (await think()) {
      const typing = config.mode === "load" && Math.random() < 0.5;
      const begun = performance.now();
      try {
        await (typing ? session.type() : session.click());
      } catch (error) {
        session.failed = true;
        if (!(error instanceof RefusedError)) {
          tally.note(error instanceof TimeoutError ? "timeouts" : "errors", String(error));
        }
        return;
      }
      latencies.push(performance.now() - begun);
      if (typing) types++;
      else clicks++;
    }
  }));
  const elapsed = performance.now() - start;

  let finalMismatches = 0;
  let verified = 0;
  if (config.mode === "load" && !echo) {
    await pool(sessions.filter((s) => !s.failed), 64, async (session) => {
      try {
        await session.readBack();
      } catch (error) {
        tally.note("errors", String(error));
        finalMismatches++;
        return;
      }
      if (
        session.finalCount === session.expectedCount && session.finalText === session.expectedText
      ) {
        verified++;
      } else {
        finalMismatches++;
        if (tally.samples.length < 10) {
          tally.samples.push(
            `session ${session.index}: final ${session.finalCount}/${
              JSON.stringify(session.finalText)
            }, ` +
              `expected ${session.expectedCount}/${JSON.stringify(session.expectedText)}`,
          );
        }
      }
    });
  }
  if (config.holdOpen) {
    emit({ event: "idle" });
    await readLine();
  }
  await Promise.all(sessions.map((session) => session.close()));
  return {
    event: "result",
    mode: config.mode,
    target: config.target,
    sessions: config.sessions,
    latency: summarize(latencies),
    setup: summarize(setup),
    setupMs,
    rate: (clicks + types) / (elapsed / 1000),
    actions: clicks + types,
    clicks,
    types,
    errors: tally.errors,
    mismatches: tally.mismatches,
    timeouts: tally.timeouts,
    finalMismatches,
    verified,
    echoes: tally.echoes,
    samples: tally.samples,
  };
}

/** Opens fresh sessions for `durationMs` and times each up to the first answer of `watch 1`. */
async function runNewSessions(config: ClientConfig): Promise<ClientResult> {
  const tally = new Tally();
  const echo = config.target === "echo";
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + config.durationMs;
  let index = 0;
  const browser = new Browser(config.url, echo);
  const worker = async () => {
    while (performance.now() < deadline) {
      const session = new Session(index++, tally, echo);
      try {
        // The id is minted before the clock starts: the figure is the socket's part.
        const sid = await browser.newSid();
        const begun = performance.now();
        await session.open(config.url, sid, browser);
        await session.request(WATCH_FRAME, echo ? () => true : (m) => hasUpdate(m, 1));
        latencies.push(performance.now() - begun);
      } catch (error) {
        tally.note("errors", String(error));
      }
      await session.close();
    }
  };
  await Promise.all(Array.from({ length: config.concurrency ?? 4 }, worker));
  const elapsed = performance.now() - start;
  const latency = summarize(latencies);
  return {
    event: "result",
    mode: config.mode,
    target: config.target,
    sessions: latencies.length,
    latency,
    setup: latency,
    setupMs: elapsed,
    rate: latencies.length / (elapsed / 1000),
    actions: latencies.length,
    clicks: 0,
    types: 0,
    errors: tally.errors,
    mismatches: 0,
    timeouts: tally.timeouts,
    finalMismatches: 0,
    verified: 0,
    echoes: 0,
    samples: tally.samples,
  };
}

/** Runs one configuration. */
function run(config: ClientConfig): Promise<ClientResult> {
  return config.mode === "sessions" ? runNewSessions(config) : runSessions(config);
}

if (import.meta.main) {
  const raw = Deno.args[0];
  if (raw === undefined) {
    console.error("Usage: load_client.ts '<config as JSON>' | --serve");
    Deno.exit(2);
  }
  if (raw === "--serve") {
    // One configuration per stdin line, one result line each, until stdin ends.
    emit({ event: "ready" });
    for (let line = await readLine(); line !== undefined; line = await readLine()) {
      if (line.trim() === "") continue;
      const config = JSON.parse(line) as ClientConfig;
      if (config.holdOpen) throw new Error("holdOpen needs a process of its own");
      emit(await run(config));
    }
  } else {
    emit(await run(JSON.parse(raw) as ClientConfig));
  }
  Deno.exit(0);
}
