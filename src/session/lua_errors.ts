/**
 * How Lua errors leave a session: in production the browser gets the error's message without
 * the traceback or file positions, plus a short reference; the log gets everything under the
 * same reference. In development (`--dev`, on under `deno task dev`) the browser gets the full
 * description and the log is as it always was.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Failure } from "../failure.ts";
import type { Outgoing } from "../protocol/outgoing.ts";

/**
 * Logs the Lua errors (`lua-error`, `lua-timeout`) of an outgoing batch and, unless `detail`,
 * replaces each description by its {@link publicDescription} with a fresh reference. With
 * `detail`, only errors of a variable are logged (the others were logged where they happened).
 *
 * @example
 * ```ts
 * import { reportLuaErrors } from "./lua_errors.ts";
 * import { emptyOutgoing } from "../protocol/outgoing.ts";
 * import { silentLogger } from "../log.ts";
 * const out = emptyOutgoing();
 * out.errors.push({ varId: 7, code: "lua-error", description: "lua/main.lua:3: boom\nstack traceback:\n..." });
 * reportLuaErrors(silentLogger, out, false);
 * out.errors[0]?.description; // e.g. "boom (reference 3f9a0c1d)"
 * ```
 */
export function reportLuaErrors(log: Logger, out: Outgoing, detail: boolean): void {
  for (const [i, error] of out.errors.entries()) {
    if (error.code !== "lua-error" && error.code !== "lua-timeout") continue;
    const where = error.varId === undefined ? "" : ` in variable ${error.varId}`;
    if (detail) {
      if (error.varId !== undefined) {
        log.error(`Lua error (${error.code})${where}: ${error.description}`);
      }
      continue;
    }
    const reference = newReference();
    log.error(`Lua error (${error.code})${where}: ${error.description} (reference ${reference})`);
    const sent: Failure = {
      ...error,
      description: publicDescription(error.description, reference),
    };
    out.errors[i] = sent;
  }
}

/**
 * What a browser may see of a Lua error: the first line of the message, without the traceback
 * and without `file.lua:12:` positions, then the reference.
 *
 * @example
 * ```ts
 * import { publicDescription } from "./lua_errors.ts";
 * publicDescription('lua/contacts/book.lua:40: [string "x"]:1: no name\nstack traceback:\n\t...', "ab12cd34");
 * // "no name (reference ab12cd34)"
 * ```
 */
export function publicDescription(description: string, reference: string): string {
  const message = description.split("\nstack traceback:")[0] ?? "";
  const firstLine = message.split("\n")[0] ?? "";
  const bare = firstLine.replace(POSITION, "").trim();
  return `${bare === "" ? "Lua error" : bare} (reference ${reference})`;
}

/** A chunk position as Lua writes it: `path/file.lua:12: `, `[string "…"]:3: `, `inline:1: `. */
const POSITION = /(?:\[string "[^"\n]*"\]|[^\s:"]*\.lua|[A-Za-z_][\w.-]*|\?):\d+: /g;

/** Eight hex digits from a CSPRNG: enough to find one line in a day's log. */
function newReference(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
