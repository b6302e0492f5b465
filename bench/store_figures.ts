/**
 * The benchmark figures of sessions kept in a store: snapshot size and time for the default
 * app's session, restore time against a new session (both from `bench/snapshot.ts`, in a
 * process of its own), and the throughput of several server processes behind one port
 * (`--reuse-port`) on one redis-server against one process on the same store.
 *
 * @module
 */
import { Child } from "./child.ts";
import type { ClientConfig, ClientResult } from "./load_client.ts";
import { LOAD_FLAGS } from "./server.ts";
// A type only: run.ts, which runs the bench, is not loaded by this import.
import type { Row } from "./run.ts";

/** What `bench/snapshot.ts` prints for the default app's session. */
export interface SessionSnapshotFigure {
  case: "default app session";
  bytes: number;
  saveMs: number;
  newSessionMs: number;
  restoredSessionMs: number;
}

/** What `bench/snapshot.ts` prints for a graph of many tables. */
export interface GraphSnapshotFigure {
  case: string;
  bytes: number;
  tables: number;
  encodeMs: number;
  decodeMs: number;
}

/** Both snapshot figures. */
export interface SnapshotFigures {
  runs: number;
  session: SessionSnapshotFigure;
  graph: GraphSnapshotFigure;
}

/** Back-to-back clicks through one port: one process, then `processes` of them. */
export interface ProcessFigures {
  store: string;
  processes: number;
  sessions: number;
  one: { rate: number; p50: number; errors: number };
  many: { rate: number; p50: number; errors: number; sessionsPerProcess: number[] };
}

/** Runs `bench/snapshot.ts` with `runs` repetitions and reads its two lines. */
export async function measureSnapshots(runs: number): Promise<SnapshotFigures> {
  const child = Child.spawn("bench/snapshot.ts", [String(runs)], {
    flags: ["--allow-read", "--allow-env"],
  });
  try {
    const session = await child.json<SessionSnapshotFigure>(
      (v) => v.case === "default app session",
      180_000,
    );
    const graph = await child.json<GraphSnapshotFigure>(
      (v) => typeof v.tables === "number",
      600_000,
    );
    return { runs, session, graph };
  } finally {
    await child.stop();
  }
}

/** A redis-server of the bench's own on a free port, without persistence. */
async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { url: `redis://127.0.0.1:${port}`, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await stop();
  throw new Error(`redis-server did not start on port ${port}`);
}

/** Starts `count` server processes on one port (the first picks it) and one store. */
async function startServers(
  count: number,
  store: string,
): Promise<{ port: number; children: Child[] }> {
  const children: Child[] = [];
  let port = 0;
  try {
    for (let i = 0; i < count; i++) {
      const child = Child.spawn("bench/server.ts", [
        "--dir",
        "bench/site",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        ...LOAD_FLAGS,
        "--secret",
        "a bench secret shared by every process",
        "--session-store",
        store,
        ...(count > 1 ? ["--reuse-port"] : []),
      ], {
        stdin: true,
        flags: [
          "--allow-net",
          "--allow-read",
          "--allow-env",
          "--unstable-net",
          "--v8-flags=--expose-gc",
        ],
      });
      children.push(child);
      ({ port } = await child.json<{ port: number }>((v) => typeof v.port === "number"));
    }
  } catch (error) {
    await Promise.all(children.map((child) => child.stop()));
    throw error;
  }
  return { port, children };
}

/** Runs `clients` load processes at once, each with its share of the sessions; sums them. */
async function clickTogether(
  port: number,
  sessions: number,
  clients: number,
  durationMs: number,
): Promise<{ rate: number; p50: number; errors: number }> {
  const results = await Promise.all(Array.from({ length: clients }, async () => {
    const config: ClientConfig = {
      mode: "roundtrip",
      url: `ws://127.0.0.1:${port}/ws/`,
      target: "server",
      sessions: Math.round(sessions / clients),
      durationMs,
      thinkMs: 0,
      rampConcurrency: 16,
    };
    const child = Child.spawn("bench/load_client.ts", [JSON.stringify(config)], {
      flags: ["--allow-net"],
    });
    try {
      return await child.json<ClientResult>((v) => v.event === "result", durationMs + 120_000);
    } finally {
      await child.stop();
    }
  }));
  const p50s = results.map((r) => r.latency.p50).sort((a, b) => a - b);
  return {
    rate: results.reduce((sum, r) => sum + r.rate, 0),
    p50: p50s[Math.floor(p50s.length / 2)] ?? NaN,
    errors: results.reduce((sum, r) => sum + r.errors + r.timeouts + r.mismatches, 0),
  };
}

