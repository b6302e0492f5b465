/**
 * Server configuration: what every option holds, its defaults and the error a bad value gives
 * (SPEC 1 and 13). The options' flags and variables are in `config_options.ts`, reading them in
 * `config_parse.ts`, and the reading of one value in `config_values.ts`.
 *
 * @module
 */
/**
 * Log levels, from the most to the least severe.
 *
 * @example
 * ```ts
 * import { LOG_LEVELS } from "./config.ts";
 * LOG_LEVELS.indexOf("warn") < LOG_LEVELS.indexOf("info"); // true: warn is more severe
 * ```
 */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
/**
 * A log level.
 *
 * @example
 * ```ts
 * import type { LogLevel } from "./config.ts";
 * const level: LogLevel = "debug";
 * ```
 */
export type LogLevel = typeof LOG_LEVELS[number];

/**
 * Every option of the server.
 *
 * @example
 * ```ts
 * import { type Config, DEFAULT_CONFIG } from "./config.ts";
 * const config: Config = { ...DEFAULT_CONFIG, port: 0, debug: true };
 * ```
 */
export interface Config {
  /** Site folder; `undefined` serves the embedded default app. */
  dir: string | undefined;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** How long a session outlives its last connection, in milliseconds; 0 is forever. */
  sessionTimeoutMs: number;
  /** Re-run changed Lua files and re-send changed viewdefs in live sessions. */
  hotload: boolean;
  /** Allow inline Lua through variable 1's `lua` property (SPEC 10.5). */
  inlineLua: boolean;
  /** Serve `/<sid>/variables` and `/<sid>/variables.json`. */
  debug: boolean;
  /** Let clients create variables for any path, not only the paths templates bind. */
  openPaths: boolean;
  /** Development: Lua errors reach the browser with their traceback and file positions. */
  dev: boolean;
  /** The least severe level logged. */
  logLevel: LogLevel;
  /** Largest client frame, in bytes. */
  maxFrameBytes: number;
  /** Most messages in one client frame. */
  maxMessagesPerFrame: number;
  /** Most variables per session. */
  maxVariables: number;
  /** Lua instructions one entry into Lua may run. */
  instructionBudget: number;
  /** Bytes one session's Lua may hold; more stops the entry with `lua-memory`. */
  maxSessionMemory: number;
  /** Most live sessions per process. */
  maxSessions: number;
  /** Most frames one connection may send per second; more are refused with `limit`. */
  maxFramesPerSecond: number;
  /**
   * Bytes of frames one connection may send per second, on average (bursts up to four
   * `maxFrameBytes`); frames past it are dropped with `limit` before they are parsed.
   */
  maxBytesPerSecond: number;
  /**
   * Resident memory of the whole process, in bytes, past which sessions are shed (the largest
   * first) and new sessions refused with `limit`; `undefined` picks one for the machine
   * (`defaultProcessMemory` in src/session/memory_ceiling.ts).
   */
  maxProcessMemory: number | undefined;
  /**
   * Key that signs session ids; `undefined` means a random one per process, so session URLs
   * stop working after a restart.
   */
  secret: string | undefined;
  /** Origins besides the server's own whose pages may open session sockets. */
  allowedOrigins: string[];
  /** A Content-Security-Policy that replaces the default; `undefined` keeps the default. */
  csp: string | undefined;
  /** Where sessions are saved: `memory` (nothing survives the process), `kv[:PATH]`, `redis://…`. */
  sessionStore: string;
  /** Longest time a changed session waits before it is saved to the store, in milliseconds. */
  snapshotDelayMs: number;
  /**
   * Let several processes listen on one port (Linux `SO_REUSEPORT`; the kernel spreads new
   * connections over them). Needs Deno's `--unstable-net`.
   */
  reusePort: boolean;
  /** Bytes of client values (estimated) one session may hold; more are refused with `limit`. */
  maxClientValueBytes: number;
  /** Largest value JSON of one variable, in bytes; a larger one is not sent (`too-large`). */
  maxValueBytes: number;
  /** Largest frame the server sends, in bytes; a flush over it is cut (`too-large`). */
  maxFlushBytes: number;
  /** Deepest variable tree (a variable's depth counts its ancestors); deeper is `limit`. */
  maxVariableDepth: number;
  /** New sessions one client address may start per minute. */
  sessionsPerMinute: number;
  /** Take the client address from `X-Forwarded-For` (only behind a proxy that sets it). */
  trustProxy: boolean;
  /** Unsent output one connection may hold, in bytes; a reader that slow is disconnected. */
  maxUnsentBytes: number;
  /** Origins Lua's `http.fetch` may reach; none (the default) leaves `http` out. */
  allowFetch: string[];
  /** Give Lua `store.get/set/delete`, a per-app key-value store on the session store. */
  appStore: boolean;
  /** Longest wait for an async host function, in milliseconds; then it fails in Lua. */
  hostCallTimeoutMs: number;
}

/**
 * The defaults of every option.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "./config.ts";
 * DEFAULT_CONFIG.sessionTimeoutMs; // 900000: 15 minutes
 * ```
 */
export const DEFAULT_CONFIG: Config = {
  dir: undefined,
  port: 8000,
  host: "0.0.0.0",
  sessionTimeoutMs: 15 * 60_000,
  hotload: false,
  inlineLua: false,
  debug: false,
  openPaths: false,
  dev: false,
  logLevel: "info",
  maxFrameBytes: 1024 * 1024,
  maxMessagesPerFrame: 1000,
  maxVariables: 100_000,
  instructionBudget: 10_000_000,
  maxSessionMemory: 64 * 1024 * 1024,
  maxSessions: 10_000,
  maxFramesPerSecond: 1000,
  maxBytesPerSecond: 1024 * 1024,
  maxProcessMemory: undefined,
  secret: undefined,
  allowedOrigins: [],
  csp: undefined,
  sessionStore: "memory",
  snapshotDelayMs: 1000,
  reusePort: false,
  maxClientValueBytes: 16 * 1024 * 1024,
  maxValueBytes: 1024 * 1024,
  maxFlushBytes: 4 * 1024 * 1024,
  maxVariableDepth: 1000,
  sessionsPerMinute: 60,
  trustProxy: false,
  maxUnsentBytes: 16 * 1024 * 1024,
  allowFetch: [],
  appStore: false,
  hostCallTimeoutMs: 30_000,
};

/**
 * A configuration problem, reported at start with a clear message.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./config.ts";
 * throw new ConfigError("Option --port expects an integer, got 'x'");
 * ```
 */
export class ConfigError extends Error {}

/**
 * Reads environment variables; `Deno.env.get` in production, a plain map in tests.
 *
 * @example
 * ```ts
 * import type { EnvReader } from "./config.ts";
 * const env: EnvReader = (name) => ({ PORT: "9000" } as Record<string, string>)[name];
 * ```
 */
export type EnvReader = (name: string) => string | undefined;
