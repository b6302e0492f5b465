/**
 * Logging: one line per event with level, time, the session's vended id and the message.
 *
 * @module
 */
import { LOG_LEVELS, type LogLevel } from "./config.ts";

/** Writes log lines for one scope (the server, or one session). */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** A logger whose lines carry a session's vended id. */
  forSession(vendedId: string): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  /** Receives each formatted line; stderr by default. */
  write: (line: string) => void;
  /** The clock, for tests. */
  now: () => Date;
}

const encoder = new TextEncoder();

/** The default options of {@link createLogger}. */
export const DEFAULT_LOGGER_OPTIONS: LoggerOptions = {
  level: "info",
  write: (line) => Deno.stderr.writeSync(encoder.encode(`${line}\n`)),
  now: () => new Date(),
};

/**
 * Creates a logger that drops lines below its level.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger({ level: "info", write: (l) => lines.push(l) });
 * log.forSession("3").warn("Slow frame");
 * // lines[0] is like "WARN 2026-01-01T00:00:00.000Z [session 3] Slow frame"
 * ```
 */
export function createLogger(options: Partial<LoggerOptions> = {}): Logger {
  const settings = { ...DEFAULT_LOGGER_OPTIONS, ...options };
  const threshold = LOG_LEVELS.indexOf(settings.level);
  const make = (scope: string): Logger => {
    const line = (level: LogLevel) => (message: string) => {
      if (LOG_LEVELS.indexOf(level) > threshold) return;
      const tag = scope ? ` [${scope}]` : "";
      settings.write(`${level.toUpperCase()} ${settings.now().toISOString()}${tag} ${message}`);
    };
    return {
      error: line("error"),
      warn: line("warn"),
      info: line("info"),
      debug: line("debug"),
      forSession: (vendedId) => make(`session ${vendedId}`),
    };
  };
  return make("");
}

/** A logger that writes nothing, for tests and tools. */
export const silentLogger: Logger = createLogger({ write: () => {} });
