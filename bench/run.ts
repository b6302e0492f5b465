/**
 * The benchmark harness (`deno task bench`, or `deno task bench --quick`): click round trip,
 * session cost, change detection, cold start and a load test, each beside a baseline measured
 * in the same run. Prints one table and writes `bench/RESULTS.md`.
 *
 * Every measurement runs in processes of its own: the server and the load clients on
 * loopback, the in-process measurements (session cost, change detection) in fresh processes
 * with an exposed collector.
 *
 * Also the figures of sessions kept in a store (`store_figures.ts`): snapshot size and time,
 * restore time, and several processes on one port and one redis-server against one.
 *
 * Options: `--quick` (a shorter run, about a minute), `--out FILE` (default `bench/RESULTS.md`
 * for the full run and `bench/RESULTS.quick.md` for a quick one, so that a quick run never
 * replaces the committed full one), `--no-write` (print only).
 *
 * @module
 */
import { Child } from "./child.ts";
import type { ClientConfig, ClientResult } from "./load_client.ts";
import type { SessionCostResult } from "./session_cost.ts";
import type { DetectionFigure } from "./change_detection.ts";
import { summarize, type Summary } from "./stats.ts";
import {
  measureProcesses,
  measureSnapshots,
  type ProcessFigures,
  type SnapshotFigures,
  storeDetails,
  storeRows,
} from "./store_figures.ts";
import { type FairnessResult, measureFairness } from "./fairness.ts";
import { LOAD_FLAGS } from "./server.ts";

/** How big and how long each part of a run is. */
export interface Plan {
  name: "full" | "quick";
  roundTrip: { sessions: number; durationMs: number; thinkMs: number }[];
  saturation: { sessions: number; durationMs: number };
  newSessions: { durationMs: number; concurrency: number };
  sessionCost: number;
  detection: { sizes: number[]; reps: number; largeReps: number };
  coldStarts: number;
  load: { sessions: number; durationMs: number; thinkMs: number; timeoutMs: number };
  /** Repetitions of each snapshot measurement. */
  snapshotRuns: number;
  /** Back-to-back clicks through one port: one process, then `processes`. */
  processes: { processes: number; sessions: number; durationMs: number };
}

/** The full run: about three minutes on two cores. */
export const FULL_PLAN: Plan = {
  name: "full",
  roundTrip: [
    { sessions: 1, durationMs: 2000, thinkMs: 0 },
    { sessions: 100, durationMs: 4000, thinkMs: 500 },
    { sessions: 1000, durationMs: 6000, thinkMs: 1000 },
  ],
  saturation: { sessions: 100, durationMs: 2000 },
  newSessions: { durationMs: 2000, concurrency: 4 },
  sessionCost: 1000,
  detection: { sizes: [1000, 10_000, 100_000], reps: 15, largeReps: 5 },
  coldStarts: 5,
  load: { sessions: 1000, durationMs: 60_000, thinkMs: 500, timeoutMs: 2000 },
  snapshotRuns: 20,
  processes: { processes: 2, sessions: 100, durationMs: 4000 },
};

/** The quick run: about thirty seconds. */
export const QUICK_PLAN: Plan = {
  name: "quick",
  roundTrip: [
    { sessions: 1, durationMs: 700, thinkMs: 0 },
    { sessions: 100, durationMs: 1200, thinkMs: 300 },
    { sessions: 1000, durationMs: 2000, thinkMs: 1000 },
  ],
  saturation: { sessions: 100, durationMs: 600 },
  newSessions: { durationMs: 600, concurrency: 4 },
  sessionCost: 200,
  detection: { sizes: [1000, 10_000], reps: 11, largeReps: 1 },
  coldStarts: 2,
  load: { sessions: 100, durationMs: 6000, thinkMs: 200, timeoutMs: 1000 },
  snapshotRuns: 3,
  processes: { processes: 2, sessions: 100, durationMs: 1500 },
};

const SITE = "bench/site";
const KIB = 1024;
const MIB = 1024 * 1024;

/** One row of the summary table. */
export interface Row {
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  /** `PASS`, `MISS` or empty when the figure has no target. */
  result: "PASS" | "MISS" | "";
}

