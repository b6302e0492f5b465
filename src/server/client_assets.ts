/**
 * The built-in client's assets, served by the server itself.
 *
 * @module
 */
import type { AssetSource } from "./app.ts";

/**
 * Serves the built-in client's files (none yet).
 *
 * @example
 * ```ts
 * import { clientAssets } from "./client_assets.ts";
 * const assets = clientAssets();
 * await assets("/ui-engine-client.js");
 * ```
 */
export function clientAssets(): AssetSource {
  return () => Promise.resolve(undefined);
}
