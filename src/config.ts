/**
 * Server configuration: command-line flags and environment variables, validated, merged over
 * defaults (SPEC 1 and 13). Flags win over environment variables.
 *
 * ui-engine's command lines are accepted as they are: `serve` as a first word, `version` and
 * `--version`, `-v` … `-vvvv`, Go's single-dash flags (`-port 8080`), Go durations (`1h30m`),
 * `UI_PORT`, and its flags without a meaning here (see `ui_engine_cli.ts`).
 *
 * @module
 */
import { parseGoDuration } from "./duration.ts";
import { closest } from "./suggest.ts";
import {
  type CompatFlag,
  isVerbosityFlag,
  UI_ENGINE_COMMANDS,
  UI_ENGINE_FLAGS,
  verbosityLevel,
} from "./ui_engine_cli.ts";

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
}

/**
 * How an option's text value is read.
 *
 * @example
 * ```ts
 * import type { OptionKind } from "./config.ts";
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
 * import type { OptionSpec } from "./config.ts";
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
};

/**
 * The shortest `--secret` accepted.
 *
 * @example
 * ```ts
 * import { MIN_SECRET_LENGTH } from "./config.ts";
 * "x".repeat(MIN_SECRET_LENGTH).length >= MIN_SECRET_LENGTH; // true
 * ```
 */
export const MIN_SECRET_LENGTH = 16;

/**
 * Every option, in `--help` order.
 *
 * @example
 * ```ts
 * import { CONFIG_OPTIONS } from "./config.ts";
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
];

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

/**
 * Parses flags and environment variables into a validated {@link Config}.
 * Returns `"help"` for `--help` and `"version"` for `--version` (or `help`/`version` as the first
 * word). `notice` receives one line for each ui-engine flag accepted but ignored.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const config = parseConfig(["serve", "--port", "9000", "--hotload"], () => undefined);
 * // config.port === 9000, config.hotload === true
 * ```
 */
export function parseConfig(
  args: readonly string[],
  env: EnvReader,
  notice: (message: string) => void = () => {},
): Config | "help" | "version" {
  const config: Config = { ...DEFAULT_CONFIG };
  const set = (spec: OptionSpec, raw: string, source: string) => {
    (config as unknown as Record<string, unknown>)[spec.key] = convert(spec, raw, source);
  };
  for (const spec of CONFIG_OPTIONS) {
    const name = [spec.env, ...spec.aliases ?? []].find((name) => (env(name) ?? "") !== "");
    if (name !== undefined) set(spec, env(name) as string, `environment variable ${name}`);
  }
  const verbosity = env("UI_VERBOSITY");
  if (verbosity && !env("UI_LOG_LEVEL")) {
    config.logLevel = verbosityLevel(Number(verbosity)) ?? config.logLevel;
  }
  for (const flag of UI_ENGINE_FLAGS) {
    const raw = env(flag.env);
    if (raw) report(flag, raw, `environment variable ${flag.env}`, notice);
  }
  let i = 0;
  const first = args[0];
  if (first === "serve") i = 1;
  else if (first === "version") return "version";
  else if (first === "help") return "help";
  for (; i < args.length; i++) {
    const arg = args[i] as string;
    if (["--help", "-h", "-help"].includes(arg)) return "help";
    if (arg === "--version" || arg === "-version") return "version";
    if (isVerbosityFlag(arg)) {
      config.logLevel = "debug";
      continue;
    }
    if (!arg.startsWith("-") || arg === "-" || arg === "--") throw unexpected(arg, i);
    // Go's flag package, which ui-engine uses, takes -port as well as --port.
    const [name, inline] = splitOnce(arg.replace(/^--?/, ""), "=");
    const spec = CONFIG_OPTIONS.find((option) => option.flag === name);
    const compat = UI_ENGINE_FLAGS.find((option) => option.flag === name);
    if (!spec && !compat) throw unknownOption(arg.split("=")[0] as string, name);
    const isBoolean = spec ? spec.kind === "boolean" : compat?.boolean;
    const raw = isBoolean && inline === undefined ? "true" : inline ?? args[++i];
    if (raw === undefined) throw new ConfigError(`Option --${name} needs a value`);
    if (spec) set(spec, raw, `--${name}`);
    else report(compat as CompatFlag, raw, `--${name}`, notice);
  }
  return config;
}

function report(
  flag: CompatFlag,
  raw: string,
  source: string,
  notice: (message: string) => void,
): void {
  const message = flag.notice(raw, source);
  if (message) notice(capitalize(message));
}

