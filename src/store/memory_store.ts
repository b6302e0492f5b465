/**
 * The `memory` session store: records in this process's memory, the default. Nothing survives
 * the process; it follows the same ownership protocol as the shared stores (see
 * `session_store.ts`), so the session core takes one code path whatever the store.
 *
 * @module
 */
import {
  checkValueSize,
  type Claim,
  DEFAULT_STORE_OPTIONS,
  firstGeneration,
  type Lease,
  type SessionStore,
  type SessionStoreOptions,
  type WriteResult,
} from "./session_store.ts";
import { mergeOptions } from "../options.ts";

interface MemoryRecord {
  snapshot: Uint8Array | null;
  generation: number;
  owner: string;
  expiresAt: number;
}

/**
 * Makes a memory store; expired records are dropped when next touched or swept.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "./memory_store.ts";
 * const store = createMemoryStore({ ttlMs: 1000 });
 * await store.load("nobody"); // null
 * ```
 */
export function createMemoryStore(options: Partial<SessionStoreOptions> = {}): SessionStore {
  const { ttlMs } = mergeOptions(DEFAULT_STORE_OPTIONS, options);
  const records = new Map<string, MemoryRecord>();
  const values = new Map<string, Uint8Array>();
  let writes = 0;

  const live = (sid: string): MemoryRecord | undefined => {
    const record = records.get(sid);
    if (record && record.expiresAt <= Date.now()) {
      records.delete(sid);
      return undefined;
    }
    return record;
  };
  // Sessions that are never read again would stay forever: every so many writes, sweep.
  const sweep = () => {
    if (++writes % 1000 !== 0) return;
    const now = Date.now();
    for (const [sid, record] of records) if (record.expiresAt <= now) records.delete(sid);
  };
  const current = (lease: Lease): MemoryRecord | undefined => {
    const record = live(lease.sid);
    return record?.generation === lease.generation && record.owner === lease.owner
      ? record
      : undefined;
  };

  return {
    kind: "memory",
    load(sid) {
      const record = live(sid);
      return Promise.resolve(
        record
          ? { snapshot: record.snapshot, generation: record.generation, owner: record.owner }
          : null,
      );
    },
    claim(sid, owner): Promise<Claim> {
      sweep();
      const record = live(sid);
      const generation = record ? record.generation + 1 : firstGeneration();
      records.set(sid, {
        snapshot: record?.snapshot ?? null,
        generation,
        owner,
        expiresAt: Date.now() + ttlMs,
      });
      const previous = record
        ? { snapshot: record.snapshot, generation: record.generation, owner: record.owner }
        : null;
      return Promise.resolve({ lease: { sid, owner, generation }, previous });
    },
    save(lease, snapshot): Promise<WriteResult> {
      sweep();
      const record = current(lease);
      if (!record) return Promise.resolve("lost");
      record.snapshot = snapshot.slice();
      record.expiresAt = Date.now() + ttlMs;
      return Promise.resolve("ok");
    },
    touch(lease): Promise<WriteResult> {
      const record = current(lease);
      if (!record) return Promise.resolve("lost");
      record.expiresAt = Date.now() + ttlMs;
      return Promise.resolve("ok");
    },
    delete(sid) {
      records.delete(sid);
      return Promise.resolve();
    },
    getValue(namespace, key) {
      return Promise.resolve(values.get(JSON.stringify([namespace, key]))?.slice() ?? null);
    },
    setValue(namespace, key, value) {
      // Run as a promise so that an oversized value rejects, as with the other stores.
      return Promise.resolve().then(() => {
        const id = JSON.stringify([namespace, key]);
        if (value === null) values.delete(id);
        else {
          checkValueSize(value);
          values.set(id, value.slice());
        }
      });
    },
    close() {
      records.clear();
      values.clear();
      return Promise.resolve();
    },
  };
}
