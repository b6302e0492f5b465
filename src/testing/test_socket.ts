/**
 * A WebSocket stand-in for a page under test: the client's `new WebSocket(url)` connects to a
 * {@link SessionManager} in the same process, with no HTTP server. Frames travel as text, as on
 * the wire, and each one arrives in a later task, as it would from a real socket, so the client
 * sees the same ordering it sees in a browser.
 *
 * @module
 */
import type { Connection, ConnectionSink } from "../session/connection.ts";
import type { SessionManager } from "../session/manager.ts";
import { FailureError } from "../failure.ts";
import { errorFrame } from "../protocol/outgoing.ts";
import { TRY_AGAIN_LATER } from "../server/websocket.ts";

/** What the sockets of one page report to the page's tester. */
export interface SocketTracker {
  /** Work that has started and must end before the page is quiet (a frame in flight). */
  track(work: Promise<unknown>): void;
  /** A handler of the client threw: the page reports it as a problem. */
  problem(message: string): void;
  /** A socket was made (so that its page can close it). */
  opened?(socket: TestSocket): void;
}

/** The constructor the client calls as `new WebSocket(url)`. */
export type SocketClass = new (url: string) => TestSocket;

/** The part of the WebSocket API the built-in client uses. */
export interface TestSocket {
  readonly url: string;
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/**
 * Makes the `WebSocket` class of one page: every socket it opens connects to `manager` with the
 * session id of its URL (`…/ws/<sid>`).
 *
 * @example
 * ```ts
 * import { socketClass } from "./test_socket.ts";
 * import { SessionManager } from "../session/manager.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * import { EMBEDDED_SITE, loadSite } from "../site/site.ts";
 * import { silentLogger } from "../log.ts";
 * const manager = new SessionManager({
 *   ...DEFAULT_CONFIG,
 *   site: await loadSite(EMBEDDED_SITE),
 *   log: silentLogger,
 * });
 * const work: Promise<unknown>[] = [];
 * const Socket = socketClass(manager, { track: (p) => work.push(p), problem: console.error });
 * const socket = new Socket("ws://localhost/ws/0123456789abcdef0123456789abcdef");
 * socket.onmessage = (event) => console.log(event.data);
 * socket.onopen = () => socket.send('{"userEvent":false,"messages":[]}');
 * ```
 */
export function socketClass(manager: SessionManager, tracker: SocketTracker): SocketClass {
  /** Runs `action` in a later task, tracked until it has run. */
  const later = (what: string, action: () => void) => {
    tracker.track(
      new Promise<void>((resolve) =>
        setTimeout(() => {
          try {
            action();
          } catch (error) {
            tracker.problem(`${what} handler failed: ${(error as Error)?.stack ?? error}`);
          }
          resolve();
        }, 0)
      ),
    );
  };

  return class Socket implements TestSocket {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = 2;
    static readonly CLOSED = CLOSED;
    readonly url: string;
    onopen: ((event: Event) => void) | null = null;
    onmessage: ((event: MessageEvent) => void) | null = null;
    onclose: ((event: CloseEvent) => void) | null = null;
    onerror: ((event: Event) => void) | null = null;
    #state = CONNECTING;
    #connection: Connection | undefined;

    constructor(url: string) {
      this.url = url;
      tracker.opened?.(this);
      const sid = new URL(url).pathname.split("/").at(-1) ?? "";
      later("open", () => this.#open(sid));
    }

    get readyState(): number {
      return this.#state;
    }

    #open(sid: string): void {
      if (this.#state !== CONNECTING) return;
      const sink: ConnectionSink = {
        send: (frame) => {
          if (this.#state !== OPEN) return;
          later("message", () => {
            if (this.#state === OPEN) {
              this.onmessage?.(new MessageEvent("message", { data: frame }));
            }
          });
        },
        close: (code, reason) => this.#closed(code, reason),
      };
      this.#state = OPEN;
      try {
        this.#connection = manager.connect(sid, sink);
      } catch (error) {
        if (!(error instanceof FailureError)) throw error;
        // As the server's socket handler does: the reason, then a close.
        sink.send(errorFrame(error.failure));
        this.#closed(TRY_AGAIN_LATER, error.message);
      }
      this.onopen?.(new Event("open"));
    }

    send(text: string): void {
      if (this.#state === CONNECTING) {
        throw new DOMException("Still connecting", "InvalidStateError");
      }
      if (this.#state !== OPEN || !this.#connection) return;
      // The wire carries text: the frame is exactly what the client wrote.
      tracker.track(this.#connection.receive(String(text)));
    }

    close(code = 1000, reason = ""): void {
      this.#closed(code, reason);
    }

    /** Closes once, on both sides (the server's close handler is safe to call twice). */
    #closed(code: number, reason: string): void {
      if (this.#state === CLOSED) return;
      this.#state = CLOSED;
      this.#connection?.closed();
      later("close", () => this.onclose?.(new CloseEvent("close", { code, reason })));
    }
  };
}