/**
 * Back-to-back clicks of `sessions` sessions from two load processes, against one server
 * process and against `processes` of them behind one port, all on one redis-server.
 */
export async function measureProcesses(
  options: { processes: number; sessions: number; durationMs: number },
  log: (message: string) => void,
): Promise<ProcessFigures> {
  const redis = await startRedis();
  const clients = 2;
  try {
    const run = async (count: number) => {
      const { port, children } = await startServers(count, redis.url);
      try {
        await clickTogether(port, 20, clients, 300); // warm-up: compilation, the store's client
        log(`  ${count} process(es): ${options.sessions} sessions back to back`);
        const figure = await clickTogether(port, options.sessions, clients, options.durationMs);
        const perProcess: number[] = [];
        for (const child of children) {
          await child.send("mem");
          const memory = await child.json<{ sessions: number }>((v) => "heapUsed" in v);
          perProcess.push(memory.sessions);
        }
        return { ...figure, sessionsPerProcess: perProcess };
      } finally {
        await Promise.all(children.map((child) => child.stop()));
      }
    };
    log("throughput of one process and of several on one port and one store");
    const one = await run(1);
    const many = await run(options.processes);
    return {
      store: "redis-server",
      processes: options.processes,
      sessions: options.sessions,
      one: { rate: one.rate, p50: one.p50, errors: one.errors },
      many,
    };
  } finally {
    await redis.stop();
  }
}

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const count = (value: number) => Math.round(value).toLocaleString("en-US");
const bytes = (value: number) =>
  value < 10_240 ? `${count(value)} bytes` : `${(value / 1024).toFixed(0)} KiB`;

/** The summary rows of these figures. */
export function storeRows(snapshots: SnapshotFigures, processes: ProcessFigures): Row[] {
  const { session, graph } = snapshots;
  const ratio = processes.many.rate / processes.one.rate;
  return [
    {
      figure: "Snapshot of a default-app session: size / time to save (median)",
      value: `${bytes(session.bytes)} / ${ms(session.saveMs)}`,
      baseline: "",
      ratio: "",
      target: "",
      result: "",
    },
    {
      figure: "Restore a default-app session from its snapshot (median, in-process)",
      value: ms(session.restoredSessionMs),
      baseline: `${ms(session.newSessionMs)} new session`,
      ratio: `${(session.restoredSessionMs / session.newSessionMs).toFixed(2)}x`,
      target: "",
      result: "",
    },
    {
      figure: `Snapshot encode / decode, ${count(graph.tables)} tables (${bytes(graph.bytes)})`,
      value: `${ms(graph.encodeMs)} / ${ms(graph.decodeMs)}`,
      baseline: "",
      ratio: "",
      target: "",
      result: "",
    },
    {
      figure:
        `Clicks per second, ${processes.sessions} sessions back to back, ${processes.processes} ` +
        `processes on one port and one ${processes.store}`,
      value: count(processes.many.rate),
      baseline: `${count(processes.one.rate)} one process`,
      ratio: `${ratio.toFixed(2)}x`,
      target: ">= 1.7x one process",
      result: ratio >= 1.7 && processes.many.errors === 0 ? "PASS" : "MISS",
    },
  ];
}

/** The details section of these figures, in Markdown. */
export function storeDetails(snapshots: SnapshotFigures, processes: ProcessFigures): string {
  const { session, graph } = snapshots;
  return [
    "### Snapshots (`bench/snapshot.ts`, medians of " + `${snapshots.runs} runs, in-process)`,
    "",
    `- Default app's session: ${count(session.bytes)} bytes, saved in ${ms(session.saveMs)}; ` +
    `a session restored from it is ready in ${ms(session.restoredSessionMs)}, a new one in ` +
    `${ms(session.newSessionMs)} (both run \`main.lua\`).`,
    `- ${count(graph.tables)} tables: ${count(graph.bytes)} bytes, encoded in ${
      ms(graph.encodeMs)
    }, ` +
    `decoded in ${ms(graph.decodeMs)}.`,
    "",
    `### Several processes on one port (\`--reuse-port\`, one ${processes.store})`,
    "",
    `${processes.sessions} sessions clicking back to back from two load processes, for the same ` +
    `time each: one server process ${count(processes.one.rate)} clicks/s (p50 ` +
    `${ms(processes.one.p50)}); ${processes.processes} processes ${
      count(processes.many.rate)
    } clicks/s (p50 ${ms(processes.many.p50)}), sessions per process ${
      processes.many.sessionsPerProcess.join(" / ")
    }. Problems: ${processes.one.errors} with one process, ${processes.many.errors} with ` +
    `${processes.processes}. The server processes and the load processes share the machine's ` +
    `cores.`,
  ].join("\n");
}
