/**
 * ui-engine's command-line habits that mean nothing (or something else) here: its flags are
 * accepted so that its command lines start this server unchanged, with a one-line notice where
 * a value is ignored. The flags with a meaning here (`--dir`, `--port`, `--host`, `--hotload`,
 * `--session-timeout`, `--log-level`, `-v`) are ordinary options in `config.ts`.
 *
 * @module
 */

/**
 * A ui-engine flag accepted for compatibility.
 *
 * @example
 * ```ts
 * import type { CompatFlag } from "./ui_engine_cli.ts";
 * const flag: CompatFlag = {
 *   flag: "socket",
 *   env: "UI_SOCKET",
 *   boolean: false,
 *   help: "ignored",
 *   notice: () => "--socket is ignored",
 * };
 * ```
 */
export interface CompatFlag {
  /** The flag without its leading dashes. */
  flag: string;
  /** ui-engine's environment variable for it. */
  env: string;
  /** A boolean flag takes no following value (`--lua`, `--lua=false`). */
  boolean: boolean;
  /** Placeholder for the value in `--help`. */
  value?: string;
  help: string;
  /** The notice for a value, or `undefined` when the value is what this server does anyway. */
  notice: (value: string, source: string) => string | undefined;
}

const FALSE_WORDS = ["0", "false", "no", "off"];

/**
 * ui-engine's flags without a counterpart here.
 *
 * @example
 * ```ts
 * import { UI_ENGINE_FLAGS } from "./ui_engine_cli.ts";
 * UI_ENGINE_FLAGS.map((flag) => flag.flag); // ["socket", "lua", "lua-path"]
 * ```
 */
export const UI_ENGINE_FLAGS: readonly CompatFlag[] = [
  {
    flag: "socket",
    env: "UI_SOCKET",
    boolean: false,
    value: "PATH",
    help: "ignored: there is no backend socket API here",
    notice: (_, source) => `${source} is ignored: this server has no backend socket API`,
  },
  {
    flag: "lua",
    env: "UI_LUA",
    boolean: true,
    help: "accepted: Lua is always on here",
    notice: (value, source) =>
      FALSE_WORDS.includes(value.toLowerCase())
        ? `${source}=${value} is ignored: this server always runs the site's Lua`
        : undefined,
  },
  {
    flag: "lua-path",
    env: "UI_LUA_PATH",
    boolean: false,
    value: "PATH",
    help: "accepted: Lua files always come from the site's lua/",
    notice: (value, source) =>
      /^(\.\/)?lua\/?$/.test(value)
        ? undefined
        : `${source} ${value} is ignored: Lua files come from the site's lua/ folder (as ui-engine does with --dir)`,
  },
];

/**
 * The log level ui-engine's verbosity (`-v` … `-vvvv`, `UI_VERBOSITY`) maps to: any verbosity is
 * `debug`, the only level here below `info`; 0 is no change.
 *
 * @example
 * ```ts
 * import { verbosityLevel } from "./ui_engine_cli.ts";
 * verbosityLevel(3); // "debug"
 * verbosityLevel(0); // undefined
 * ```
 */
export function verbosityLevel(verbosity: number): "debug" | undefined {
  return verbosity > 0 ? "debug" : undefined;
}

/**
 * Whether an argument is ui-engine's verbosity flag: `-v`, `-vv`, `-vvv`, `-vvvv` (any count).
 *
 * @example
 * ```ts
 * import { isVerbosityFlag } from "./ui_engine_cli.ts";
 * isVerbosityFlag("-vvv"); // true
 * isVerbosityFlag("-version"); // false
 * ```
 */
export function isVerbosityFlag(arg: string): boolean {
  return /^-v+$/.test(arg);
}

/** The first words ui-engine's command line takes that start or describe the server. */
export const UI_ENGINE_COMMANDS = ["serve", "version", "help"] as const;
