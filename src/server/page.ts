/**
 * The built-in app page: an empty `ui-app` element and the built-in client.
 *
 * @module
 */

/** Path of the built-in client script. */
export const CLIENT_PATH = "/ui-engine-client.js";

/**
 * The built-in page's HTML.
 *
 * @example
 * ```ts
 * import { builtinPage } from "./page.ts";
 * builtinPage(); // "<!doctype html>..."
 * ```
 */
export function builtinPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lua UI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui-engine-client.css">
</head>
<body>
<div ui-app></div>
<div class="ui-status" hidden></div>
<noscript>This app needs JavaScript.</noscript>
<script type="module" src="${CLIENT_PATH}"></script>
</body>
</html>
`;
}
