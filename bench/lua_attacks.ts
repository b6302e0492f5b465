/**
 * The attacks of issue 10 that run the site's Lua (getters, luamem, library, busy), at their
 * original scale, against `bench/attack_site/` (its template binds every path used here, so the
 * default template-only paths allow them). `bench/attacks.ts` runs them in a process of their
 * own and measures the server meanwhile.
 *
 * @module
 */
import {
  create,
  type Received,
  SENTINEL_ID,
  TestClient,
  unwatch,
  update,
  watch,
} from "../tests/support/ws_client.ts";

/** The site these attacks need. */
export const ATTACK_SITE = new URL("./attack_site/", import.meta.url).pathname;

/** Variable ids of the actions the app binds, under variable 1. */
const ACTIONS = ["click", "grow", "growEvery", "concat", "utf8", "date", "json", "rep", "busy"];

/** A client of a fresh session, watching the app, with every action bound. */
export async function actionClient(
  port: number,
): Promise<{ client: TestClient; act: (name: string, ms?: number) => Promise<Received[]> }> {
  const client = await TestClient.connect({ port });
  await client.exchange([
    watch(1),
    ...ACTIONS.map((name, i) => create(10 + i, 1, { path: `${name}()`, access: "action" })),
  ]);
  // The action and the sentinel in one frame: two frames would measure the socket's delayed
  // acknowledgement (~40 ms on loopback) rather than the server.
  const act = async (name: string, ms = 120_000) => {
    const start = client.frames.length;
    const sentinel = unwatch(SENTINEL_ID);
    client.send([update(10 + ACTIONS.indexOf(name), null), sentinel]);
    const isSentinel = (m: Received) =>
      m.type === "error" && m.data?.varId === SENTINEL_ID && m.data?.code === "not-found";
    await client.until(() => client.frames.slice(start).some((f) => f.some(isSentinel)), ms);
    return client.frames.slice(start).flat().filter((m) => !isSentinel(m));
  };
  return { client, act };
}

/** `code: description` of the errors in an answer, counted ("none" when there are none). */
export function errorsOf(messages: Received[]): string {
  const counts = new Map<string, number>();
  for (const m of messages) {
    if (m.type !== "error" || m.data.varId === SENTINEL_ID) continue;
    const text = `${m.data.code}: ${String(m.data.description).slice(0, 90)}`;
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  if (counts.size === 0) return "no error";
  return [...counts].map(([text, n]) => (n > 1 ? `${n} × ${text}` : text)).join("; ");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The attacks, each returning what the attacker got back. */
export const LUA_ATTACKS: Record<string, (port: number) => Promise<string>> = {
  /**
   * 1 MB (mostly spaces) written into `text`, which `trimmed()` trims with patterns; then 20
   * frames of ~40 bytes a second for 10 s, each a trivial update that runs change detection.
   */
  async getters(port) {
    const client = await TestClient.connect({ port });
    await client.exchange([
      watch(1),
      create(2, 1, { path: "text" }),
      create(3, 1, { path: "trimmed()" }),
      create(4, 1, { path: "name" }),
    ]);
    const text = `x${" ".repeat(1_000_000 - 2)}x`;
    const first = await client.exchange([update(2, text)], true, 120_000);
    const start = client.frames.length;
    const small = JSON.stringify({ messages: [update(4, "a")] });
    const until = performance.now() + 10_000;
    let sent = 0;
    while (performance.now() < until) {
      client.sendRaw(small.replace('"a"', `"${sent % 10}"`));
      sent++;
      await sleep(50);
    }
    const received = client.frames.slice(start).flat();
    await client.close();
    return `1 MB write: ${errorsOf(first)}; then ${sent} frames of ${small.length} bytes: ` +
      `${errorsOf(received)} (left without waiting)`;
  },
  /**
   * A table grown as fast as possible, in one action, then by a 10 ms interval timer; and one
   * `..` of 190 operands of 16 MiB. Each in a session of its own.
   */
  async luamem(port) {
    const notes: string[] = [];
    const one = await actionClient(port);
    notes.push(`grow(): ${errorsOf(await one.act("grow"))}`);
    await one.client.close();

    const timer = await actionClient(port);
    const answer = await timer.act("growEvery");
    await timer.client.until(() => timer.client.closeCode !== undefined, 15_000).catch(() => {});
    const alive = timer.client.closeCode === undefined;
    notes.push(
      `setInterval(grow, 10): ${errorsOf([...answer, ...timer.client.messages()])}; ` +
        (alive ? "connection still open after 15 s" : `closed ${timer.client.closeCode}`),
    );
    await timer.client.close();

    const concat = await actionClient(port);
    notes.push(`190 × 16 MiB '..': ${errorsOf(await concat.act("concat"))}`);
    await concat.client.close();
    return notes.join(" / ");
  },
  /** 300 × `utf8.len` on 15 MB, `os.date` with a 2 MB format, `ui.json_decode` of 4 MB, `string.rep` of 1 GiB. */
  async library(port) {
    const { client, act } = await actionClient(port);
    const notes: string[] = [];
    for (const name of ["utf8", "date", "json", "rep"]) {
      const start = performance.now();
      const answer = await act(name);
      notes.push(`${name}: ${errorsOf(answer)} in ${Math.round(performance.now() - start)} ms`);
    }
    await client.close();
    return notes.join(" / ");
  },
  /** A 250 ms action, looped by its client for 10 s. */
  async busy(port) {
    const { client, act } = await actionClient(port);
    const until = performance.now() + 10_000;
    let runs = 0;
    const answers: Received[] = [];
    while (performance.now() < until) {
      answers.push(...await act("busy"));
      runs++;
    }
    await client.close();
    return `${runs} runs of busy(): ${errorsOf(answers)}`;
  },
};

/**
 * SIGTERM while a session runs 300 × `utf8.len` on 15 MB: milliseconds from the signal to the
 * server's exit.
 */
export async function sigtermDuringEntry(
  server: { child: Deno.ChildProcess; port: number },
): Promise<string> {
  const { client } = await actionClient(server.port);
  // A queue of such entries, so that the signal surely lands in one.
  client.send(Array.from({ length: 20 }, () => update(10 + ACTIONS.indexOf("utf8"), null)));
  await sleep(300);
  const start = performance.now();
  server.child.kill("SIGTERM");
  const status = await server.child.status;
  await client.closedPromise;
  return `SIGTERM during utf8(): exit ${status.code} after ${
    Math.round(performance.now() - start)
  } ms`;
}
