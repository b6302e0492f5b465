/**
 * The built-in app page: an empty `ui-app` element and the built-in client. The server links
 * the client under its content-hash URL (cached for a year, see `client_assets.ts`); the plain
 * path is the fallback when no bundle is at hand.
 *
 * @module
 */

/** Path of the built-in client script. */
export const CLIENT_PATH = "/ui-engine-client.js";

/**
 * The built-in page's HTML, loading the client from `scriptUrl`. The script is external, so
 * the default CSP's `script-src 'self'` covers it under any URL of the server's own.
 *
 * @example
 * ```ts
 * import { builtinPage } from "./page.ts";
 * builtinPage("/ui-engine-client.0123456789abcdef.js"); // "<!doctype html>..."
 * ```
 */
export function builtinPage(scriptUrl: string = CLIENT_PATH, base = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lua UI</title>
<link rel="icon" href="data:,">
<meta name="ui-base" content="${escapeAttribute(base)}">
<link rel="stylesheet" href="${escapeAttribute(base)}/ui-engine-client.css">
</head>
<body>
<div ui-app></div>
<div class="ui-status" hidden></div>
<noscript>This app needs JavaScript.</noscript>
<script type="module" src="${escapeAttribute(base)}${scriptUrl}"></script>
</body>
</html>
`;
}

function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}
