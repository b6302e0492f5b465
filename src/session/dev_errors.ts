/**
 * The development error overlay's side of the server (`--dev`): a Lua error going to the
 * client gets a `details` field (message, file and line, the source lines around it, the
 * traceback), which the built-in client shows in a panel; when the next client batch or hot
 * reload succeeds, variable 1's `ui-dev-error` property is set to `""`, which clears it. Other
 * clients ignore both (an unknown field, an unknown property). Production sends neither.
 *
 * @module
 */
import { type Failure, newFailure } from "../failure.ts";
import type { Logger } from "../log.ts";
import type { Outgoing } from "../protocol/outgoing.ts";
import type { Site } from "../site/site.ts";
import { createTypoWarnings } from "./typo_warnings.ts";

/** The property of variable 1 whose update clears the overlay. */
export const DEV_ERROR_PROPERTY = "ui-dev-error";
/** Lines of source shown on each side of the failing one. */
const CONTEXT_LINES = 3;
/** Error codes that come from the site's Lua code (and so from a file and line). */
const LUA_CODES = new Set(["lua-error", "lua-timeout", "lua-memory"]);

/** One line of source around the error. */
export interface SourceLine {
  line: number;
  text: string;
}

/** What the overlay shows of one error. */
export interface DevErrorDetails {
  /**
   * What failed: `Start-up`, `Lua error` (a handler or getter), `Reload`, `Missing viewdef`,
   * `Possible typo` (a notice: nothing failed).
   */
  kind: string;
  message: string;
  /** Site file below `lua/`, when the message names one. */
  file?: string;
  line?: number;
  source?: SourceLine[];
  traceback?: string;
}

/** A failure with the overlay's details. */
export type DevFailure = Failure & { details: DevErrorDetails };

