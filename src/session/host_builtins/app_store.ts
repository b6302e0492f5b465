/**
 * The built-in `store.get(key)`, `store.set(key, value)` and `store.delete(key)` host
 * functions: a per-app key-value store on the session store (memory, Deno KV or Redis), in a
 * namespace apart from sessions. Values are JSON-able Lua values (nil, booleans, numbers,
 * strings, and tables of them), stored as JSON text of at most `MAX_VALUE_BYTES`.
 *
 * @module
 */
import type { HostFunctions, HostValue } from "../../lua/host_functions.ts";
import { MAX_VALUE_BYTES, type SessionStore } from "../../store/session_store.ts";

/** The store namespace of the apps' values (the server keeps its own apart). */
export const APP_NAMESPACE = "app";

/** Longest key, in characters. */
export const MAX_KEY_LENGTH = 256;

/**
 * Makes the `store` host functions over a session store.
 *
 * @example
 * ```ts
 * import { openSessionStore } from "../../store/open_session_store.ts";
 * import { createAppStore } from "./app_store.ts";
 * const sessions = await openSessionStore("memory", { ttlMs: 60_000 });
 * const store = createAppStore(sessions);
 * await store.set?.("greeting", { text: "hello" });
 * await store.get?.("greeting"); // { text: "hello" }
 * await sessions.close();
 * ```
 */
export function createAppStore(store: SessionStore, namespace = APP_NAMESPACE): HostFunctions {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    async get(key) {
      const bytes = await store.getValue(namespace, checkKey(key));
      return bytes === null ? null : JSON.parse(decoder.decode(bytes)) as HostValue;
    },
    async set(key, value) {
      const name = checkKey(key);
      if (value === null || value === undefined) return await store.setValue(namespace, name, null);
      const bytes = encoder.encode(JSON.stringify(value));
      if (bytes.length > MAX_VALUE_BYTES) {
        throw new Error(
          `The value has ${bytes.length} bytes of JSON; the limit is ${MAX_VALUE_BYTES}`,
        );
      }
      await store.setValue(namespace, name, bytes);
    },
    async delete(key) {
      await store.setValue(namespace, checkKey(key), null);
    },
  };
}

function checkKey(key: HostValue | undefined): string {
  if (typeof key !== "string" || key.length === 0) {
    throw new Error("expects a non-empty string key as argument 1");
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new Error(`The key is longer than ${MAX_KEY_LENGTH} characters`);
  }
  return key;
}