interface ServerMemory {
  heapUsed: number;
  rss: number;
  sessions: number;
  connections: number;
}

/** Everything measured in one run, for the report. */
export interface Results {
  plan: Plan;
  roundTrip: { sessions: number; server: ClientResult; echo: ClientResult }[];
  saturation: { server: ClientResult; echo: ClientResult };
  newSessions: { server: ClientResult; echo: ClientResult };
  sessionCost: { session: SessionCostResult; bare: SessionCostResult };
  detection: DetectionFigure[];
  coldStart: { server: Summary; baseline: Summary };
  load: {
    client: ClientResult;
    before: ServerMemory;
    idle: ServerMemory;
    after: ServerMemory;
    expiredMs: number;
  };
  snapshots: SnapshotFigures;
  processes: ProcessFigures;
  /** Click latency in one session, idle and while another runs 250 ms actions. */
  fairness?: FairnessResult;
}

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const times = (value: number) => `${value.toFixed(2)}x`;
const kib = (bytes: number) => `${(bytes / KIB).toFixed(0)} KiB`;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;
const count = (value: number) => Math.round(value).toLocaleString("en-US");
const pass = (ok: boolean): "PASS" | "MISS" => ok ? "PASS" : "MISS";

const runStarted = performance.now();

function log(message: string): void {
  const at = ((performance.now() - runStarted) / 1000).toFixed(1).padStart(5);
  console.error(`[bench ${at} s] ${message}`);
}

// ---- Processes ------------------------------------------------------------------------------

async function startServer(extra: string[]): Promise<{ child: Child; port: number }> {
  const child = Child.spawn("bench/server.ts", [
    "--dir",
    SITE,
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    ...LOAD_FLAGS,
    ...extra,
  ], {
    stdin: true,
    flags: ["--allow-net", "--allow-read", "--allow-env", "--v8-flags=--expose-gc"],
  });
  const { port } = await child.json<{ port: number }>((v) => typeof v.port === "number");
  return { child, port };
}

async function startEcho(): Promise<{ child: Child; port: number }> {
  const child = Child.spawn("bench/echo_server.ts", [], { stdin: true, flags: ["--allow-net"] });
  const { port } = await child.json<{ port: number }>((v) => typeof v.port === "number");
  return { child, port };
}

async function memoryOf(server: Child): Promise<ServerMemory> {
  await server.send("mem");
  return await server.json<ServerMemory>((v) => typeof v.heapUsed === "number");
}

function reportClient(config: ClientConfig, result: ClientResult): ClientResult {
  log(
    `  ${config.target} ${config.mode}: ${result.sessions} sessions set up in ${
      ms(result.setupMs)
    }, ${result.actions} actions`,
  );
  return result;
}

/** Runs one configuration in a load process of its own (needed for `holdOpen`). */
async function runClient(config: ClientConfig, onEvent?: (event: string) => Promise<void>) {
  const child = Child.spawn("bench/load_client.ts", [JSON.stringify(config)], {
    stdin: config.holdOpen ?? false,
    flags: ["--allow-net"],
  });
  try {
    const limit = config.durationMs + 120_000;
    while (true) {
      const line = await child.json<{ event: string }>((v) => typeof v.event === "string", limit);
      if (line.event === "result") return reportClient(config, line as unknown as ClientResult);
      await onEvent?.(line.event);
      if (line.event === "idle") await child.send("close");
    }
  } finally {
    await child.stop();
  }
}

/** A load process kept for several configurations, one after another. */
class LoadProcess {
  readonly #child = Child.spawn("bench/load_client.ts", ["--serve"], {
    stdin: true,
    flags: ["--allow-net"],
  });

  /** Runs one configuration and returns its result. */
  async run(config: ClientConfig): Promise<ClientResult> {
    await this.#child.send(JSON.stringify(config));
    const result = await this.#child.json<ClientResult>(
      (v) => v.event === "result",
      config.durationMs + 120_000,
    );
    return reportClient(config, result);
  }

  /** Ends the process. */
  stop(): Promise<void> {
    return this.#child.stop();
  }
}

