/**
 * The attacks of issue 10 at their original scale, against a server in a child process started
 * with the default options (plus any given after `--`): for each, the server's RSS before, at
 * its peak and after, the worst latency of another session's `watch` meanwhile, and what the
 * attacker got back.
 *
 * The other session's latency is measured for 2 s (10 s for `busy`) with nothing else running ("idle"), during the
 * attack and for 3 s after the attacker left ("after"): a `watch` round trip on the default app,
 * a click (an action and the change detection after it) on `bench/attack_site/`, which the
 * attacks of `lua_attacks.ts` (getters, luamem, library, busy) are run against.
 *
 * Run: `deno run --allow-all bench/attacks.ts [values|amplify|flood|slow|deep|getters|luamem|library|busy ...] [-- FLAGS]`
 * (`values` and `amplify` create variables without a template's path: by default the server
 * refuses those before anything else, so measure them with `-- --open-paths`).
 *
 * @module
 */
import { create, TestBrowser, TestClient, update, watch } from "../tests/support/ws_client.ts";
import { openRawSocket } from "../tests/protocol_ws/raw_socket.ts";
import { actionClient, ATTACK_SITE, LUA_ATTACKS, sigtermDuringEntry } from "./lua_attacks.ts";

const SECRET = "bench secret for the attacks, not for production";

interface Figure {
  attack: string;
  /** The machine's 1-minute load average when the attack began. */
  load: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssAfterMiB: number;
  /** The other session's latency: p99 with nothing else running, p99 and worst meanwhile, worst after. */
  idleP99Ms: number;
  p99OtherMs: number;
  worstOtherMs: number;
  worstAfterMs: number;
  seconds: number;
  notes: string;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function loadAverage(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startServer(flags: string[]): Promise<{ child: Deno.ChildProcess; port: number }> {
  const port = freePort();
  const main = new URL("../main.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      main,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--secret",
      SECRET,
      "--log-level",
      "error",
      ...flags,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      await response.body?.cancel();
      if (response.ok) return { child, port };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("The server did not start");
}

/**
 * Runs one attack in a process of its own (so that its work does not delay the measuring
 * session's event loop) and returns what it printed.
 */
async function runAttacker(name: string, port: number): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(import.meta.url).pathname,
      "--attacker",
      name,
      String(port),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return new TextDecoder().decode(output.stdout).trim();
}

/**
 * Runs an attack while sampling RSS and timing another session's round trips (`clicks`: a click
 * on the attack site, else a `watch` of the app).
 */
async function measure(
  name: string,
  server: { child: Deno.ChildProcess; port: number },
  attack: (port: number) => Promise<string>,
  clicks: boolean,
): Promise<Figure> {
  const pid = server.child.pid;
  const victim = clicks ? await actionClient(server.port) : undefined;
  const watcher = victim ? victim.client : await TestClient.connect({ port: server.port });
  await watcher.exchange([watch(1)]);
  const probe = () => victim ? victim.act("click") : watcher.exchange([watch(1)], true, 120_000);
  const load = loadAverage();
  const phases: Record<"idle" | "during" | "after", number[]> = { idle: [], during: [], after: [] };
  let phase: keyof typeof phases = "idle";
  let running = true;
  const prober = (async () => {
    while (running) {
      const start = performance.now();
      const at = phase;
      await probe();
      phases[at].push(performance.now() - start);
      if (Deno.env.get("ATTACKS_TRACE")) {
        console.error(`${(start / 1000).toFixed(1)}s ${(performance.now() - start).toFixed(0)}ms`);
      }
      await sleep(50);
    }
  })();
  // As long as the attack for `busy`, whose p99 is compared with it.
  await sleep(name === "busy" ? 10_000 : 2000);
  const before = rssMiB(pid);
  let peak = before;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, rssMiB(pid));
      await sleep(50);
    }
  })();
  phase = "during";
  const start = performance.now();
  const notes = await attack(server.port);
  const seconds = (performance.now() - start) / 1000;
  phase = "after";
  await sleep(3000);
  running = false;
  await Promise.all([sampler, prober]);
  await watcher.close();
  return {
    attack: name,
    load,
    rssBeforeMiB: before,
    rssPeakMiB: peak,
    rssAfterMiB: rssMiB(pid),
    idleP99Ms: Math.round(percentile(phases.idle, 0.99)),
    p99OtherMs: Math.round(percentile(phases.during, 0.99)),
    worstOtherMs: Math.round(Math.max(0, ...phases.during)),
    worstAfterMs: Math.round(Math.max(0, ...phases.after)),
    seconds: Math.round(seconds * 10) / 10,
    notes,
  };
}

