/**
 * A serial queue: one session's Lua work (frames, timer callbacks, reloads) runs one task at a
 * time, in arrival order, never interleaved (the seed card's executor channel). Between two
 * tasks of a backlog the event loop turns, so that other sessions are served in between.
 *
 * @module
 */

/** Waits for a later turn of the event loop (`setTimeout(0)`, after I/O and due timers). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A serial task queue. */
export interface Executor {
  /** Queues a task; resolves with its result once it has run. Rejects after {@link close}. */
  run<T>(task: () => T | Promise<T>): Promise<T>;
  /** Refuses further tasks; queued ones still run. */
  close(): void;
  /** True after {@link close}. */
  readonly closed: boolean;
}

/**
 * Creates a serial executor.
 *
 * @example
 * ```ts
 * import { createExecutor } from "./executor.ts";
 * const executor = createExecutor();
 * const order: number[] = [];
 * await Promise.all([executor.run(() => order.push(1)), executor.run(() => order.push(2))]);
 * // order is [1, 2]
 * ```
 */
export function createExecutor(): Executor {
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  /** Tasks queued or running. */
  let queued = 0;
  return {
    run<T>(task: () => T | Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new Error("Session executor is closed"));
      // A task queued behind another starts on a later turn of the event loop: chained as
      // promises only, a backlog of frames (each with its change detection, which is not
      // time-sliced) would run back to back and keep every other session waiting until it
      // drained.
      const start = queued > 0 ? tail.then(nextTurn) : tail;
      queued++;
      const result = start.then(task);
      tail = result.catch(() => {}).then(() => queued--);
      return result;
    },
    close() {
      closed = true;
    },
    get closed() {
      return closed;
    },
  };
}
