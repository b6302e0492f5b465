/**
 * Flush timing (SPEC 8): a connection's outgoing work is merged until the flush, then written as
 * one frame. A user event flushes at once; anything else waits up to 10 ms to coalesce.
 *
 * @module
 */
import { emptyOutgoing, encodeFrame, isEmpty, merge, type Outgoing } from "./outgoing.ts";

/** Options of {@link createBatcher}. */
export interface BatcherOptions {
  /** Writes one frame (a JSON array of messages). */
  send: (frame: string) => void;
  /** Longest wait before a background flush, in milliseconds. */
  delayMs: number;
  /** Largest frame: updates past it are left out with a `too-large` error. */
  maxFrameBytes?: number;
}

/** Collects outgoing work for one connection and writes it as frames. */
export interface Batcher {
  /** Adds a batch's results; `immediate` (a user event) flushes now. */
  add(out: Outgoing, immediate: boolean): void;
  /** Writes whatever is pending now. */
  flush(): void;
  /** Drops pending work and stops the timer. */
  close(): void;
}

/**
 * Creates a batcher.
 *
 * @example
 * ```ts
 * import { createBatcher } from "./batcher.ts";
 * import { emptyOutgoing } from "./outgoing.ts";
 * const frames: string[] = [];
 * const batcher = createBatcher({ send: (f) => frames.push(f), delayMs: 10 });
 * const out = emptyOutgoing();
 * out.destroys.push(3);
 * batcher.add(out, true); // frames is ['[{"type":"destroy","data":{"varId":3}}]']
 * ```
 */
export function createBatcher(options: BatcherOptions): Batcher {
  let pending = emptyOutgoing();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopTimer = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const flush = () => {
    stopTimer();
    if (isEmpty(pending)) return;
    const frame = encodeFrame(pending, options.maxFrameBytes);
    pending = emptyOutgoing();
    options.send(frame);
  };
  return {
    add(out, immediate) {
      if (immediate && out.destroys.length === 0 && isEmpty(pending)) {
        // The answer to a user event with nothing waiting (nearly every frame): written as is,
        // without merging it into a pending batch first (a merge would only copy it; with
        // destroys it also drops their updates, so those take the merge).
        stopTimer();
        if (!isEmpty(out)) options.send(encodeFrame(out, options.maxFrameBytes));
        return;
      }
      merge(pending, out);
      if (immediate) flush();
      else if (timer === undefined && !isEmpty(pending)) timer = setTimeout(flush, options.delayMs);
    },
    flush,
    close() {
      stopTimer();
      pending = emptyOutgoing();
    },
  };
}
