/**
 * Chooses a session store from its URL (`--session-store`, env `UI_SESSION_STORE`):
 *
 * - `memory`: this process only (the default);
 * - `kv`: Deno KV's default database (on Deno Deploy, the database assigned to the app);
 * - `kv:PATH`: a Deno KV file;
 * - `redis://HOST:PORT` (or `rediss://`): a Redis or Valkey server.
 *
 * @module
 */
import { createMemoryStore } from "./memory_store.ts";
import type { SessionStore } from "./session_store.ts";
import type { RedisStoreOptions } from "./redis_store.ts";

/**
 * Opens the store a URL names; rejects an unknown URL with a message listing the forms.
 *
 * @example
 * ```ts
 * import { openSessionStore } from "./open_session_store.ts";
 * const store = await openSessionStore("memory", { ttlMs: 60_000 });
 * await store.close();
 * ```
 */
export async function openSessionStore(
  url: string,
  options: Partial<RedisStoreOptions> = {},
): Promise<SessionStore> {
  const trimmed = url.trim();
  if (trimmed === "" || trimmed === "memory") return createMemoryStore(options);
  if (trimmed === "kv" || trimmed.startsWith("kv:")) {
    const path = trimmed === "kv" ? undefined : trimmed.slice(3);
    if (path === "") throw new Error('Session store "kv:" needs a path, or use "kv" alone');
    // Loaded only when asked for, like the Redis client.
    const { openKvStore } = await import("./kv_store.ts");
    return await openKvStore(path, options);
  }
  if (/^rediss?:\/\/[^/]/.test(trimmed)) {
    const { openRedisStore } = await import("./redis_store.ts");
    return await openRedisStore(trimmed, options);
  }
  throw new Error(
    `Session store "${url}" is not known; use memory, kv, kv:PATH or redis://HOST:PORT`,
  );
}
