/**
 * The Deno KV session store (`kv`, `kv:PATH`): on Deno Deploy the app's database, locally a file.
 *
 * A KV value holds at most 64 KiB and one atomic commit at most about 800 KiB, so a snapshot is
 * cut into chunks written under a fresh version id, and then made current by one atomic commit
 * of the session's head key, checked against the head as read (`kv.atomic().check(...)`). A
 * reader therefore sees either the old chunks or the new ones, never a mix; the head carries the
 * length and SHA-256 digest that a load verifies. After a commit the previous version's chunks
 * are deleted; chunks of a failed or interrupted save are deleted, or expire.
 *
 * Keys: `[prefix, "session", sid]` (the head), `[prefix, "chunk", sid, version, i]`,
 * `[prefix, "value", namespace, key]`. Heads expire `ttlMs` after the last write and chunks
 * `2 × ttlMs` after theirs (a touch rewrites them when they would outlive the head by less).
 * KV's own expiry is lazy, so the head also records its expiry time and is ignored past it.
 *
 * @module
 */
import {
  checkSnapshot,
  checkValueSize,
  type Claim,
  DEFAULT_STORE_OPTIONS,
  digest,
  firstGeneration,
  type Lease,
  type SessionStore,
  type SessionStoreOptions,
  type StoredSession,
  type WriteResult,
} from "./session_store.ts";

/** Bytes per chunk: under KV's 64 KiB value limit with room for its encoding. */
export const CHUNK_BYTES = 60 * 1024;
/** Chunks per atomic write: under KV's limit on the size of one commit. */
const CHUNKS_PER_COMMIT = 10;
/** Keys per `getMany` (KV's limit). */
const KEYS_PER_READ = 10;
const LOAD_ATTEMPTS = 5;

interface Head {
  generation: number;
  owner: string;
  expiresAt: number;
  /** The current snapshot's chunks: absent until the first save. */
  version?: string;
  chunks?: number;
  length?: number;
  sum?: string;
  chunksExpireAt?: number;
}

/** A head as read: an expired head reads as null, with its versionstamp kept for checks. */
interface HeadRead {
  key: Deno.KvKey;
  versionstamp: string | null;
  value: Head | null;
}

/**
 * Opens a KV store on `path` (a file) or, without one, the default database (Deno Deploy's).
 *
 * @example
 * ```ts
 * import { openKvStore } from "./kv_store.ts";
 * const path = await Deno.makeTempFile();
 * const store = await openKvStore(path, { ttlMs: 60_000 });
 * await store.close();
 * ```
 */
