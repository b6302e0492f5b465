/// <reference lib="dom" />
/**
 * The outgoing batcher: messages wait up to 10 ms so that the creates of one render travel in
 * one frame; a user action flushes at once. A frame is `{userEvent, messages}`; `userEvent` is
 * true when any message in it came from the user, so the server answers it without delay.
 *
 * @module
 */
import type { OutgoingMessage } from "./protocol.ts";

/**
 * Queues messages and writes them as frames.
 *
 * @example
 * ```ts
 * import { OutgoingBatcher } from "./batcher.ts";
 * const batcher = new OutgoingBatcher((frame) => {
 *   console.log(frame);
 *   return true;
 * });
 * batcher.add({ type: "watch", data: { varId: 1 } });
 * batcher.flush(); // {"userEvent":false,"messages":[{"type":"watch","data":{"varId":1}}]}
 * ```
 */
export class OutgoingBatcher {
  readonly #send: (frame: string) => boolean;
  readonly #delayMs: number;
  #queue: OutgoingMessage[] = [];
  #userEvent = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `send` writes one frame and returns false when it could not (the socket is closed); the
   * messages then stay queued for the next flush.
   */
  constructor(send: (frame: string) => boolean, delayMs = 10) {
    this.#send = send;
    this.#delayMs = delayMs;
  }

  /** Messages waiting to be sent. */
  get pending(): readonly OutgoingMessage[] {
    return this.#queue;
  }

  /** Queues a message; the frame goes out within the delay. */
  add(message: OutgoingMessage, userEvent = false): void {
    this.#queue.push(message);
    if (userEvent) this.#userEvent = true;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#delayMs);
  }

  /** Queues a user's message and sends everything now. */
  addAndFlush(message: OutgoingMessage): void {
    this.add(message, true);
    this.flush();
  }

  /** Sends what is queued as one frame, if the socket takes it. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const frame = JSON.stringify({ userEvent: this.#userEvent, messages: this.#queue });
    if (!this.#send(frame)) return;
    this.#queue = [];
    this.#userEvent = false;
  }

  /** Removes and returns everything queued (used when a reconnect rebuilds the queue). */
  take(): OutgoingMessage[] {
    const taken = this.#queue;
    this.#queue = [];
    this.#userEvent = false;
    return taken;
  }
}
