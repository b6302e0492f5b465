/**
 * Every option of the server: its flag, environment variable, kind and help line (SPEC 1 and 13).
 *
 * @module
 */
import { type Config, LOG_LEVELS } from "./config.ts";

/**
 * How an option's text value is read.
 *
 * @example
 * ```ts
 * import type { OptionKind } from "./config_options.ts";
 * const kind: OptionKind = "duration"; // "90s", "15m", "1h"
 * ```
 */
export type OptionKind =
  | "string"
  | "integer"
  | "duration"
  | "size"
  | "boolean"
  | "level"
  | "secret"
  | "origins";

/**
 * One option: its flag, environment variable, kind and help line.
 *
 * @example
 * ```ts
 * import type { OptionSpec } from "./config_options.ts";
 * const spec: OptionSpec = { key: "port", flag: "port", env: "PORT", kind: "integer", help: "TCP port" };
 * ```
 */
export interface OptionSpec {
  /** The {@link Config} field it sets. */
  key: keyof Config;
  /** The flag without its leading `--`. */
  flag: string;
  /** The environment variable read when the flag is absent. */
  env: string;
  /** Further variables read when `env` is unset (ui-engine's names). */
  aliases?: readonly string[];
  kind: OptionKind;
  help: string;
  /** Placeholder for the value in `--help`. */
  value?: string;
  /** How `--help` describes the default, when the value itself says too little. */
  defaultHelp?: string;
}

/**
 * The shortest `--secret` accepted.
 *
 * @example
 * ```ts
 * import { MIN_SECRET_LENGTH } from "./config_options.ts";
 * "x".repeat(MIN_SECRET_LENGTH).length >= MIN_SECRET_LENGTH; // true
 * ```
 */
export const MIN_SECRET_LENGTH = 16;

/**
 * Every option, in `--help` order.
 *
 * @example
 * ```ts
 * import { CONFIG_OPTIONS } from "./config_options.ts";
 * CONFIG_OPTIONS.map((o) => `--${o.flag}`); // ["--dir", "--port", ...]
 * ```
 */
