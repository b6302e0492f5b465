/**
 * The process-wide memory ceiling (`--max-process-memory`): the process's resident memory is
 * measured every second and whenever a session is about to be made; above the ceiling, sessions
 * are shed, the largest first by their own memory account (what their Lua holds plus the client
 * values they keep), idle ones before connected ones of the same size, until their accounts
 * cover the excess; new sessions are refused until a measurement finds the process below the
 * ceiling again. Shedding is what the manager does with an idle session it evicts: saved to
 * the store first when there is one (so a reconnect resumes it), connections closed with a
 * reason, one log line.
 *
 * Freed memory shows in the resident size only after the collector has run, so after shedding
 * the ceiling waits {@link DEFAULT_CEILING_OPTIONS}`.settleMs` before it sheds again (new
 * sessions are refused meanwhile): one spike cannot empty the process.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { mergeOptions } from "../options.ts";

/** A session as the ceiling weighs it. */
export interface CeilingCandidate {
  sid: string;
  /** The session's memory account, in bytes. */
  bytes: number;
  /** Whether a client is connected to it. */
  connected: boolean;
}

/** Options of {@link createMemoryCeiling}. */
export interface MemoryCeilingOptions {
  /** The ceiling, in bytes of resident memory. */
  maxBytes: number;
  /** How often the process is measured, in milliseconds (0: only when sessions are made). */
  intervalMs: number;
  /** How long shedding waits for its memory to be collected before it sheds again, in ms. */
  settleMs: number;
  /** Measurements taken when sessions are made are at least this far apart, in ms. */
  admitEveryMs: number;
  /** The process's memory now, in bytes (resident set size). */
  measure: () => number;
}

/**
 * The default options of {@link createMemoryCeiling}: measured every second; the ceiling is
 * {@link defaultProcessMemory} (at most 1.5 GiB).
 */
export const DEFAULT_CEILING_OPTIONS: MemoryCeilingOptions = {
  maxBytes: 1536 * 1024 * 1024,
  intervalMs: 1000,
  settleMs: 3000,
  admitEveryMs: 100,
  measure: () => Deno.memoryUsage().rss,
};

/** Bytes of resident memory Deno Deploy gives one isolate. */
const DEPLOY_ISOLATE_BYTES = 512 * 1024 * 1024;

/**
 * The ceiling used when `--max-process-memory` is not given: on Deno Deploy (which stops an
 * isolate at 512 MiB) 400 MiB; elsewhere 1.5 GiB, or three quarters of the machine's memory
 * when that is less.
 *
 * @example
 * ```ts
 * import { defaultProcessMemory } from "./memory_ceiling.ts";
 * defaultProcessMemory(); // e.g. 1610612736 (1.5 GiB) on a machine with 8 GiB
 * ```
 */
export function defaultProcessMemory(): number {
  if (Deno.env.get("DENO_DEPLOYMENT_ID")) return Math.floor(DEPLOY_ISOLATE_BYTES * 0.78);
  let total = Infinity;
  try {
    total = Deno.systemMemoryInfo().total;
  } catch {
    // Not permitted here: the fixed default.
  }
  return Math.min(DEFAULT_CEILING_OPTIONS.maxBytes, Math.floor(total * 0.75));
}

/** A session table's entry, as the ceiling reads it (the session once it is ready). */
export interface CeilingEntry {
  sid: string;
  session: { readonly memoryBytes: number } | undefined;
  connections: { readonly connected: boolean };
}

/** What the ceiling asks of the session table. */
export interface CeilingHost {
  /** Every entry of the table. */
  entries(): Iterable<CeilingEntry>;
  /** Sheds a session: save it (with a store), close its connections, drop it. */
  shed(sid: string, why: string): void;
  log: Logger;
}

/** The process-wide memory ceiling; see the module comment. */
export interface MemoryCeiling {
  /** Measures (at most every `admitEveryMs`), sheds if needed; false: refuse new sessions. */
  admit(): boolean;
  /** Measures now and sheds if needed (the periodic check). */
  check(): void;
  /** Sessions shed so far. */
  readonly shed: number;
  /** Stops the periodic check. */
  stop(): void;
}

/**
 * Makes the ceiling of one session table; it measures from the first {@link MemoryCeiling.admit}
 * on (a session about to be made).
 *
 * @example
 * ```ts
 * import { createMemoryCeiling } from "./memory_ceiling.ts";
 * import { silentLogger } from "../log.ts";
 * const entry = { sid: "a", session: { memoryBytes: 1 << 20 }, connections: { connected: false } };
 * const ceiling = createMemoryCeiling({
 *   entries: () => [entry],
 *   shed: (sid, why) => console.log(`shed ${sid}: ${why}`),
 *   log: silentLogger,
 * }, { maxBytes: 512 * 1024 * 1024, intervalMs: 0 });
 * ceiling.admit(); // true while the process is below 512 MiB
 * ceiling.stop();
 * ```
 */
export function createMemoryCeiling(
  host: CeilingHost,
  options: Partial<MemoryCeilingOptions> = {},
): MemoryCeiling {
  const settings = mergeOptions(
    { ...DEFAULT_CEILING_OPTIONS, maxBytes: defaultProcessMemory() },
    options,
  );
  let over = false;
  let measuredAt = -Infinity;
  let shedAt = -Infinity;
  let shedCount = 0;

  const check = (): void => {
    const now = performance.now();
    measuredAt = now;
    const used = settings.measure();
    if (used <= settings.maxBytes) {
      over = false;
      return;
    }
    over = true;
    if (now - shedAt < settings.settleMs) return;
    const excess = used - settings.maxBytes;
    const heaviest = candidates(host.entries()).sort((a, b) =>
      b.bytes - a.bytes || Number(a.connected) - Number(b.connected)
    );
    if (heaviest.length === 0) return;
    // At most a quarter of the sessions per round (at least one): the accounts are estimates.
    const most = Math.max(1, Math.floor(heaviest.length / 4));
    let freed = 0;
    let count = 0;
    for (const candidate of heaviest) {
      if (count >= most || (count > 0 && freed >= excess)) break;
      freed += candidate.bytes;
      count++;
      host.shed(candidate.sid, "Server is low on memory");
    }
    shedAt = now;
    shedCount += count;
    host.log.warn(
      `Process memory ${mib(used)} MiB is over the ceiling of ${mib(settings.maxBytes)} MiB: ` +
        `shed ${count} session(s) holding about ${mib(freed)} MiB; new sessions refused until ` +
        "it is below",
    );
  };

  // The periodic check starts with the first session: before it there is nothing to shed, and
  // the first timer of a process loads Deno's timer layer (about 15 ms of a cold start).
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopped = false;
  const startTimer = () => {
    if (timer !== undefined || stopped || settings.intervalMs <= 0) return;
    const interval = setInterval(check, settings.intervalMs);
    Deno.unrefTimer(interval);
    timer = interval;
  };
  return {
    admit() {
      startTimer();
      if (performance.now() - measuredAt >= settings.admitEveryMs) check();
      return !over;
    },
    check,
    get shed() {
      return shedCount;
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
    },
  };
}

function candidates(entries: Iterable<CeilingEntry>): CeilingCandidate[] {
  const weighed: CeilingCandidate[] = [];
  for (const { sid, session, connections } of entries) {
    if (session) {
      weighed.push({ sid, bytes: session.memoryBytes, connected: connections.connected });
    }
  }
  return weighed;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
