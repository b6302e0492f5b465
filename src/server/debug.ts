/**
 * The debug view (SPEC 2), served only with `--debug`: `/<sid>/variables` shows a session's
 * variable tree as an HTML table and `/<sid>/variables.json` gives the same as JSON. Without
 * the flag both paths answer a plain `404`, the same as any unknown file, so nothing about the
 * session leaks.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { Variable } from "../variables/variable.ts";

/**
 * What the debug view reads from a session (a `LuaSession` has it).
 *
 * @example
 * ```ts
 * import type { DebuggableSession } from "./debug.ts";
 * import { VariableTree } from "../variables/tree.ts";
 * const tree = new VariableTree();
 * const session: DebuggableSession = { vendedId: "1", variables: () => tree.walk() };
 * ```
 */
export interface DebuggableSession {
  /** The session's vended id. */
  readonly vendedId: string;
  /** The session's variables, parents before children. */
  variables(): Iterable<Variable<unknown>>;
}

/**
 * Finds a live session by sid; the session manager in production.
 *
 * @example
 * ```ts
 * import type { SessionLookup } from "./debug.ts";
 * const none: SessionLookup = { session: () => undefined };
 * ```
 */
export interface SessionLookup {
  session(sid: string): DebuggableSession | undefined;
}

/**
 * One variable as the debug view shows it.
 *
 * @example
 * ```ts
 * import type { VariableSnapshot } from "./debug.ts";
 * const row: VariableSnapshot = {
 *   id: 2, parentId: 1, depth: 1, children: [], origin: "frontend", path: "name", access: "rw",
 *   properties: { path: "name" }, type: "", json: '"world"', watchers: 1, lastError: null,
 * };
 * ```
 */
export interface VariableSnapshot {
  id: number;
  /** The parent's id, `null` for a root. */
  parentId: number | null;
  /** How deep in the tree: 0 for a root. */
  depth: number;
  /** Ids of the children, in creation order. */
  children: number[];
  /** `frontend` (created by the browser) or `lua`. */
  origin: string;
  /** The `path` as written, `null` when the variable has none. */
  path: string | null;
  access: string;
  /** Every property, names without priority suffixes. */
  properties: Record<string, string>;
  /** The `type` last sent, `null` before the first send. */
  type: string | null;
  /** The value JSON last sent or written by the client, `null` before the first send. */
  json: string | null;
  /** How many watches the connection holds on it. */
  watchers: number;
  /** The error last reported for it, `null` when its last refresh worked. */
  lastError: string | null;
}

/**
 * A session's variables as the debug view shows them (the body of `/<sid>/variables.json`).
 *
 * @example
 * ```ts
 * import type { SessionSnapshot } from "./debug.ts";
 * const empty: SessionSnapshot = { vendedId: "1", variableCount: 0, variables: [] };
 * ```
 */
export interface SessionSnapshot {
  vendedId: string;
  variableCount: number;
  /** Every variable, parents before children. */
  variables: VariableSnapshot[];
}

/**
 * Options of {@link mountDebug}.
 *
 * @example
 * ```ts
 * import type { DebugOptions } from "./debug.ts";
 * const options: DebugOptions = { sessions: { session: () => undefined }, enabled: false };
 * ```
 */
export interface DebugOptions {
  /** Where sessions are found. */
  sessions: SessionLookup;
  /** `--debug`: when false the routes answer `404`. */
  enabled: boolean;
}

/** A well-formed session id in a route: 32 lowercase hex characters. */
const SID_ROUTE = ":sid{[0-9a-f]{32}}";
/** Longest value JSON shown in the HTML table; the JSON variant always has all of it. */
const HTML_VALUE_LIMIT = 4000;

/**
 * Takes a snapshot of a session's variable tree.
 *
 * @example
 * ```ts
 * import { snapshotSession } from "./debug.ts";
 * import { VariableTree } from "../variables/tree.ts";
 * const tree = new VariableTree();
 * tree.add({ id: 1, parent: undefined, origin: "lua" });
 * snapshotSession({ vendedId: "1", variables: () => tree.walk() }).variables[0]?.id; // 1
 * ```
 */
export function snapshotSession(session: DebuggableSession): SessionSnapshot {
  const depths = new Map<number, number>();
  const variables: VariableSnapshot[] = [];
  for (const variable of session.variables()) {
    const depth = variable.parent ? (depths.get(variable.parent.id) ?? 0) + 1 : 0;
    depths.set(variable.id, depth);
    variables.push({
      id: variable.id,
      parentId: variable.parent?.id ?? null,
      depth,
      children: [...variable.children].map((child) => child.id),
      origin: variable.origin,
      path: variable.path?.text ?? variable.properties.get("path") ?? null,
      access: variable.access,
      properties: Object.fromEntries(variable.properties),
      type: variable.sentType ?? null,
      json: variable.sentJson ?? null,
      watchers: variable.watchCount,
      lastError: variable.lastError ?? null,
    });
  }
  return { vendedId: session.vendedId, variableCount: variables.length, variables };
}

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./debug.ts";
 * escapeHtml(`<a href="x">'&'</a>`); // "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      default:
        return "&#39;";
    }
  });
}