function holding(id: number, value: unknown) {
  return { type: "create", data: { id, parentId: 0, properties: {}, value } };
}

function countErrors(client: TestClient, code: string): number {
  return client.messages().filter((m) => m.type === "error" && m.data.code === code).length;
}

const ATTACKS: Record<string, (port: number) => Promise<string>> = {
  ...LUA_ATTACKS,
  /** ~1 MB frames, each a create holding 499k zeros: 190 MiB over two connections. */
  async values(port) {
    const frame = JSON.stringify({
      userEvent: false,
      messages: [holding(10, new Array(499_000).fill(0))],
    });
    const attackers = [await TestClient.connect({ port }), await TestClient.connect({ port })];
    await Promise.all(attackers.map(async (client) => {
      for (let i = 0; i < 95; i++) client.sendRaw(frame.replace('"id":10', `"id":${10 + i}`));
      await client.exchange([], true, 600_000);
    }));
    const refused = attackers.reduce((n, c) => n + countErrors(c, "limit"), 0);
    for (const client of attackers) await client.close();
    return `${
      (2 * 95 * frame.length / 2 ** 20).toFixed(0)
    } MiB sent, ${refused} creates refused (limit)`;
  },
  /** A 200 KB value K past the depth limit, then K named 5,000 times, and by 5,000 variables. */
  async amplify(port) {
    const client = await TestClient.connect({ port });
    let value: unknown = new Array(100_000).fill(0);
    for (let i = 0; i < 33; i++) value = [value];
    const answer = await client.exchange([holding(10, value)]);
    let shown = answer.find((m) => m.type === "update" && m.data.varId === 10)?.data.value;
    while (Array.isArray(shown)) shown = shown[0];
    const k = (shown as { obj?: number } | undefined)?.obj;
    if (k === undefined) {
      // Refused outright (template-only paths, the default): nothing to amplify.
      const refusal = answer.find((m) => m.type === "error")?.data;
      await client.close();
      return `K refused (${refusal?.code}: ${refusal?.description}); run with -- --open-paths`;
    }
    const start = client.frames.length;
    await client.exchange([holding(11, new Array(5_000).fill({ obj: k }))], true, 600_000);
    for (let f = 0; f < 5; f++) {
      const creates = Array.from(
        { length: 1_000 },
        (_, i) => holding(100 + f * 1_000 + i, { obj: k }),
      );
      await client.exchange(creates, true, 600_000);
    }
    const bytes = JSON.stringify(client.frames.slice(start)).length;
    const tooLarge = countErrors(client, "too-large");
    await client.close();
    return `K is ${JSON.stringify(new Array(100_000).fill(0)).length} bytes; ${
      (bytes / 2 ** 20).toFixed(1)
    } MiB came back, ${tooLarge} too-large errors`;
  },
  /** 10,010 sockets to fresh sids from one address. */
  async flood(port) {
    const browser = new TestBrowser(port);
    await browser.newSid(); // the cookie, before sids are minted in parallel
    let opened = 0;
    let refused = 0;
    const one = async () => {
      const client = await TestClient.connect({ port }, undefined, { browser });
      const code = await Promise.race([
        client.closedPromise,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200)),
      ]);
      if (code === 1013) refused++;
      else opened++;
      await client.close();
    };
    for (let i = 0; i < 10_010; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, 10_010 - i) }, one));
    }
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
    return `${opened} sessions opened, ${refused} refused; server holds ${health.sessions} sessions`;
  },
  /**
   * A client that never reads while 100 KB updates are pushed, for up to 12 s: it writes the
   * app's `search` through one variable and watches it through another.
   */
  async slow(port) {
    const browser = new TestBrowser(port);
    const sid = await browser.newSid();
    const raw = await openRawSocket(port, sid, browser);
    await raw.sendText(JSON.stringify({
      userEvent: true,
      messages: [watch(1), create(2, 1, { path: "search" }), create(3, 1, { path: "search" })],
    }));
    const deadline = Date.now() + 12_000;
    let sent = 0;
    let closed = false;
    while (Date.now() < deadline && !closed) {
      const text = `${sent}:${"x".repeat(100_000)}`;
      await raw.sendText(JSON.stringify({ userEvent: true, messages: [update(2, text)] }))
        .catch(() => closed = true);
      sent++;
      const health = sent % 20 === 0
        ? await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()
        : undefined;
      if (health?.slowReadersClosed > 0) closed = true;
    }
    raw.close();
    return `${sent} frames of 100 KB written; disconnected: ${closed}`;
  },
  /** 20,000 nested variables. */
  async deep(port) {
    const client = await TestClient.connect({ port });
    for (let start = 0; start < 20_000; start += 1_000) {
      const creates = Array.from({ length: 1_000 }, (_, i) => {
        const id = 10 + start + i;
        return id === 10 ? create(id, 1, { path: "name" }) : create(id, id - 1, { path: "len" });
      });
      await client.exchange(creates, true, 600_000);
    }
    const limits = countErrors(client, "limit");
    await client.close();
    return `20,000 nested creates; ${limits} refused (limit)`;
  },
};

