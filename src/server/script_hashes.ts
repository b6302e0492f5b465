/**
 * CSP hashes of the templates' inline scripts. The built-in client runs a template's `<script>`
 * elements when the template renders; listing their hashes in `script-src` lets exactly those
 * run under a policy that refuses every other inline script.
 *
 * @module
 */
import type { ViewdefStore } from "../viewdefs/store.ts";

const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;

/**
 * Returns a function giving the `'sha256-…'` sources of every inline script in `viewdefs`,
 * recomputed only when the store changes (hot reload).
 *
 * @example
 * ```ts
 * import { templateScriptHashes } from "./script_hashes.ts";
 * import { ViewdefStore } from "../viewdefs/store.ts";
 * const store = new ViewdefStore(new Map([["A.DEFAULT", "<template><script>go()</script></template>"]]));
 * await templateScriptHashes(store)(); // ["'sha256-…'"]
 * ```
 */
export function templateScriptHashes(viewdefs: ViewdefStore): () => Promise<string[]> {
  let cached: { version: number; hashes: Promise<string[]> } | undefined;
  return () => {
    if (cached?.version !== viewdefs.version) {
      cached = { version: viewdefs.version, hashes: hashAll(viewdefs) };
    }
    return cached.hashes;
  };
}

async function hashAll(viewdefs: ViewdefStore): Promise<string[]> {
  const bodies = new Set<string>();
  for (const key of viewdefs.keys()) {
    for (const match of (viewdefs.get(key) ?? "").matchAll(SCRIPT)) {
      if (/\bsrc\s*=/i.test(match[1] ?? "")) continue; // external: covered by 'self'
      // The HTML parser turns CR LF and lone CR into LF before the browser hashes the text.
      bodies.add((match[2] ?? "").replace(/\r\n?/g, "\n"));
    }
  }
  const hashes: string[] = [];
  for (const body of bodies) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
    hashes.push(`'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`);
  }
  return hashes.sort();
}