export const CONFIG_OPTIONS: readonly OptionSpec[] = [
  {
    key: "dir",
    flag: "dir",
    env: "UI_DIR",
    kind: "string",
    value: "PATH",
    help: "site folder to serve",
  },
  {
    key: "port",
    flag: "port",
    env: "PORT",
    aliases: ["UI_PORT"],
    kind: "integer",
    value: "PORT",
    help: "TCP port (0: any free port)",
  },
  {
    key: "host",
    flag: "host",
    env: "UI_HOST",
    kind: "string",
    value: "HOST",
    help: "interface to listen on",
  },
  {
    key: "sessionTimeoutMs",
    flag: "session-timeout",
    env: "UI_SESSION_TIMEOUT",
    kind: "duration",
    help: "how long a session outlives its last connection (e.g. 90s, 15m, 1h30m; 0: forever)",
  },
  {
    key: "hotload",
    flag: "hotload",
    env: "UI_HOTLOAD",
    kind: "boolean",
    help: "re-run changed Lua files and re-send changed viewdefs in live sessions",
  },
  {
    key: "inlineLua",
    flag: "inline-lua",
    env: "UI_INLINE_LUA",
    kind: "boolean",
    help: "allow inline Lua code through variable 1's lua property",
  },
  {
    key: "debug",
    flag: "debug",
    env: "UI_DEBUG",
    kind: "boolean",
    help: "serve /<sid>/variables, a view of each session's variables",
  },
  {
    key: "openPaths",
    flag: "open-paths",
    env: "UI_OPEN_PATHS",
    kind: "boolean",
    help: "let clients bind any path, not only the paths the templates bind (tools and tests)",
  },
  {
    key: "dev",
    flag: "dev",
    env: "UI_DEV",
    kind: "boolean",
    help: "send Lua errors to the browser with traceback and file positions (deno task dev)",
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: "UI_LOG_LEVEL",
    kind: "level",
    help: `one of ${LOG_LEVELS.join(", ")} (-v … -vvvv is debug)`,
  },
  {
    key: "maxFrameBytes",
    flag: "max-frame-bytes",
    env: "UI_MAX_FRAME_BYTES",
    kind: "integer",
    help: "largest client frame",
  },
  {
    key: "maxMessagesPerFrame",
    flag: "max-messages",
    env: "UI_MAX_MESSAGES",
    kind: "integer",
    help: "most messages in one frame",
  },
  {
    key: "maxVariables",
    flag: "max-variables",
    env: "UI_MAX_VARIABLES",
    kind: "integer",
    help: "most variables per session",
  },
  {
    key: "instructionBudget",
    flag: "instruction-budget",
    env: "UI_INSTRUCTION_BUDGET",
    kind: "integer",
    help: "Lua instructions one entry may run",
  },
  {
    key: "maxSessionMemory",
    flag: "max-session-memory",
    env: "UI_MAX_SESSION_MEMORY",
    kind: "size",
    help: "memory one session's Lua may hold (e.g. 64MiB, 16m or bytes); past it the " +
      "entry stops with lua-memory, and the third time within a minute ends the session",
  },
  {
    key: "maxSessions",
    flag: "max-sessions",
    env: "UI_MAX_SESSIONS",
    kind: "integer",
    help: "most live sessions per process",
  },
  {
    key: "maxFramesPerSecond",
    flag: "max-frames-per-second",
    env: "UI_MAX_FRAMES_PER_SECOND",
    kind: "integer",
    help: "most frames one connection may send per second",
  },
  {
    key: "maxBytesPerSecond",
    flag: "max-bytes-per-second",
    env: "UI_MAX_BYTES_PER_SECOND",
    kind: "size",
    help: "bytes of frames one connection may send per second on average (bursts up to four " +
      "--max-frame-bytes); frames past it are dropped unparsed (limit)",
  },
  {
    key: "maxProcessMemory",
    flag: "max-process-memory",
    env: "UI_MAX_PROCESS_MEMORY",
    kind: "size",
    help: "resident memory of the process past which the largest sessions are shed (saved " +
      "first, with a store) and new sessions refused (limit)",
    defaultHelp:
      "default: 400MiB on Deno Deploy, else 1.5GiB or 3/4 of the machine's memory if less",
  },
  {
    key: "secret",
    flag: "secret",
    env: "UI_SECRET",
    kind: "secret",
    value: "TEXT",
    help: `key that signs session ids (at least ${MIN_SECRET_LENGTH} characters); ` +
      "every instance of one app needs the same",
    defaultHelp: "default: random per process, so session URLs stop working after a restart",
  },
  {
    key: "allowedOrigins",
    flag: "allowed-origins",
    env: "UI_ALLOWED_ORIGINS",
    kind: "origins",
    value: "ORIGINS",
    help: "comma-separated origins besides the server's own whose pages may open sessions " +
      "(e.g. https://app.example,https://www.app.example)",
    defaultHelp: "default: none (the server's own origin only)",
  },
  {
    key: "csp",
    flag: "csp",
    env: "UI_CSP",
    kind: "string",
    value: "POLICY",
    help: "Content-Security-Policy sent instead of the default (for a site's own html/ pages)",
    defaultHelp: "default: scripts from this server only, see the README",
  },
  {
    key: "sessionStore",
    flag: "session-store",
    env: "UI_SESSION_STORE",
    kind: "string",
    value: "URL",
    help: "where sessions are saved so they survive restarts and move between instances: " +
      "memory, kv, kv:PATH or redis://HOST:PORT",
  },
  {
    key: "snapshotDelayMs",
    flag: "snapshot-delay",
    env: "UI_SNAPSHOT_DELAY",
    kind: "duration",
    help: "longest time a changed session waits before it is saved to the store",
  },
  {
    key: "reusePort",
    flag: "reuse-port",
    env: "UI_REUSE_PORT",
    kind: "boolean",
    help: "let several server processes share the port (Linux; run deno with --unstable-net " +
      "and give every process the same --session-store)",
  },
  {
    key: "maxClientValueBytes",
    flag: "max-client-value-bytes",
    env: "UI_MAX_CLIENT_VALUE_BYTES",
    kind: "integer",
    help: "bytes of client values and properties one session may hold " +
      "(estimated as Lua holds them: about 160 per number, 400 per string, 1000 per object)",
  },
  {
    key: "maxValueBytes",
    flag: "max-value-bytes",
    env: "UI_MAX_VALUE_BYTES",
    kind: "integer",
    help: "largest value JSON of one variable; a larger value is not sent (too-large)",
  },
  {
    key: "maxFlushBytes",
    flag: "max-flush-bytes",
    env: "UI_MAX_FLUSH_BYTES",
    kind: "integer",
    help: "largest frame the server sends; the values of a larger flush are cut (too-large)",
  },
  {
    key: "maxVariableDepth",
    flag: "max-variable-depth",
    env: "UI_MAX_VARIABLE_DEPTH",
    kind: "integer",
    help: "deepest variable tree; a variable nested deeper is refused (limit)",
  },
  {
    key: "sessionsPerMinute",
    flag: "sessions-per-minute",
    env: "UI_SESSIONS_PER_MINUTE",
    kind: "integer",
    help: "new sessions one client address may start per minute",
  },
  {
    key: "trustProxy",
    flag: "trust-proxy",
    env: "UI_TRUST_PROXY",
    kind: "boolean",
    help: "the client address is the last entry of X-Forwarded-For (only behind a proxy " +
      "that sets it)",
  },
  {
    key: "maxUnsentBytes",
    flag: "max-unsent-bytes",
    env: "UI_MAX_UNSENT_BYTES",
    kind: "integer",
    help: "output one connection may leave unsent; a reader that slow is disconnected (1013)",
  },
  {
    key: "allowFetch",
    flag: "allow-fetch",
    env: "UI_ALLOW_FETCH",
    kind: "origins",
    value: "ORIGINS",
    help: "comma-separated origins Lua may reach with http.fetch (e.g. https://api.example)",
    defaultHelp: "default: none (no http table in Lua)",
  },
  {
    key: "appStore",
    flag: "app-store",
    env: "UI_APP_STORE",
    kind: "boolean",
    help: "give Lua store.get/set/delete, a key-value store for the app on the session store",
  },
  {
    key: "hostCallTimeoutMs",
    flag: "host-call-timeout",
    env: "UI_HOST_CALL_TIMEOUT",
    kind: "duration",
    help: "longest wait for an async host function (http.fetch, store, the embedding app's)",
  },
];
