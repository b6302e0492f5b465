/**
 * The session store interface: where session snapshots live so that a session survives a
 * restart, a redeploy or a reconnect that lands on another instance.
 *
 * Ownership protocol. Each stored session has a record: its latest snapshot, a `generation`
 * (an integer) and an `owner` (the id of the instance, one per server process).
 *
 * - An instance owns a session only after {@link SessionStore.claim}: the claim atomically raises
 *   the generation (a session seen for the first time starts at the current time in
 *   milliseconds, so a generation is never reused even after the record expired), makes the
 *   caller the owner and hands back the snapshot as it was at that moment, all in one step: no
 *   save can slip in between reading the snapshot and taking it over.
 * - Every write ({@link SessionStore.save}, {@link SessionStore.touch}) is a compare-and-set on
 *   the lease: it succeeds only while the record still has the lease's generation and owner.
 * - A newer instance takes a session over by claiming it too (a reconnect that lands there): its
 *   claim raises the generation, so the old owner's next save or touch returns `"lost"`. The old
 *   owner then drops its copy and closes its socket; the client reconnects and lands on an
 *   owner, or restores. Two instances never both have writes accepted for one session.
 * - The record expires `ttlMs` (the session timeout) after the last claim, save or touch; a
 *   write to an expired record is `"lost"`. An owner keeps an idle connected session alive with
 *   `touch`.
 * - A snapshot is stored with its length and a SHA-256 digest; a load that finds bytes that do
 *   not match them reports the record as corrupt instead of handing back garbage.
 *
 * Per-app data ({@link SessionStore.getValue}, {@link SessionStore.setValue}) is a small
 * key-value space apart from sessions, namespaced by app, with values up to
 * {@link MAX_VALUE_BYTES}.
 *
 * @module
 */

/** A claim on a session: writes carry it and succeed only while it is current. */
export interface Lease {
  /** The session id. */
  readonly sid: string;
  /** The claiming instance. */
  readonly owner: string;
  /** Raised by every claim; a write with an older one is refused. */
  readonly generation: number;
}

/** A session record as read from the store. */
export interface StoredSession {
  /** The latest snapshot, or null when none was saved yet or it is corrupt. */
  snapshot: Uint8Array | null;
  /** Why the snapshot could not be read back (length or digest mismatch, missing chunk). */
  corrupt?: string;
  /** The record's generation. */
  generation: number;
  /** The instance that owns it. */
  owner: string;
}

/** What {@link SessionStore.claim} returns: the new lease and the record taken over. */
export interface Claim {
  lease: Lease;
  /** The record as it was when claimed; null for a session the store did not hold. */
  previous: StoredSession | null;
}

/** The result of a write: done, or refused because another claim is newer (or it expired). */
export type WriteResult = "ok" | "lost";

/** Options shared by every store. */
export interface SessionStoreOptions {
  /** How long a record lives after its last write, in milliseconds: the session timeout. */
  ttlMs: number;
  /** Prefix of every key (KV and Redis), so several apps can share one database. */
  prefix: string;
}

/** The default options: one hour, prefix `ui`. */
export const DEFAULT_STORE_OPTIONS: SessionStoreOptions = { ttlMs: 60 * 60 * 1000, prefix: "ui" };

/** Largest per-app value, in bytes (what one Deno KV value holds, with room to spare). */
export const MAX_VALUE_BYTES = 60 * 1024;

/**
 * A session store: `memory`, Deno KV or Redis (see `open_session_store.ts`).
 *
 * @example
 * ```ts
 * import { openSessionStore } from "./open_session_store.ts";
 * const store = await openSessionStore("memory", { ttlMs: 60_000 });
 * const { lease } = await store.claim("sid-1", "instance-a");
 * await store.save(lease, new Uint8Array([1, 2, 3])); // "ok"
 * await store.close();
 * ```
 */
export interface SessionStore {
  /** What kind of store this is: `memory`, `kv` or `redis`. */
  readonly kind: string;
  /** Reads a session's record without claiming it; null when the store does not hold it. */
  load(sid: string): Promise<StoredSession | null>;
  /** Makes `owner` the session's owner with a new generation; see the module notes. */
  claim(sid: string, owner: string): Promise<Claim>;
  /** Replaces the snapshot if the lease is still current, and renews the expiry. */
  save(lease: Lease, snapshot: Uint8Array): Promise<WriteResult>;
  /** Renews the expiry if the lease is still current. */
  touch(lease: Lease): Promise<WriteResult>;
  /** Forgets a session (a closed session, or one that cannot be restored). */
  delete(sid: string): Promise<void>;
  /** Reads a per-app value; null when unset. */
  getValue(namespace: string, key: string): Promise<Uint8Array | null>;
  /** Sets a per-app value (null deletes it); values are at most {@link MAX_VALUE_BYTES}. */
  setValue(namespace: string, key: string, value: Uint8Array | null): Promise<void>;
  /** Releases connections; the store must not be used afterwards. */
  close(): Promise<void>;
}

/**
 * The SHA-256 digest of a snapshot, in hexadecimal, stored beside it to detect corruption.
 *
 * @example
 * ```ts
 * import { digest } from "./session_store.ts";
 * await digest(new Uint8Array()); // "e3b0c442..."
 * ```
 */
export async function digest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Checks a snapshot against its stored length and digest; returns why it does not match.
 *
 * @example
 * ```ts
 * import { checkSnapshot, digest } from "./session_store.ts";
 * const bytes = new Uint8Array([1]);
 * await checkSnapshot(bytes, 1, await digest(bytes)); // undefined
 * ```
 */
export async function checkSnapshot(
  bytes: Uint8Array,
  length: number,
  sum: string,
): Promise<string | undefined> {
  if (bytes.length !== length) {
    return `Snapshot has ${bytes.length} bytes where ${length} were saved`;
  }
  if (await digest(bytes) !== sum) return "Snapshot does not match its digest";
  return undefined;
}

/** Throws a clear error for a per-app value over {@link MAX_VALUE_BYTES}. */
export function checkValueSize(value: Uint8Array): void {
  if (value.length > MAX_VALUE_BYTES) {
    throw new Error(`App value has ${value.length} bytes; the limit is ${MAX_VALUE_BYTES}`);
  }
}

/** The first generation of a session the store does not hold: the clock, never reused. */
export function firstGeneration(): number {
  return Date.now();
}