// ---- The measurements -----------------------------------------------------------------------

/** Click round trips, throughput and new sessions over WebSockets, server and echo. */
export async function measureRoundTrips(
  plan: Plan,
): Promise<Pick<Results, "roundTrip" | "saturation" | "newSessions">> {
  const server = await startServer(["--session-timeout", "1s"]);
  const echo = await startEcho();
  const clients = new LoadProcess();
  log("servers up");
  try {
    const url = (port: number) => `ws://127.0.0.1:${port}/ws/`;
    const both = async (config: Omit<ClientConfig, "url" | "target">) => ({
      server: await clients.run({ ...config, url: url(server.port), target: "server" }),
      echo: await clients.run({ ...config, url: url(echo.port), target: "echo" }),
    });
    // A short warm-up, so that the first figures do not include compilation.
    await both({ mode: "roundtrip", sessions: 10, durationMs: 300, thinkMs: 0 });
    const roundTrip = [];
    for (const step of plan.roundTrip) {
      log(`click round trip, ${step.sessions} session(s)`);
      const pair = await both({ mode: "roundtrip", ...step, rampConcurrency: 32 });
      roundTrip.push({ sessions: step.sessions, ...pair });
    }
    log("throughput, back to back");
    const saturation = await both({
      mode: "roundtrip",
      sessions: plan.saturation.sessions,
      durationMs: plan.saturation.durationMs,
      thinkMs: 0,
    });
    log("new sessions over WebSockets");
    const newSessions = await both({
      mode: "sessions",
      sessions: 0,
      durationMs: plan.newSessions.durationMs,
      thinkMs: 0,
      concurrency: plan.newSessions.concurrency,
    });
    return { roundTrip, saturation, newSessions };
  } finally {
    await clients.stop();
    await server.child.stop();
    await echo.child.stop();
  }
}

/** Session cost in-process: the server's sessions and bare fengari states. */
export async function measureSessionCost(plan: Plan): Promise<Results["sessionCost"]> {
  const run = async (kind: "session" | "bare") => {
    log(`session cost: ${kind}`);
    const child = Child.spawn("bench/session_cost.ts", [kind, String(plan.sessionCost), SITE], {
      flags: ["--allow-read", "--allow-env", "--v8-flags=--expose-gc"],
    });
    try {
      return await child.json<SessionCostResult>((v) => v.kind === kind, 120_000);
    } finally {
      await child.stop();
    }
  };
  return { session: await run("session"), bare: await run("bare") };
}

/** Change detection at each size, in a fresh process per size. */
export async function measureDetection(plan: Plan): Promise<DetectionFigure[]> {
  const figures: DetectionFigure[] = [];
  for (const size of plan.detection.sizes) {
    log(`change detection, ${count(size)} variables`);
    const reps = size >= 100_000 ? plan.detection.largeReps : plan.detection.reps;
    const child = Child.spawn("bench/change_detection.ts", [SITE, String(reps), String(size)], {
      flags: ["--allow-read", "--allow-env", "--v8-flags=--expose-gc"],
    });
    try {
      const line = await child.line(180_000);
      if (line === undefined) throw new Error(`Change detection failed\n${child.stderrTail()}`);
      figures.push(...JSON.parse(line) as DetectionFigure[]);
    } finally {
      await child.stop();
    }
  }
  return figures;
}

/** Time from spawning a process to its first answered `/healthz`. */
async function coldStart(script: string, args: string[]): Promise<number> {
  const start = performance.now();
  const child = Child.spawn(script, args, {
    flags: ["--allow-net", "--allow-read", "--allow-env"],
  });
  try {
    while (true) {
      const line = await child.line(30_000);
      if (line === undefined) throw new Error(`${script} exited\n${child.stderrTail()}`);
      const match = /Serving .*on http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (!match) continue;
      const response = await fetch(`http://127.0.0.1:${match[1]}/healthz`);
      await response.body?.cancel();
      if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
      return performance.now() - start;
    }
  } finally {
    await child.stop();
  }
}

