/**
 * SPEC 10.5: variable 1's `lua` property, set by the client, loads a site file or (when the
 * server allows it) runs inline code in the session.
 *
 * @module
 */
import { type Failure, FailureError } from "../failure.ts";
import type { Program } from "../lua/program.ts";
import type { Site } from "../site/site.ts";

/**
 * Loads what a `lua` property names: a `.lua` value loads that site file; anything else is
 * inline code, refused unless `inlineLua`. Throws a {@link FailureError} on variable 1.
 *
 * @example
 * ```ts ignore
 * loadLuaProperty("extra.lua", { site, program, inlineLua: false });
 * ```
 */
export function loadLuaProperty(
  value: string,
  options: { site: Site; program: Program; inlineLua: boolean },
): void {
  let failure: Failure | null;
  if (value.endsWith(".lua")) {
    const file = value.replace(/^\/+/, "");
    if (
      file.split("/").some((part) => part === ".." || part === "") || !options.site.lua.has(file)
    ) {
      throw new FailureError("not-found", `No Lua file '${value}' in the site`, 1);
    }
    failure = options.program.runFile(file);
  } else {
    if (!options.inlineLua) {
      throw new FailureError("forbidden", "Inline Lua is not allowed on this server", 1);
    }
    failure = options.program.runCode(value, "=inline");
  }
  if (failure) throw new FailureError(failure.code, failure.description, 1);
}
