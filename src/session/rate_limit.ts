/**
 * The rate limits of the session manager: frames and bytes per connection per second, and new
 * sessions per client address per minute.
 *
 * @module
 */

/**
 * A fixed one-second window counter: returns false once the window's budget is spent.
 *
 * @example
 * ```ts
 * import { createRateLimit } from "./rate_limit.ts";
 * const allow = createRateLimit(2);
 * [allow(), allow(), allow()]; // [true, true, false] within one second
 * ```
 */
export function createRateLimit(perSecond: number): () => boolean {
  let windowStart = 0;
  let count = 0;
  return () => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      count = 0;
    }
    return ++count <= perSecond;
  };
}

/**
 * A token bucket of bytes: `perSecond` refilled continuously, up to `burst`. Returns false (and
 * takes nothing) when `bytes` do not fit what is left, so a connection that sends large frames
 * faster than that has the excess dropped before it is parsed.
 *
 * @example
 * ```ts
 * import { createByteRate } from "./rate_limit.ts";
 * const allow = createByteRate(1000, 3000);
 * [allow(2000), allow(2000), allow(500)]; // [true, false, true] within a moment
 * ```
 */
export function createByteRate(
  perSecond: number,
  burst: number,
): (bytes: number, now?: number) => boolean {
  let tokens = burst;
  let at = Date.now();
  return (bytes, now = Date.now()) => {
    tokens = Math.min(burst, tokens + (now - at) * perSecond / 1000);
    at = now;
    if (bytes > tokens) return false;
    tokens -= bytes;
    return true;
  };
}

/**
 * Says whether an address may start one more session now.
 *
 * @example
 * ```ts
 * import type { AddressRateLimit } from "./rate_limit.ts";
 * const never: AddressRateLimit = () => false;
 * ```
 */
export type AddressRateLimit = (address: string, now?: number) => boolean;

/** Above this many addresses, full buckets are dropped. */
const PRUNE_ABOVE = 10_000;

/**
 * A bucket of `perMinute` tokens per address, refilled continuously, so an address may start
 * `perMinute` sessions at once and then one every `60 / perMinute` seconds. Full buckets are
 * dropped when the table grows, so a flood of addresses cannot keep the table itself large.
 *
 * @example
 * ```ts
 * import { createAddressRateLimit } from "./rate_limit.ts";
 * const allow = createAddressRateLimit(1);
 * allow("203.0.113.7"); // true
 * allow("203.0.113.7"); // false until a minute has passed
 * allow("198.51.100.2"); // true: another address
 * ```
 */
export function createAddressRateLimit(perMinute: number): AddressRateLimit {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refill = (bucket: { tokens: number; at: number }, now: number) => {
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMinute / 60_000);
    bucket.at = now;
  };
  return (address, now = Date.now()) => {
    if (buckets.size > PRUNE_ABOVE) {
      for (const [key, bucket] of buckets) {
        refill(bucket, now);
        if (bucket.tokens >= perMinute) buckets.delete(key);
      }
    }
    let bucket = buckets.get(address);
    if (!bucket) buckets.set(address, bucket = { tokens: perMinute, at: now });
    refill(bucket, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  };
}