/** Cold start of the server and of a bare `Deno.serve`, alternately. */
export async function measureColdStart(plan: Plan): Promise<Results["coldStart"]> {
  log("cold start");
  const server = () => coldStart("main.ts", ["--port", "0", "--host", "127.0.0.1"]);
  const hello = () => coldStart("bench/hello_server.ts", []);
  // One unmeasured start of each warms the module cache and the file system.
  await server();
  await hello();
  const serverTimes: number[] = [];
  const baselineTimes: number[] = [];
  for (let i = 0; i < plan.coldStarts; i++) {
    serverTimes.push(await server());
    baselineTimes.push(await hello());
  }
  return { server: summarize(serverTimes), baseline: summarize(baselineTimes) };
}

/** The load test, with the server's memory before, during and after. */
export async function measureLoad(plan: Plan): Promise<Results["load"]> {
  const timeout = `${plan.load.timeoutMs}ms`;
  const server = await startServer(["--session-timeout", timeout]);
  try {
    const url = `ws://127.0.0.1:${server.port}/ws/`;
    log("load test: warm-up");
    await runClient({
      mode: "load",
      url,
      target: "server",
      sessions: 20,
      durationMs: 500,
      thinkMs: 10,
    });
    await waitForNoSessions(server.child, plan.load.timeoutMs);
    const before = await memoryOf(server.child);
    log(`load test: ${plan.load.sessions} sessions for ${plan.load.durationMs / 1000} s`);
    let idle: ServerMemory | undefined;
    const client = await runClient({
      mode: "load",
      url,
      target: "server",
      sessions: plan.load.sessions,
      durationMs: plan.load.durationMs,
      thinkMs: plan.load.thinkMs,
      rampConcurrency: 32,
      holdOpen: true,
    }, async (event) => {
      if (event === "idle") idle = await memoryOf(server.child);
    });
    const closedAt = performance.now();
    const after = await waitForNoSessions(server.child, plan.load.timeoutMs);
    const expiredMs = performance.now() - closedAt;
    if (!idle) throw new Error("The load client never reported its sessions idle");
    return { client, before, idle, after, expiredMs };
  } finally {
    await server.child.stop();
  }
}

/** Polls the server until every session has expired; returns its memory then. */
async function waitForNoSessions(server: Child, timeoutMs: number): Promise<ServerMemory> {
  const deadline = performance.now() + timeoutMs + 30_000;
  while (true) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, timeoutMs)));
    const memory = await memoryOf(server);
    // The count is read after the collection, which may have run before the last sessions
    // expired: measure once more, now that there is nothing left to free.
    if (memory.sessions === 0 && memory.connections === 0) return await memoryOf(server);
    if (performance.now() > deadline) {
      throw new Error(`${memory.sessions} sessions still live long after their timeout`);
    }
  }
}

function perVariable(figure: DetectionFigure): number {
  return figure.micros / figure.variables;
}

// ---- Report ---------------------------------------------------------------------------------

