/**
 * The Redis session store (`redis://HOST:PORT`, also Valkey), for self-hosting many instances on
 * one shared store. The client (npm `redis`) is imported on first use only, so a server without
 * a Redis store never downloads it.
 *
 * A session is one hash, `PREFIX:session:SID`, with the fields `gen`, `owner`, `data`, `len` and
 * `sum`. Claims and writes are Lua scripts, so each compare-and-set on `gen` and `owner` runs
 * atomically in the server; every write sets the key's expiry (`PEXPIRE`, the session timeout).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  checkSnapshot,
  checkValueSize,
  type Claim,
  DEFAULT_STORE_OPTIONS,
  digest,
  firstGeneration,
  type SessionStore,
  type SessionStoreOptions,
  type StoredSession,
  type WriteResult,
} from "./session_store.ts";

/** Options of {@link openRedisStore}. */
export interface RedisStoreOptions extends SessionStoreOptions {
  /** Called with connection errors (the client reconnects by itself). */
  onError: (message: string) => void;
  /** How long to wait for the first connection, in milliseconds. */
  connectTimeoutMs: number;
}

type Reply = Uint8Array | number | null | Reply[];

/** The part of the client this store uses, with bulk strings mapped to bytes. */
interface Client {
  eval(script: string, options: { keys: string[]; arguments: (string | Buffer)[] }): Promise<Reply>;
  sendCommand(args: (string | Buffer)[]): Promise<Reply>;
}

// deno-fmt-ignore
const CLAIM = `
local old = redis.call('HMGET', KEYS[1], 'gen', 'owner', 'data', 'len', 'sum')
local gen
if old[1] then gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
else redis.call('HSET', KEYS[1], 'gen', ARGV[2]) gen = tonumber(ARGV[2]) end
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {gen, old[1], old[2], old[3], old[4], old[5]}`;

// deno-fmt-ignore
const SAVE = `
local cur = redis.call('HMGET', KEYS[1], 'gen', 'owner')
if cur[1] ~= ARGV[2] or cur[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[3], 'len', ARGV[4], 'sum', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1`;

// deno-fmt-ignore
const TOUCH = `
local cur = redis.call('HMGET', KEYS[1], 'gen', 'owner')
if cur[1] ~= ARGV[2] or cur[2] ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

const decoder = new TextDecoder();
/** The client sends a `Buffer` as bytes; this one shares the array's memory. */
const bufferOf = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
const text = (reply: Reply | undefined): string | null =>
  reply instanceof Uint8Array ? decoder.decode(reply) : null;

/**
 * Connects to Redis at `url` and returns the store; fails with a clear message when the server
 * cannot be reached within `connectTimeoutMs`.
 *
 * @example
 * ```ts
 * import { openRedisStore } from "./redis_store.ts";
 * // const store = await openRedisStore("redis://127.0.0.1:6379", { ttlMs: 60_000 });
 * ```
 */
export async function openRedisStore(
  url: string,
  options: Partial<RedisStoreOptions> = {},
): Promise<SessionStore> {
  const { ttlMs, prefix, onError, connectTimeoutMs } = {
    ...DEFAULT_STORE_OPTIONS,
    onError: () => {},
    connectTimeoutMs: 5000,
    ...options,
  };
  const { createClient, RESP_TYPES } = await import("redis");
  const base = createClient({
    url,
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) },
  });
  // Without a listener, a connection error event would end the process.
  base.on("error", (error: unknown) => onError(error instanceof Error ? error.message : "error"));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      base.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis at ${url} did not answer within ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
      }),
    ]);
  } catch (error) {
    base.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const client = base.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as Client;
  const sessionKey = (sid: string) => `${prefix}:session:${sid}`;
  const valueKey = (namespace: string, key: string) =>
    `${prefix}:value:${JSON.stringify([namespace, key])}`;

  const record = async (
    gen: Reply | undefined,
    owner: Reply | undefined,
    data: Reply | undefined,
    len: Reply | undefined,
    sum: Reply | undefined,
  ): Promise<StoredSession | null> => {
    const generation = Number(text(gen));
    if (!Number.isFinite(generation) || text(gen) === null) return null;
    const stored = { generation, owner: text(owner) ?? "", snapshot: null };
    if (!(data instanceof Uint8Array)) return stored;
    const bytes = new Uint8Array(data);
    const corrupt = await checkSnapshot(bytes, Number(text(len)), text(sum) ?? "");
    return corrupt ? { ...stored, corrupt } : { ...stored, snapshot: bytes };
  };

  return {
    kind: "redis",
    async load(sid) {
      const reply = await client.sendCommand(
        ["HMGET", sessionKey(sid), "gen", "owner", "data", "len", "sum"],
      ) as Reply[];
      return await record(reply[0], reply[1], reply[2], reply[3], reply[4]);
    },
    async claim(sid, owner): Promise<Claim> {
      const reply = await client.eval(CLAIM, {
        keys: [sessionKey(sid)],
        arguments: [owner, String(firstGeneration()), String(ttlMs)],
      }) as Reply[];
      const generation = reply[0] as number;
      return {
        lease: { sid, owner, generation: Number(generation) },
        previous: await record(reply[1], reply[2], reply[3], reply[4], reply[5]),
      };
    },
    async save(lease, snapshot): Promise<WriteResult> {
      const reply = await client.eval(SAVE, {
        keys: [sessionKey(lease.sid)],
        arguments: [
          lease.owner,
          String(lease.generation),
          bufferOf(snapshot),
          String(snapshot.length),
          await digest(snapshot),
          String(ttlMs),
        ],
      });
      return reply === 1 ? "ok" : "lost";
    },
    async touch(lease): Promise<WriteResult> {
      const reply = await client.eval(TOUCH, {
        keys: [sessionKey(lease.sid)],
        arguments: [lease.owner, String(lease.generation), String(ttlMs)],
      });
      return reply === 1 ? "ok" : "lost";
    },
    async delete(sid) {
      await client.sendCommand(["DEL", sessionKey(sid)]);
    },
    async getValue(namespace, key) {
      const reply = await client.sendCommand(["GET", valueKey(namespace, key)]);
      return reply instanceof Uint8Array ? new Uint8Array(reply) : null;
    },
    async setValue(namespace, key, value) {
      if (value === null) {
        await client.sendCommand(["DEL", valueKey(namespace, key)]);
        return;
      }
      checkValueSize(value);
      await client.sendCommand(["SET", valueKey(namespace, key), bufferOf(value)]);
    },
    async close() {
      await base.close();
    },
  };
}
