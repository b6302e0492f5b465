/**
 * What Lua gets from the host in each session: the embedding app's functions as the global
 * `host` table (given once for every session, or made per session), and the built-ins that are
 * switched on: `http.fetch` (`--allow-fetch`) and `store` (`--app-store`).
 *
 * @module
 */
import type { HostFunctions, HostTables } from "../../lua/host_functions.ts";
import type { SessionStore } from "../../store/session_store.ts";
import { createAppStore } from "./app_store.ts";
import { createHttpFetch, DEFAULT_FETCH_MAX_BYTES } from "./http_fetch.ts";

/** What a per-session host function factory is told about its session. */
export interface HostContext {
  /** The session's id (the one in its URL). */
  sessionId: string;
  /** Aborted when the session closes. */
  signal: AbortSignal;
}

/** The host functions of the embedding app: the same for every session, or made per session. */
export type HostFunctionsOption = HostFunctions | ((context: HostContext) => HostFunctions);

/** Makes the host tables of one session. */
export type SessionHost = (context: HostContext) => HostTables;

/** Options of {@link sessionHost}. */
export interface SessionHostOptions {
  /** The embedding app's functions, installed as the `host` table. */
  functions?: HostFunctionsOption;
  /** Origins `http.fetch` may reach; none leaves `http` out. */
  allowFetch?: readonly string[];
  /** Largest `http.fetch` response body, in bytes (1 MiB by default). */
  fetchMaxBytes?: number;
  /** The store behind `store.get/set/delete`; none leaves `store` out. */
  appStore?: SessionStore;
}

/**
 * The host tables every session gets, or undefined when there are none.
 *
 * @example
 * ```ts
 * import { sessionHost } from "./session_host.ts";
 * const host = sessionHost({ functions: { now: () => Date.now() } });
 * host?.({ sessionId: "x", signal: new AbortController().signal }); // { host: { now } }
 * ```
 */
export function sessionHost(options: SessionHostOptions): SessionHost | undefined {
  const { functions, allowFetch = [], appStore } = options;
  if (!functions && allowFetch.length === 0 && !appStore) return undefined;
  const store = appStore && createAppStore(appStore);
  return (context) => {
    const tables: HostTables = {};
    if (functions) {
      tables.host = typeof functions === "function" ? functions(context) : functions;
    }
    if (allowFetch.length > 0) {
      tables.http = {
        fetch: createHttpFetch({
          allowedOrigins: allowFetch,
          maxBytes: options.fetchMaxBytes ?? DEFAULT_FETCH_MAX_BYTES,
          signal: context.signal,
        }),
      };
    }
    if (store) tables.store = store;
    return tables;
  };
}