/** The summary rows, each figure against its baseline and target. */
export function summaryRows(results: Results): Row[] {
  const rows: Row[] = [];
  for (const { sessions, server, echo } of results.roundTrip) {
    // Issue 16's targets, at the largest number of sessions: p50 within 1.3x echo, p99 within
    // 2x echo + 1 ms.
    const p99Limit = 2 * echo.latency.p99 + 1;
    const targeted = sessions === results.roundTrip[results.roundTrip.length - 1]?.sessions;
    rows.push({
      figure: `Click round trip p50, ${count(sessions)} session${sessions === 1 ? "" : "s"}`,
      value: ms(server.latency.p50),
      baseline: `${ms(echo.latency.p50)} echo`,
      ratio: times(server.latency.p50 / echo.latency.p50),
      target: targeted ? "<= 1.3x echo" : "",
      result: targeted ? pass(server.latency.p50 <= 1.3 * echo.latency.p50) : "",
    });
    rows.push({
      figure: `Click round trip p99, ${count(sessions)} session${sessions === 1 ? "" : "s"}`,
      value: ms(server.latency.p99),
      baseline: `${ms(echo.latency.p99)} echo`,
      ratio: times(server.latency.p99 / echo.latency.p99),
      target: targeted ? `<= 2x echo + 1 ms (${ms(p99Limit)})` : "",
      result: targeted ? pass(server.latency.p99 <= p99Limit) : "",
    });
  }
  const { saturation, newSessions, sessionCost } = results;
  rows.push({
    figure: `Clicks per second, ${saturation.server.sessions} sessions back to back`,
    value: count(saturation.server.rate),
    baseline: `${count(saturation.echo.rate)} echo`,
    ratio: times(saturation.server.rate / saturation.echo.rate),
    target: ">= 0.9x echo",
    result: pass(saturation.server.rate >= 0.9 * saturation.echo.rate),
  });
  const created = sessionCost.session.create.p50;
  const bare = sessionCost.bare.create.p50;
  rows.push({
    figure: "New session to first answer of watch 1 (p50, in-process)",
    value: ms(created),
    baseline: `${ms(bare)} bare fengari`,
    ratio: times(created / bare),
    target: "<= 1.5x bare",
    result: pass(created <= 1.5 * bare),
  });
  rows.push({
    figure: "Sessions created per second (in-process)",
    value: count(sessionCost.session.perSecond),
    baseline: `${count(sessionCost.bare.perSecond)} bare`,
    ratio: times(sessionCost.session.perSecond / sessionCost.bare.perSecond),
    target: "",
    result: "",
  });
  rows.push({
    figure: "New session over a WebSocket (p50) / sessions per second",
    value: `${ms(newSessions.server.latency.p50)} / ${count(newSessions.server.rate)}`,
    baseline: `${ms(newSessions.echo.latency.p50)} / ${count(newSessions.echo.rate)} echo`,
    ratio: times(newSessions.server.latency.p50 / newSessions.echo.latency.p50),
    target: "<= 2x echo",
    result: pass(newSessions.server.latency.p50 <= 2 * newSessions.echo.latency.p50),
  });
  rows.push({
    figure: "Heap per idle session",
    value: kib(sessionCost.session.heapPerSession),
    baseline: `${kib(sessionCost.bare.heapPerSession)} bare`,
    ratio: times(sessionCost.session.heapPerSession / sessionCost.bare.heapPerSession),
    target: "<= 64 KiB",
    result: pass(sessionCost.session.heapPerSession <= 64 * KIB),
  });
  rows.push({
    figure: "RSS per idle session",
    value: kib(sessionCost.session.rssPerSession),
    baseline: `${kib(sessionCost.bare.rssPerSession)} bare`,
    ratio: times(sessionCost.session.rssPerSession / sessionCost.bare.rssPerSession),
    target: "",
    result: "",
  });
  const idleGrowth = results.load.idle.heapUsed - results.load.before.heapUsed;
  rows.push({
    figure: "Heap per idle session, server process with sockets",
    value: kib(idleGrowth / results.load.client.sessions),
    baseline: "",
    ratio: "",
    target: "",
    result: "",
  });
  for (const scenario of ["none", "one", "all"] as const) {
    for (const figure of results.detection.filter((f) => f.scenario === scenario)) {
      const isTarget = scenario === "none" && figure.variables === 10_000;
      rows.push({
        figure: `Change detection, ${count(figure.variables)} variables, ${
          { none: "nothing", one: "one", all: "all" }[scenario]
        } changed`,
        value: `${ms(figure.micros / 1000)} (${
          (figure.micros / figure.variables).toFixed(2)
        } us/var)`,
        baseline: `${ms(figure.naiveMicros / 1000)} naive`,
        ratio: times(figure.micros / figure.naiveMicros),
        target: isTarget ? "<= 2 ms" : "",
        result: isTarget ? pass(figure.micros <= 2000) : "",
      });
    }
  }
  // Linear growth: the per-variable cost of the largest tree against the smallest (1,000 to
  // 100,000 in a full run, to 10,000 in a quick one), cache misses included.
  const unchanged = results.detection.filter((f) => f.scenario === "none");
  const largest = unchanged[unchanged.length - 1];
  const reference = unchanged[0];
  if (largest && reference) {
    const growth = perVariable(largest) / perVariable(reference);
    rows.push({
      figure: `Per-variable cost, ${count(largest.variables)} vs ${
        count(reference.variables)
      } variables (nothing changed)`,
      value: times(growth),
      baseline: "1.00x is linear",
      ratio: "",
      target: "<= 1.5x (linear)",
      result: pass(largest !== reference && growth <= 1.5),
    });
  }
  const { coldStart } = results;
  rows.push({
    figure: "Cold start to first /healthz (mean)",
    value: ms(coldStart.server.mean),
    baseline: `${ms(coldStart.baseline.mean)} bare Deno.serve`,
    ratio: times(coldStart.server.mean / coldStart.baseline.mean),
    target: "<= 1.5x bare",
    result: pass(coldStart.server.mean <= 1.5 * coldStart.baseline.mean),
  });
  const { client, before, idle, after } = results.load;
  const problems = client.errors + client.mismatches + client.timeouts + client.finalMismatches;
  rows.push({
    figure: `Load test: ${count(client.sessions)} sessions, ${count(client.actions)} actions`,
    value: `${problems} errors`,
    baseline: `${count(client.verified)} sessions verified`,
    ratio: "",
    target: "0 errors, every session verified",
    result: pass(problems === 0 && client.verified === client.sessions),
  });
  const returned =
    after.heapUsed <= before.heapUsed + Math.max(2 * MIB, 0.1 * (idle.heapUsed - before.heapUsed));
  rows.push({
    figure: "Load test: server heap after the sessions closed",
    value: mib(after.heapUsed),
    baseline: `${mib(before.heapUsed)} before, ${mib(idle.heapUsed)} loaded`,
    ratio: "",
    target: "back to before (+ max(2 MiB, 10% of the load))",
    result: pass(returned && after.sessions === 0),
  });
  rows.push(...storeRows(results.snapshots, results.processes));
  if (results.fairness) {
    const { idle, busy } = results.fairness;
    const target = 2 * idle.p99 + 5;
    rows.push({
      figure: "Fairness: click p50/p99 while another session runs 250 ms actions",
      value: `${ms(busy.p50)} / ${ms(busy.p99)}`,
      baseline: `${ms(idle.p50)} / ${ms(idle.p99)} idle`,
      ratio: times(busy.p99 / idle.p99),
      target: "p99 <= 2x idle + 5 ms",
      result: pass(busy.p99 <= target),
    });
  }
  return rows;
}

