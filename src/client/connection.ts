/// <reference lib="dom" />
/**
 * The WebSocket to `/ws/<sid>`, with reconnection: after a drop it retries with a growing
 * delay (200 ms doubling up to 5 s, forever) and reports its state so the page can show it.
 * A close with code 4000 (another window took the session over) is final.
 *
 * @module
 */

/** Close code the server uses when a newer connection took the session over. */
export const TAKEN_OVER = 4000;

/** What the page shows about the connection. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "taken-over";

/** Callbacks of a {@link Connection}. */
export interface ConnectionHandlers {
  /** The socket opened; `reconnected` is true after a drop (the server forgot our variables). */
  open(reconnected: boolean): void;
  /** A text frame arrived. */
  message(text: string): void;
  /** The state changed. */
  state(state: ConnectionState): void;
}

/** Options of a {@link Connection}. */
export interface ConnectionOptions {
  /** First retry delay in milliseconds. */
  firstDelayMs?: number;
  /** Longest retry delay in milliseconds. */
  maxDelayMs?: number;
}

/**
 * The socket of one page.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * const connection = new Connection("ws://localhost:8000/ws/0123456789abcdef0123456789abcdef", {
 *   open: () => connection.send('{"userEvent":false,"messages":[]}'),
 *   message: (text) => console.log(text),
 *   state: (state) => console.log(state),
 * });
 * connection.start();
 * ```
 */
export class Connection {
  readonly #url: string;
  readonly #handlers: ConnectionHandlers;
  readonly #firstDelayMs: number;
  readonly #maxDelayMs: number;
  #socket: WebSocket | undefined;
  #attempt = 0;
  #everOpened = false;
  #stopped = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  /** Creates a connection; nothing happens until {@link start}. */
  constructor(url: string, handlers: ConnectionHandlers, options: ConnectionOptions = {}) {
    this.#url = url;
    this.#handlers = handlers;
    this.#firstDelayMs = options.firstDelayMs ?? 200;
    this.#maxDelayMs = options.maxDelayMs ?? 5000;
  }

  /** True while the socket is open. */
  get isOpen(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket. */
  start(): void {
    this.#stopped = false;
    this.#handlers.state(this.#everOpened ? "reconnecting" : "connecting");
    this.#open();
    addEventListener("online", () => this.retryNow());
  }

  /** Sends a frame; false when the socket is not open. */
  send(text: string): boolean {
    if (!this.isOpen) return false;
    this.#socket?.send(text);
    return true;
  }

  /** Skips the wait before the next attempt (e.g. the network came back). */
  retryNow(): void {
    if (this.#stopped || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#open();
  }

  /** Closes for good. */
  stop(): void {
    this.#stopped = true;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#socket?.close();
  }

  #open(): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#url);
    } catch (error) {
      console.error("Could not open the WebSocket", error);
      this.#scheduleRetry();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      const reconnected = this.#everOpened;
      this.#everOpened = true;
      this.#attempt = 0;
      this.#handlers.state("open");
      this.#handlers.open(reconnected);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data === "string") this.#handlers.message(event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (this.#stopped) return;
      if (event.code === TAKEN_OVER) {
        this.#stopped = true;
        this.#handlers.state("taken-over");
        return;
      }
      this.#handlers.state(this.#everOpened ? "reconnecting" : "connecting");
      this.#scheduleRetry();
    };
  }

  #scheduleRetry(): void {
    const delay = Math.min(this.#maxDelayMs, this.#firstDelayMs * 2 ** this.#attempt);
    this.#attempt++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#open();
    }, delay);
  }
}