function unexpected(arg: string, index: number): ConfigError {
  const command = index === 0 ? closest(arg, UI_ENGINE_COMMANDS) : undefined;
  const hint = command ? `; did you mean ${command}?` : "";
  return new ConfigError(`Unexpected argument '${arg}'${hint}`);
}

function unknownOption(arg: string, name: string): ConfigError {
  const flags = [...CONFIG_OPTIONS, ...UI_ENGINE_FLAGS].map((option) => option.flag);
  const match = closest(name, [...flags, "help", "version"]);
  const hint = match ? `did you mean --${match}?` : "see --help";
  return new ConfigError(`Unknown option '${arg}'; ${hint}`);
}

function convert(spec: OptionSpec, raw: string, source: string): unknown {
  switch (spec.kind) {
    case "string":
      if (raw.trim() === "") throw new ConfigError(`${capitalize(source)} needs a value`);
      return raw;
    case "integer": {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
        throw new ConfigError(`${capitalize(source)} expects a whole number, got '${raw}'`);
      }
      if (spec.key === "port" && n > 65535) {
        throw new ConfigError(`${capitalize(source)} must be a port number (0 to 65535)`);
      }
      if (spec.key !== "port" && n < 1) {
        throw new ConfigError(`${capitalize(source)} must be at least 1`);
      }
      return n;
    }
    case "duration":
      return parseDuration(raw, source);
    case "size":
      return parseSize(raw, source);
    case "boolean": {
      const lower = raw.toLowerCase();
      if (["1", "true", "yes", "on"].includes(lower)) return true;
      if (["0", "false", "no", "off"].includes(lower)) return false;
      throw new ConfigError(`${capitalize(source)} expects true or false, got '${raw}'`);
    }
    case "secret":
      if (raw.length < MIN_SECRET_LENGTH) {
        throw new ConfigError(
          `${capitalize(source)} must be at least ${MIN_SECRET_LENGTH} characters long`,
        );
      }
      return raw;
    case "origins":
      return raw.split(",").map((item) => item.trim()).filter((item) => item !== "").map(
        (item) => normaliseOrigin(item, source),
      );
    case "level":
      if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
        throw new ConfigError(
          `${capitalize(source)} expects one of ${LOG_LEVELS.join(", ")}, got '${raw}'`,
        );
      }
      return raw;
  }
}

/** The longest timer a JavaScript runtime keeps (2^31 - 1 ms, about 24.8 days). */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses a duration as Go writes them: `500ms`, `90s`, `15m`, `1h30m`, `1.5h`, or a bare
 * number of seconds; `0` is forever for the session timeout.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./config.ts";
 * parseDuration("1h30m", "--session-timeout"); // 5400000
 * ```
 */
export function parseDuration(raw: string, source: string): number {
  const ms = parseGoDuration(raw);
  if (ms === undefined) {
    throw new ConfigError(
      `${capitalize(source)} expects a duration like 90s, 15m or 1h30m, got '${raw}'`,
    );
  }
  if (ms > LONGEST_TIMER_MS) {
    throw new ConfigError(`${capitalize(source)} is at most 596h (0 means forever), got '${raw}'`);
  }
  return ms;
}

const SIZE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a size in bytes: a whole number of bytes, or a number with a binary unit, `k`, `m`,
 * `g` (also `KiB`, `MiB`, `GiB`, `KB`, `MB`, `GB`, all 1024-based, any case): `64MiB`, `16m`,
 * `1.5g`. At least 1 MiB.
 *
 * @example
 * ```ts
 * import { parseSize } from "./config.ts";
 * parseSize("64MiB", "--max-session-memory"); // 67108864
 * ```
 */
export function parseSize(raw: string, source: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmg])(?:i?b)?|b)?\s*$/i.exec(raw);
  if (!match) {
    throw new ConfigError(
      `${capitalize(source)} expects a size like 64MiB, 16m or a number of bytes, got '${raw}'`,
    );
  }
  const unit = SIZE_UNITS[(match[2] ?? "").toLowerCase()] ?? 1;
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1024 * 1024) {
    throw new ConfigError(`${capitalize(source)} must be at least 1MiB, got '${raw}'`);
  }
  return bytes;
}

/** One `--allowed-origins` entry as an origin (`scheme://host[:port]`, lower case). */
function normaliseOrigin(text: string, source: string): string {
  const problem = (why: string) =>
    new ConfigError(`${capitalize(source)} expects origins such as https://app.example; ${why}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw problem(`'${text}' is not one`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw problem(`'${text}' is not http or https`);
  }
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
    throw problem(`'${text}' has more than a scheme, host and port`);
  }
  return url.origin;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