export async function openKvStore(
  path: string | undefined,
  options: Partial<SessionStoreOptions> = {},
): Promise<SessionStore> {
  const { ttlMs, prefix } = { ...DEFAULT_STORE_OPTIONS, ...options };
  const kv = await Deno.openKv(path);
  const headKey = (sid: string): Deno.KvKey => [prefix, "session", sid];
  const chunkKey = (sid: string, version: string, i: number): Deno.KvKey => [
    prefix,
    "chunk",
    sid,
    version,
    i,
  ];

  const readHead = async (sid: string): Promise<HeadRead> => {
    const entry = await kv.get<Head>(headKey(sid));
    if (entry.value && entry.value.expiresAt <= Date.now()) return { ...entry, value: null };
    return entry;
  };
  const isCurrent = (head: Head | null, lease: Lease): head is Head =>
    head !== null && head.generation === lease.generation && head.owner === lease.owner;

  const writeChunks = async (sid: string, version: string, bytes: Uint8Array) => {
    const count = Math.ceil(bytes.length / CHUNK_BYTES);
    const commits: Promise<Deno.KvCommitResult | Deno.KvCommitError>[] = [];
    for (let first = 0; first < count; first += CHUNKS_PER_COMMIT) {
      commits.push(commit(() => {
        const op = kv.atomic();
        for (let i = first; i < Math.min(count, first + CHUNKS_PER_COMMIT); i++) {
          const chunk = bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
          op.set(chunkKey(sid, version, i), chunk, { expireIn: 2 * ttlMs });
        }
        return op;
      }));
    }
    for (const result of await Promise.all(commits)) {
      if (!result.ok) throw new Error("Deno KV refused a snapshot chunk");
    }
    return count;
  };
  const deleteChunks = async (sid: string, version: string | undefined, count = 0) => {
    if (version === undefined) return;
    const commits = [];
    for (let first = 0; first < count; first += 100) {
      commits.push(commit(() => {
        const op = kv.atomic();
        for (let i = first; i < Math.min(count, first + 100); i++) {
          op.delete(chunkKey(sid, version, i));
        }
        return op;
      }));
    }
    await Promise.all(commits);
  };
  const readSnapshot = async (sid: string, head: Head): Promise<StoredSession | "retry"> => {
    const record = { generation: head.generation, owner: head.owner };
    if (head.version === undefined) return { ...record, snapshot: null };
    const { version, chunks = 0, length = 0, sum = "" } = head;
    const keys = Array.from({ length: chunks }, (_, i) => chunkKey(sid, version, i));
    const parts: Uint8Array[] = [];
    for (let first = 0; first < keys.length; first += KEYS_PER_READ) {
      const entries = await kv.getMany<Uint8Array[]>(keys.slice(first, first + KEYS_PER_READ));
      for (const entry of entries) {
        if (!(entry.value instanceof Uint8Array)) return "retry";
        parts.push(entry.value);
      }
    }
    const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    const corrupt = await checkSnapshot(bytes, length, sum);
    return corrupt ? { ...record, snapshot: null, corrupt } : { ...record, snapshot: bytes };
  };
  const load = async (sid: string): Promise<StoredSession | null> => {
    for (let attempt = 0;; attempt++) {
      const head = await readHead(sid);
      if (head.value === null) return null;
      const result = await readSnapshot(sid, head.value);
      if (result !== "retry") return result;
      // A chunk is missing: a save may have replaced the version meanwhile; read the head again.
      const again = await readHead(sid);
      if (again.versionstamp === head.versionstamp || attempt >= LOAD_ATTEMPTS) {
        return {
          generation: head.value.generation,
          owner: head.value.owner,
          snapshot: null,
          corrupt: "Snapshot chunk is missing",
        };
      }
    }
  };

  return {
    kind: "kv",
    load,
    async claim(sid, owner): Promise<Claim> {
      for (;;) {
        const head = await readHead(sid);
        const generation = head.value ? head.value.generation + 1 : firstGeneration();
        const next: Head = { ...head.value, generation, owner, expiresAt: Date.now() + ttlMs };
        const result = await commit(() =>
          kv.atomic().check(head).set(headKey(sid), next, { expireIn: ttlMs })
        );
        if (!result.ok) continue;
        const lease = { sid, owner, generation };
        if (!head.value) return { lease, previous: null };
        // The claimed version's chunks stay until this owner saves: the old owner's saves fail.
        let previous = await readSnapshot(sid, head.value);
        if (previous === "retry") {
          const { generation, owner } = head.value;
          previous = { generation, owner, snapshot: null, corrupt: "Snapshot chunk is missing" };
        }
        return { lease, previous };
      }
    },
    async save(lease, snapshot): Promise<WriteResult> {
      let head = await readHead(lease.sid);
      if (!isCurrent(head.value, lease)) return "lost";
      const version = crypto.randomUUID();
      const sum = await digest(snapshot);
      const chunks = await writeChunks(lease.sid, version, snapshot);
      for (;;) {
        const old: Head = head.value as Head;
        const next: Head = {
          ...old,
          version,
          chunks,
          length: snapshot.length,
          sum,
          expiresAt: Date.now() + ttlMs,
          chunksExpireAt: Date.now() + 2 * ttlMs,
        };
        const result = await commit(() =>
          kv.atomic().check(head).set(headKey(lease.sid), next, { expireIn: ttlMs })
        );
        if (result.ok) {
          await deleteChunks(lease.sid, old.version, old.chunks);
          return "ok";
        }
        // Another write went first: a newer claim (lost), or this owner's own concurrent save,
        // which this one then replaces (the later commit wins).
        head = await readHead(lease.sid);
        if (!isCurrent(head.value, lease)) {
          await deleteChunks(lease.sid, version, chunks);
          return "lost";
        }
      }
    },
    async touch(lease): Promise<WriteResult> {
      for (;;) {
        const head = await readHead(lease.sid);
        if (!isCurrent(head.value, lease)) return "lost";
        const now = Date.now();
        const next: Head = { ...head.value, expiresAt: now + ttlMs };
        if (head.value.version !== undefined && (head.value.chunksExpireAt ?? 0) < now + ttlMs) {
          // The chunks would expire before the renewed head: write them again, newly timed.
          // A snapshot that cannot be read back is left to expire with its chunks.
          const stored = await readSnapshot(lease.sid, head.value);
          if (stored !== "retry" && stored.snapshot !== null) {
            await writeChunks(lease.sid, head.value.version, stored.snapshot);
            next.chunksExpireAt = now + 2 * ttlMs;
          }
        }
        const result = await commit(() =>
          kv.atomic().check(head).set(headKey(lease.sid), next, { expireIn: ttlMs })
        );
        if (result.ok) return "ok";
      }
    },
    async delete(sid) {
      await kv.delete(headKey(sid));
      const ops = [];
      for await (const entry of kv.list({ prefix: [prefix, "chunk", sid] })) {
        ops.push(kv.delete(entry.key));
      }
      await Promise.all(ops);
    },
    async getValue(namespace, key) {
      const entry = await kv.get<Uint8Array>([prefix, "value", namespace, key]);
      return entry.value instanceof Uint8Array ? entry.value : null;
    },
    async setValue(namespace, key, value) {
      if (value === null) return await kv.delete([prefix, "value", namespace, key]);
      checkValueSize(value);
      await kv.set([prefix, "value", namespace, key], value);
    },
    close() {
      kv.close();
      return Promise.resolve();
    },
  };
}

/**
 * Commits an atomic operation made by `build`, again while SQLite reports that another
 * connection to the same file holds its lock (a second process, or a tool, on a local KV file).
 */
async function commit(
  build: () => Deno.AtomicOperation,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  for (let attempt = 1;; attempt++) {
    try {
      return await build().commit();
    } catch (error) {
      if (attempt >= LOCK_RETRIES || !/database is locked/i.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS * attempt));
    }
  }
}

/** How often, and how patiently, a locked commit is tried again (about 2 s in all). */
const LOCK_RETRIES = 20;
const LOCK_RETRY_MS = 10;