/** The rows as an aligned text table. */
export function textTable(rows: Row[]): string {
  const header: Row = {
    figure: "Figure",
    value: "Measured",
    baseline: "Baseline",
    ratio: "Ratio",
    target: "Target",
    result: "" as const,
  };
  const keys = ["figure", "value", "baseline", "ratio", "target", "result"] as const;
  const all = [header, ...rows];
  const widths = keys.map((key) => Math.max(...all.map((row) => row[key].length)));
  const format = (row: Row) => keys.map((key, i) => row[key].padEnd(widths[i] ?? 0)).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [format(header), rule, ...rows.map(format)].join("\n");
}

function markdownTable(rows: Row[]): string {
  const lines = [
    "| Figure | Measured | Baseline | Ratio | Target | Result |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.figure} | ${row.value} | ${row.baseline} | ${row.ratio} | ${row.target} | ${row.result} |`,
    );
  }
  return lines.join("\n");
}

async function machine(): Promise<Record<string, string>> {
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /model name\s*:\s*(.+)/.exec(info)?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux.
  }
  const memory = Deno.systemMemoryInfo();
  return {
    commit: await commit(),
    cores: String(navigator.hardwareConcurrency),
    memory: `${(memory.total / (1024 * MIB)).toFixed(1)} GiB`,
    cpu,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

/** The checked-out commit, and whether the working tree differs from it. */
async function commit(): Promise<string> {
  const git = async (...args: string[]) => {
    const output = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" })
      .output();
    return output.success ? new TextDecoder().decode(output.stdout).trim() : undefined;
  };
  try {
    const head = await git("rev-parse", "--short", "HEAD");
    if (head === undefined) return "unknown";
    const changes = await git("status", "--porcelain", "--untracked-files=no");
    return changes ? `${head} with uncommitted changes` : head;
  } catch {
    return "unknown";
  }
}

function detailSections(results: Results): string {
  const out: string[] = [];
  out.push("### Click round trip (WebSocket, loopback, separate server and load processes)", "");
  out.push("| Sessions | Think time | Clicks | Server p50 | Server p99 | Echo p50 | Echo p99 |");
  out.push("|---|---|---|---|---|---|---|");
  for (const { sessions, server, echo } of results.roundTrip) {
    const plan = results.plan.roundTrip.find((step) => step.sessions === sessions);
    out.push(
      `| ${count(sessions)} | ${plan?.thinkMs ? `0-${2 * plan.thinkMs} ms` : "none"} | ${
        count(server.actions)
      } | ${ms(server.latency.p50)} | ${ms(server.latency.p99)} | ${ms(echo.latency.p50)} | ${
        ms(echo.latency.p99)
      } |`,
    );
  }
  const { saturation } = results;
  out.push(
    "",
    `Back to back (${saturation.server.sessions} sessions, no pause): server ${
      count(saturation.server.rate)
    } clicks/s (p50 ${ms(saturation.server.latency.p50)}), echo ${
      count(saturation.echo.rate)
    } frames/s (p50 ${ms(saturation.echo.latency.p50)}).`,
    "",
  );
  const { session, bare } = results.sessionCost;
  out.push("### Session cost (in-process, after a forced collection)", "");
  out.push("| | Sessions | p50 | p99 | Per second | Heap each | RSS each |");
  out.push("|---|---|---|---|---|---|---|");
  for (
    const [name, r] of [["Session (manager, watch 1 answered)", session], [
      "Bare fengari + main.lua",
      bare,
    ]] as const
  ) {
    out.push(
      `| ${name} | ${count(r.count)} | ${ms(r.create.p50)} | ${ms(r.create.p99)} | ${
        count(r.perSecond)
      } | ${kib(r.heapPerSession)} | ${kib(r.rssPerSession)} |`,
    );
  }
  out.push("", "### Change detection (one `afterBatch`, median)", "");
  out.push(
    "| Variables | Changed | Updates | Time | Per variable | Naive | Naive per variable | Speed-up |",
  );
  out.push("|---|---|---|---|---|---|---|---|");
  for (const f of results.detection) {
    out.push(
      `| ${count(f.variables)} | ${f.scenario} | ${count(f.updates)} | ${ms(f.micros / 1000)} | ${
        (f.micros / f.variables).toFixed(2)
      } us | ${ms(f.naiveMicros / 1000)} | ${(f.naiveMicros / f.variables).toFixed(2)} us | ${
        (f.naiveMicros / f.micros).toFixed(1)
      }x |`,
    );
  }
  const unchanged = results.detection.filter((f) => f.scenario === "none");
  const [smallest, , largest] = unchanged;
  if (smallest && largest) {
    out.push(
      "",
      `Per-variable cost with nothing changed, largest tree against the smallest: ${
        times(perVariable(largest) / perVariable(smallest))
      } (the linear check in the summary compares the two largest trees).`,
    );
  }
  const { coldStart } = results;
  out.push("", "### Cold start (process start to first /healthz)", "");
  out.push(
    `Session server: mean ${ms(coldStart.server.mean)}, min ${ms(coldStart.server.min)}, max ${
      ms(coldStart.server.max)
    } over ${coldStart.server.count} starts. Bare Deno.serve: mean ${ms(coldStart.baseline.mean)}.`,
  );
  const { client, before, idle, after, expiredMs } = results.load;
  out.push("", "### Load test", "");
  out.push(
    `- ${count(client.sessions)} sessions for ${
      results.plan.load.durationMs / 1000
    } s, each clicking or typing at random (pause 0-${2 * results.plan.load.thinkMs} ms): ${
      count(client.actions)
    } actions (${count(client.clicks)} clicks, ${count(client.types)} keystrokes), ${
      count(client.rate)
    } per second.`,
    `- Action to observed effect: p50 ${ms(client.latency.p50)}, p99 ${ms(client.latency.p99)}.`,
    `- Errors ${client.errors}, wrong values ${client.mismatches}, lost actions ${client.timeouts}, wrong final state ${client.finalMismatches}; sessions whose counter and text were read back and matched: ${
      count(client.verified)
    } of ${count(client.sessions)}; writes echoed to their writer: ${client.echoes}.`,
    `- Server heap (after a forced collection): ${mib(before.heapUsed)} before, ${
      mib(idle.heapUsed)
    } with the sessions open and idle, ${mib(after.heapUsed)} after they closed and expired (${
      (expiredMs / 1000).toFixed(1)
    } s after closing). RSS: ${mib(before.rss)}, ${mib(idle.rss)}, ${mib(after.rss)}.`,
  );
  if (client.samples.length > 0) {
    out.push("", "Problems seen:", "", ...client.samples.map((s) => `- ${s}`));
  }
  return out.join("\n");
}

/** The whole RESULTS.md text. */
export function markdownReport(
  results: Results,
  rows: Row[],
  info: Record<string, string>,
  started: Date,
  load: { start: number[]; end: number[] },
  elapsedMs: number,
): string {
  const loadText = (values: number[]) => values.map((v) => v.toFixed(2)).join(" ");
  return [
    "# Benchmark results",
    "",
    `Run: \`deno task bench${
      results.plan.name === "quick" ? " --quick" : ""
    }\` on ${started.toISOString()}, ${(elapsedMs / 1000).toFixed(0)} s.`,
    "",
    `Code: ${info.commit}.`,
    "",
    `Machine: ${info.cores} cores (${info.cpu}), ${info.memory} memory, ${info.os}; Deno ${info.deno}, V8 ${info.v8}. ` +
    `Load average at start ${loadText(load.start)}, at end ${loadText(load.end)}.`,
    "",
    "How each figure is measured, and what it means: the Benchmarks section of the README.",
    "",
    markdownTable(rows),
    "",
    detailSections(results),
    "",
    storeDetails(results.snapshots, results.processes),
    "",
  ].join("\n");
}

// ---- Main -----------------------------------------------------------------------------------

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const outAt = Deno.args.indexOf("--out");
  const defaultOut = quick ? "bench/RESULTS.quick.md" : "bench/RESULTS.md";
  const out = outAt >= 0 ? Deno.args[outAt + 1] ?? defaultOut : defaultOut;
  const plan = quick ? QUICK_PLAN : FULL_PLAN;
  const started = new Date();
  const t0 = performance.now();
  const loadStart = Deno.loadavg();
  log(`${plan.name} run`);
  const coldStartResult = await measureColdStart(plan);
  const sessionCost = await measureSessionCost(plan);
  const detection = await measureDetection(plan);
  const trips = await measureRoundTrips(plan);
  const load = await measureLoad(plan);
  log(`snapshots (${plan.snapshotRuns} runs)`);
  const snapshots = await measureSnapshots(plan.snapshotRuns);
  const processes = await measureProcesses(plan.processes, log);
  log("fairness");
  const fairness = await measureFairness(plan.name === "quick" ? 100 : 300);
  const results: Results = {
    plan,
    ...trips,
    sessionCost,
    detection,
    coldStart: coldStartResult,
    load,
    snapshots,
    processes,
    fairness,
  };
  const rows = summaryRows(results);
  const elapsed = performance.now() - t0;
  console.log(textTable(rows));
  if (!Deno.args.includes("--no-write")) {
    const report = markdownReport(
      results,
      rows,
      await machine(),
      started,
      { start: loadStart, end: Deno.loadavg() },
      elapsed,
    );
    await Deno.writeTextFile(out, report);
    // Formatted as `deno fmt` would, so that the repository's format check stays clean.
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", out], stdout: "null" })
      .output();
    log(`wrote ${out} (${(elapsed / 1000).toFixed(0)} s)`);
  }
  Deno.exit(0);
}
