/**
 * Reads one option's text value as its kind says: whole numbers, Go durations, sizes, booleans,
 * log levels, secrets and origins, with a clear message for a bad one.
 *
 * @module
 */
import { ConfigError, LOG_LEVELS } from "./config.ts";
import { MIN_SECRET_LENGTH, type OptionSpec } from "./config_options.ts";
import { parseGoDuration } from "./duration.ts";

/**
 * Reads `raw` as the option `spec` says; `source` names where it came from in messages.
 *
 * @example
 * ```ts
 * import { convertOption } from "./config_values.ts";
 * convertOption({ key: "port", flag: "port", env: "PORT", kind: "integer", help: "" }, "9000", "--port"); // 9000
 * ```
 */
export function convertOption(spec: OptionSpec, raw: string, source: string): unknown {
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
 * import { parseDuration } from "./config_values.ts";
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
 * import { parseSize } from "./config_values.ts";
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

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
