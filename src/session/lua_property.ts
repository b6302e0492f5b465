/**
 * Properties the client sets that Lua hears of (the seed's NotifyPropertyChange): variable 1's
 * `lua` property (SPEC 10.5) loads a site file or, when the server allows it, runs inline code;
 * its `url` property is the page's address (`session.url`); and any property may have Lua
 * watchers (`session:watchProperty`).
 *
 * @module
 */
import { type Failure, FailureError } from "../failure.ts";
import type { Program } from "../lua/program.ts";
import { LUA_PROPERTY } from "../lua/prototypes.ts";
import { setSessionUrl, URL_PROPERTY } from "../lua/session_url.ts";
import type { LuaValue } from "../lua/vm.ts";
import type { Site } from "../site/site.ts";
import type { Variable } from "../variables/variable.ts";
import type { SessionParts } from "./session_parts.ts";

/**
 * A property the client set (after it is stored): the `lua` and `url` properties of variable 1,
 * then the property's Lua watchers. A failing watcher throws a {@link FailureError} on the
 * variable.
 *
 * @example
 * ```ts ignore
 * propertyChanged(variable, "selected", "3", { site, parts, inlineLua: false });
 * ```
 */
export function propertyChanged(
  variable: Variable<LuaValue>,
  name: string,
  value: string,
  options: { site: Site; parts: SessionParts; inlineLua: boolean },
): void {
  const { parts } = options;
  if (variable.id === 1 && name === LUA_PROPERTY) {
    return loadLuaProperty(value, { ...options, program: parts.program });
  }
  if (variable.id === 1 && name === URL_PROPERTY) {
    setSessionUrl(parts.vm, parts.sessionTable, value);
  }
  for (const fn of variable.propertyWatchers(name)) {
    const result = parts.vm.call(fn, [value], 0);
    if (!result.ok) FailureError.unwrap(result, variable.id);
  }
}

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
