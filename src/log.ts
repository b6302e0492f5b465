/**
 * Logging: one line per event with level, time, the session's vended id and the message.
 *
 * A line reads `LEVEL TIME [session N] message`, for example
 * `WARN 2026-01-01T00:00:00.000Z [session 3] Lua error (lua-error) in variable 7: ...`.
 * Line breaks inside a message (Lua tracebacks, stack traces, whatever Lua prints) are written
 * as `\n`, so that every event stays on one line and Lua cannot forge log lines.
 *
 * By default lines go through the `console` API (errors and warnings to stderr, the rest to
 * stdout), which is what Deno Deploy collects as the app's logs.
 *
 * @module
 */
import { LOG_LEVELS, type LogLevel } from "./config.ts";

/**
 * Writes log lines for one scope (the server, or one session).
 *
 * @example
 * ```ts
 * import { createLogger, type Logger } from "./log.ts";
 * const log: Logger = createLogger({ level: "debug" });
 * log.forSession("2").debug("Frame handled");
 * ```
 */
export interface Logger {
  /** Logs a failure. */
  error(message: string): void;
  /** Logs something wrong that the server got over. */
  warn(message: string): void;
  /** Logs a normal event (sessions, connections, Lua `print`). */
  info(message: string): void;
  /** Logs detail for tracing a problem; only with `-v` or `--log-level debug`. */
  debug(message: string): void;
  /** A logger whose lines carry a session's vended id. */
  forSession(vendedId: string): Logger;
}

/**
 * Options of {@link createLogger}.
 *
 * @example
 * ```ts
 * import type { LoggerOptions } from "./log.ts";
 * const options: Partial<LoggerOptions> = { level: "warn", write: (line) => console.log(line) };
 * ```
 */
export interface LoggerOptions {
  /** The least severe level written. */
  level: LogLevel;
  /** Receives each formatted line with its level; the `console` API by default. */
  write: (line: string, level: LogLevel) => void;
  /** The clock, for tests. */
  now: () => Date;
}

/**
 * Writes a line with the `console` method of its level.
 *
 * @example
 * ```ts
 * import { writeToConsole } from "./log.ts";
 * writeToConsole("WARN 2026-01-01T00:00:00.000Z Slow frame", "warn"); // to stderr
 * ```
 */
export function writeToConsole(line: string, level: LogLevel): void {
  switch (level) {
    case "error":
      return console.error(line);
    case "warn":
      return console.warn(line);
    case "info":
      return console.info(line);
    case "debug":
      return console.debug(line);
  }
}

/**
 * The default options of {@link createLogger}.
 *
 * @example
 * ```ts
 * import { createLogger, DEFAULT_LOGGER_OPTIONS } from "./log.ts";
 * const log = createLogger({ ...DEFAULT_LOGGER_OPTIONS, level: "error" });
 * ```
 */
export const DEFAULT_LOGGER_OPTIONS: LoggerOptions = {
  level: "info",
  write: writeToConsole,
  now: () => new Date(),
};

/**
 * Makes a message safe for a one-line log: line breaks and other control characters (tabs
 * excepted) become escapes (`\n`, `\r`, `\u001b`).
 *
 * @example
 * ```ts
 * import { oneLine } from "./log.ts";
 * oneLine("boom\nstack traceback:"); // "boom\\nstack traceback:"
 * ```
 */
export function oneLine(message: string): string {
  // deno-lint-ignore no-control-regex
  return message.replace(/[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

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
      const time = settings.now().toISOString();
      settings.write(`${level.toUpperCase()} ${time}${tag} ${oneLine(message)}`, level);
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

/**
 * A logger that writes nothing, for tests and tools.
 *
 * @example
 * ```ts
 * import { silentLogger } from "./log.ts";
 * silentLogger.error("Nobody reads this");
 * ```
 */
export const silentLogger: Logger = createLogger({ write: () => {} });
