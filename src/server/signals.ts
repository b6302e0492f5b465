/**
 * Signals: SIGINT or SIGTERM shut the server down gracefully within a hard deadline; Deno Deploy
 * sends SIGINT and kills an instance 5 seconds later.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { RunningServer } from "./start.ts";

/**
 * The hard deadline after a signal, in milliseconds: inside the 5 seconds Deno Deploy allows
 * between SIGINT and SIGKILL.
 *
 * @example
 * ```ts
 * import { SHUTDOWN_DEADLINE_MS } from "./signals.ts";
 * SHUTDOWN_DEADLINE_MS < 5000; // true
 * ```
 */
export const SHUTDOWN_DEADLINE_MS = 4000;

/**
 * Options of {@link handleSignals}.
 *
 * @example
 * ```ts
 * import type { SignalOptions } from "./signals.ts";
 * import { silentLogger } from "../log.ts";
 * const options: SignalOptions = { log: silentLogger, signals: ["SIGTERM"], deadlineMs: 2000 };
 * ```
 */
export interface SignalOptions {
  log: Logger;
  /** Ends the process; `Deno.exit` by default. */
  exit?: (code: number) => void;
  /** Hard deadline after the first signal, in milliseconds. */
  deadlineMs?: number;
  /** The signals to handle. */
  signals?: readonly Deno.Signal[];
}

const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = { SIGINT: 2, SIGTERM: 15 };

/**
 * Shuts the server down gracefully on SIGINT or SIGTERM and exits with code 0. A second signal
 * exits at once (code 128 + the signal number); if shutdown is not done by the deadline the
 * process exits with code 1. Returns a function that removes the listeners.
 *
 * @example
 * ```ts
 * import { startServer } from "./start.ts";
 * import { handleSignals } from "./signals.ts";
 * import { DEFAULT_CONFIG } from "../config.ts";
 * import { createLogger } from "../log.ts";
 * const server = await startServer({ ...DEFAULT_CONFIG, port: 0 });
 * const remove = handleSignals(server, { log: createLogger() });
 * remove();
 * await server.shutdown();
 * ```
 */
export function handleSignals(
  server: Pick<RunningServer, "shutdown">,
  options: SignalOptions,
): () => void {
  const { log } = options;
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  const deadlineMs = options.deadlineMs ?? SHUTDOWN_DEADLINE_MS;
  let received = false;
  const listeners: [Deno.Signal, () => void][] = [];
  for (const signal of options.signals ?? ["SIGINT", "SIGTERM"] as const) {
    const listener = () => {
      if (received) {
        log.warn(`Received ${signal} again; exiting now`);
        exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
        return;
      }
      received = true;
      log.info(`Received ${signal}; shutting down (a second signal exits at once)`);
      const deadline = setTimeout(() => {
        log.error(`Shutdown took longer than ${deadlineMs} ms; exiting`);
        exit(1);
      }, deadlineMs);
      server.shutdown().then(
        () => {
          clearTimeout(deadline);
          exit(0);
        },
        (error) => {
          clearTimeout(deadline);
          log.error(`Shutdown failed: ${(error as Error)?.stack ?? error}`);
          exit(1);
        },
      );
    };
    try {
      Deno.addSignalListener(signal, listener);
      listeners.push([signal, listener]);
    } catch (error) {
      log.debug(`Cannot listen for ${signal}: ${error}`);
    }
  }
  return () => {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  };
}