/**
 * Renders a snapshot as a standalone HTML page: one table row per variable, indented by depth.
 *
 * @example
 * ```ts
 * import { renderVariablesHtml } from "./debug.ts";
 * const html = renderVariablesHtml({ vendedId: "1", variableCount: 0, variables: [] });
 * html.startsWith("<!doctype html>"); // true
 * ```
 */
export function renderVariablesHtml(snapshot: SessionSnapshot): string {
  const rows = snapshot.variables.map((v) => {
    const properties = Object.entries(v.properties)
      .map(([name, value]) => `<li><b>${escapeHtml(name)}</b>=${escapeHtml(value)}</li>`)
      .join("");
    const parent = v.parentId === null ? "" : String(v.parentId);
    const path = v.path === null ? "<i>none</i>" : `<code>${escapeHtml(v.path)}</code>`;
    return [
      `<tr id="v${v.id}">`,
      `<td class="id" style="padding-left:${0.5 + v.depth * 1.25}em">${v.id}</td>`,
      `<td>${parent}</td>`,
      `<td>${escapeHtml(v.origin)}</td>`,
      `<td>${path}</td>`,
      `<td>${escapeHtml(v.access)}</td>`,
      `<td><ul>${properties}</ul></td>`,
      `<td>${v.type === null ? "" : escapeHtml(v.type)}</td>`,
      `<td><pre>${v.json === null ? "<i>not sent</i>" : shortened(v.json)}</pre></td>`,
      `<td>${v.watchers}</td>`,
      `<td class="error">${
        v.lastError === null ? "" : `<pre>${escapeHtml(v.lastError)}</pre>`
      }</td>`,
      `</tr>`,
    ].join("");
  });
  const title = `Session ${escapeHtml(snapshot.vendedId)}: ${snapshot.variableCount} variables`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; vertical-align: top; text-align: left; }
pre { margin: 0; white-space: pre-wrap; word-break: break-all; max-width: 40em; }
ul { margin: 0; padding-left: 1em; }
.error { color: #a00; }
</style>
</head>
<body>
<h1>${title}</h1>
<p><a href="variables.json">As JSON</a></p>
<table>
<thead><tr><th>id</th><th>parent</th><th>origin</th><th>path</th><th>access</th><th>properties</th><th>type</th><th>value JSON</th><th>watchers</th><th>last error</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</body>
</html>
`;
}

function shortened(json: string): string {
  if (json.length <= HTML_VALUE_LIMIT) return escapeHtml(json);
  const rest = json.length - HTML_VALUE_LIMIT;
  return `${escapeHtml(json.slice(0, HTML_VALUE_LIMIT))}<i>… ${rest} more characters</i>`;
}

const PRIVATE_HEADERS = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

/**
 * Mounts `/<sid>/variables` and `/<sid>/variables.json` on an app (through `createApp`'s
 * `extend` option). Disabled, both answer a plain `404`; enabled, an unknown sid is a `404` too.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { mountDebug } from "./debug.ts";
 * const app = new Hono();
 * mountDebug(app, { sessions: { session: () => undefined }, enabled: false });
 * ```
 */
export function mountDebug(app: Hono, options: DebugOptions): void {
  if (!options.enabled) {
    // The same answer as any unknown file: nothing tells that the route exists.
    const hidden = (c: Context) => c.text("Not found", 404);
    app.get(`/${SID_ROUTE}/variables`, hidden);
    app.get(`/${SID_ROUTE}/variables.json`, hidden);
    return;
  }
  const notFound = () => new Response("No such session", { status: 404, headers: PRIVATE_HEADERS });
  const find = (sid: string) => {
    const session = options.sessions.session(sid);
    return session ? snapshotSession(session) : undefined;
  };
  app.get(`/${SID_ROUTE}/variables.json`, (c) => {
    const snapshot = find(c.req.param("sid"));
    if (!snapshot) return notFound();
    return new Response(JSON.stringify(snapshot, null, 2), {
      headers: { ...PRIVATE_HEADERS, "content-type": "application/json; charset=utf-8" },
    });
  });
  app.get(`/${SID_ROUTE}/variables`, (c) => {
    const snapshot = find(c.req.param("sid"));
    if (!snapshot) return notFound();
    return new Response(renderVariablesHtml(snapshot), {
      headers: {
        ...PRIVATE_HEADERS,
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
      },
    });
  });
}
