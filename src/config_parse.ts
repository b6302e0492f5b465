/**
 * Reads the server configuration from command-line flags and environment variables, validated
 * and merged over defaults (SPEC 1 and 13). Flags win over environment variables.
 *
 * ui-engine's command lines are accepted as they are: `serve` as a first word, `version` and
 * `--version`, `-v` … `-vvvv`, Go's single-dash flags (`-port 8080`), Go durations (`1h30m`),
 * `UI_PORT`, and its flags without a meaning here (see `ui_engine_cli.ts`).
 *
 * @module
 */
import { type Config, ConfigError, DEFAULT_CONFIG, type EnvReader } from "./config.ts";
import { CONFIG_OPTIONS, type OptionSpec } from "./config_options.ts";
import { convertOption } from "./config_values.ts";
import { closest } from "./suggest.ts";
import {
  type CompatFlag,
  isVerbosityFlag,
  UI_ENGINE_COMMANDS,
  UI_ENGINE_FLAGS,
  verbosityLevel,
} from "./ui_engine_cli.ts";

/**
 * Parses flags and environment variables into a validated {@link Config}.
 * Returns `"help"` for `--help` and `"version"` for `--version` (or `help`/`version` as the first
 * word). `notice` receives one line for each ui-engine flag accepted but ignored.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config_parse.ts";
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
    (config as unknown as Record<string, unknown>)[spec.key] = convertOption(spec, raw, source);
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

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