/** Attacks run against `bench/attack_site/`. */
const ON_ATTACK_SITE = new Set(Object.keys(LUA_ATTACKS));

if (import.meta.main && Deno.args[0] === "--attacker") {
  const attack = ATTACKS[Deno.args[1] ?? ""];
  if (!attack) throw new Error(`Unknown attack '${Deno.args[1]}'`);
  console.log(await attack(Number(Deno.args[2])));
} else if (import.meta.main) {
  const split = Deno.args.indexOf("--");
  const names = split < 0 ? Deno.args : Deno.args.slice(0, split);
  const flags = split < 0 ? [] : Deno.args.slice(split + 1);
  const figures: Figure[] = [];
  for (const name of names.length > 0 ? names : Object.keys(ATTACKS)) {
    if (!ATTACKS[name]) throw new Error(`Unknown attack '${name}'`);
    const site = ON_ATTACK_SITE.has(name) ? ["--dir", ATTACK_SITE] : [];
    const server = await startServer([...site, ...flags]);
    try {
      const figure = await measure(
        name,
        server,
        (port) => runAttacker(name, port),
        ON_ATTACK_SITE.has(name),
      );
      if (name === "library") {
        figure.notes += ` / ${await sigtermDuringEntry(await startServer([...site, ...flags]))}`;
      }
      figures.push(figure);
      console.log(JSON.stringify(figure));
    } finally {
      server.child.kill("SIGTERM");
      await server.child.status;
    }
  }
  console.log(
    "\n| attack | load | RSS before / peak / after (MiB) | other session: idle p99 / p99 / worst / worst after (ms) | s | what the attacker got back |",
  );
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const f of figures) {
    console.log(
      `| ${f.attack} | ${f.load} | ${f.rssBeforeMiB} / ${f.rssPeakMiB} / ${f.rssAfterMiB} | ` +
        `${f.idleP99Ms} / ${f.p99OtherMs} / ${f.worstOtherMs} / ${f.worstAfterMs} | ${f.seconds} | ${f.notes} |`,
    );
  }
}
