/**
 * The `--help` text, built from the option table so that it cannot fall out of step.
 *
 * @module
 */
import { DEFAULT_CONFIG } from "./config.ts";
import { CONFIG_OPTIONS, type OptionSpec } from "./config_options.ts";
import { formatDuration } from "./duration.ts";
import { UI_ENGINE_FLAGS } from "./ui_engine_cli.ts";

/**
 * The `--help` text: every option with its environment variable and default.
 *
 * @example
 * ```ts
 * import { helpText } from "./help_text.ts";
 * console.log(helpText());
 * ```
 */
export function helpText(): string {
  const lines = [
    "Usage: deno run --allow-net --allow-read --allow-env main.ts [options]",
    "",
    "Serves a Lua-driven web UI site (the embedded default app without --dir).",
    "",
    "Options. Each is also read from the environment variable shown; a flag wins over its",
    "variable. Booleans take no value as flags (--hotload) and true/false, 1/0, yes/no or on/off",
    "as variables or as --flag=VALUE.",
    "",
  ];
  for (const spec of CONFIG_OPTIONS) {
    const value = spec.kind === "boolean" ? "" : ` ${placeholder(spec)}`;
    lines.push(`  --${spec.flag}${value}`);
    lines.push(`      ${spec.help}`);
    lines.push(`      env ${spec.env}; ${describeDefault(spec)}`);
  }
  lines.push("  -v, -vv, -vvv, -vvvv");
  lines.push("      same as --log-level debug (env UI_VERBOSITY above 0 too)");
  lines.push("  -h, --help");
  lines.push("      show this text and exit");
  lines.push("  --version");
  lines.push("      print the version and exit");
  lines.push("");
  lines.push("Accepted for ui-engine command lines: `serve` or `version` as the first word,");
  lines.push("single-dash flags (-port 8080), env UI_PORT (PORT wins), and these flags:");
  for (const flag of UI_ENGINE_FLAGS) {
    lines.push(`  --${flag.flag}${flag.boolean ? "" : ` ${flag.value}`}`);
    lines.push(`      ${flag.help}; env ${flag.env}`);
  }
  lines.push("");
  lines.push("A bad value or unknown option stops the server at start with a message on stderr");
  lines.push("and exit code 2.");
  return lines.join("\n");
}

function placeholder(spec: OptionSpec): string {
  if (spec.value) return spec.value;
  switch (spec.kind) {
    case "duration":
      return "DURATION";
    case "size":
      return "SIZE";
    case "level":
      return "LEVEL";
    default:
      return "N";
  }
}

function describeDefault(spec: OptionSpec): string {
  if (spec.defaultHelp) return spec.defaultHelp;
  const value = DEFAULT_CONFIG[spec.key];
  if (value === undefined) return "default: the embedded app";
  if (spec.kind === "duration") return `default: ${formatDuration(value as number)}`;
  if (spec.kind === "size") return `default: ${formatSize(value as number)}`;
  return `default: ${value}`;
}

function formatSize(bytes: number): string {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