const LOCATION = /^(?:\[string "|@)?(?:lua\/)?([\w./-]+\.lua)"?\]?:(\d+):\s*([\s\S]*)$/;

/**
 * The overlay's details of an error description (`lua/main.lua:3: boom\nstack traceback:…`).
 *
 * @example
 * ```ts
 * import { errorDetails } from "./dev_errors.ts";
 * const details = errorDetails("lua/main.lua:2: boom", "Handler", () => "a\nb\nc");
 * details.file; // "main.lua"
 * details.line; // 2
 * ```
 */
export function errorDetails(
  description: string,
  kind: string,
  readLua: (file: string) => string | undefined,
): DevErrorDetails {
  const at = description.indexOf("\nstack traceback:");
  const head = at < 0 ? description : description.slice(0, at);
  const traceback = at < 0 ? undefined : description.slice(at + 1);
  const found = LOCATION.exec(head);
  if (!found) return { kind, message: head, traceback };
  const file = found[1] as string;
  const line = Number(found[2]);
  const details: DevErrorDetails = { kind, message: found[3] ?? head, file, line, traceback };
  const text = readLua(file);
  if (text !== undefined) {
    const lines = text.split(/\r\n?|\n/);
    const first = Math.max(1, line - CONTEXT_LINES);
    const last = Math.min(lines.length, line + CONTEXT_LINES);
    details.source = [];
    for (let n = first; n <= last; n++) details.source.push({ line: n, text: lines[n - 1] ?? "" });
  }
  return details;
}

/**
 * Adds details to the Lua errors of an outgoing batch; returns true when it has any.
 *
 * @example
 * ```ts
 * import { addDetails } from "./dev_errors.ts";
 * import { errorOutgoing } from "../protocol/outgoing.ts";
 * const out = errorOutgoing({ code: "lua-error", description: "lua/main.lua:1: boom" });
 * addDetails(out, "Handler", () => undefined); // true
 * ```
 */
export function addDetails(
  out: Outgoing,
  kind: string,
  readLua: (file: string) => string | undefined,
): boolean {
  let any = false;
  out.errors = out.errors.map((error) => {
    if ("details" in error) return (any = true, error);
    if (!LUA_CODES.has(error.code)) return error;
    any = true;
    return { ...error, details: errorDetails(error.description, kind, readLua) } as DevFailure;
  });
  return any;
}

/**
 * Adds the update that clears the overlay (variable 1's `ui-dev-error` set to `""`).
 *
 * @example
 * ```ts
 * import { addClear } from "./dev_errors.ts";
 * import { emptyOutgoing } from "../protocol/outgoing.ts";
 * addClear(emptyOutgoing());
 * ```
 */
export function addClear(out: Outgoing): void {
  out.updates[0].push({ varId: 1, properties: { [DEV_ERROR_PROPERTY]: "" } });
}

/** Options of {@link createDevReporter}. */
export interface DevReporterOptions {
  /** Development (`--dev`): errors carry the overlay's details. */
  dev: boolean;
  site: Site;
  log: Logger;
}

/** One session's error reporting for the development overlay. */
export interface DevReporter {
  /** Details on a batch's Lua errors; after a clean batch that follows them, the clear. */
  report(out: Outgoing, clears: boolean): void;
  /** The error sent for a `main.lua` that failed at start. */
  startFailure(failure: Failure): Failure;
  /** A type the client was sent has no viewdef: warned once; dev shows it in the overlay. */
  missingViewdef(type: string, out: Outgoing): void;
  /**
   * A bound field read nil on an object whose prototype lacks it (see `typo_warnings.ts`):
   * logged once per type and path; dev also shows it with the next batch.
   */
  likelyTypo(type: string, path: string, field: string): void;
}

/**
 * Makes a session's overlay reporter; without `dev` it only logs missing viewdefs and likely
 * typos.
 *
 * @example
 * ```ts
 * import { createDevReporter } from "./dev_errors.ts";
 * import { emptyOutgoing } from "../protocol/outgoing.ts";
 * import { silentLogger } from "../log.ts";
 * import { ViewdefStore } from "../viewdefs/store.ts";
 * const site = { root: "/m", lua: new Map(), viewdefs: new ViewdefStore(), htmlDir: undefined };
 * const reporter = createDevReporter({ dev: true, site, log: silentLogger });
 * reporter.missingViewdef("Contact", emptyOutgoing());
 * ```
 */
export function createDevReporter(options: DevReporterOptions): DevReporter {
  const { dev, site, log } = options;
  const readLua = (file: string) => site.lua.get(file);
  /** The client was sent an error with details that no clean batch has cleared yet. */
  let shown = false;
  const warnedTypes = new Set<string>();
  const typos = createTypoWarnings({ site, log });
  /** Typo notices waiting for the next batch (dev only; as many as the typo cap allows). */
  const notices: DevFailure[] = [];
  return {
    report(out, clears) {
      if (!dev) return;
      if (notices.length > 0) out.errors.push(...notices.splice(0));
      if (addDetails(out, "Lua error", readLua)) {
        shown = true;
      } else if (clears && shown && out.errors.length === 0) {
        // Only a batch without any error is a success that clears the overlay.
        shown = false;
        addClear(out);
      }
    },
    startFailure(failure) {
      const error = newFailure(failure.code, failure.description);
      if (dev) {
        (error as DevFailure).details = errorDetails(failure.description, "Start-up", readLua);
      }
      return error;
    },
    missingViewdef(type, out) {
      if (warnedTypes.has(type)) return;
      warnedTypes.add(type);
      const message = `No viewdef for type ${type}: add viewdefs/${type}.DEFAULT.html`;
      log.warn(message);
      if (!dev) return;
      const error = newFailure("not-found", message) as DevFailure;
      error.details = { kind: "Missing viewdef", message };
      out.errors.push(error);
    },
    likelyTypo(type, path, field) {
      const message = typos.check(type, path, field);
      if (message === undefined || !dev) return;
      const notice = newFailure("path-failure", message) as DevFailure;
      notice.details = { kind: "Possible typo", message };
      notices.push(notice);
    },
  };
}
