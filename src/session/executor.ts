/**
 * A serial queue: one session's Lua work (frames, timer callbacks, reloads) runs one task at a
 * time, in arrival order, never interleaved (the seed card's executor channel).
 *
 * @module
 */

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
  return {
    run<T>(task: () => T | Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new Error("Session executor is closed"));
      const result = tail.then(task);
      tail = result.catch(() => {});
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
