/**
 * Test support: runs `main.ts` as a real subprocess (`deno run -A main.ts ...`), collects its
 * output line by line and finds the port it bound from its "Serving ... on http://HOST:PORT/"
 * log line.
 *
 * @module
 */

/** The project folder. */
export const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The result of a command that ran to its end. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `main.ts` with arguments and environment variables, to its end.
 *
 * @example
 * ```ts
 * import { runMain } from "./process.ts";
 * const { code, stdout } = await runMain(["--help"]);
 * ```
 */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<Finished> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A running `main.ts`. */
export interface MainProcess {
  readonly child: Deno.ChildProcess;
  /** The port from the "Serving" log line. */
  readonly port: number;
  /** Every line written so far, stdout and stderr together, in arrival order per stream. */
  readonly lines: string[];
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Waits for a line that matches, or rejects after `ms`. */
  waitForLine(pattern: RegExp, ms?: number): Promise<string>;
  /** Kills the process if it still runs and waits for it (for cleanup). */
  stop(): Promise<void>;
}

/**
 * Starts `main.ts` on port 0 (plus `args`) and waits until it logs the port it serves on.
 * `denoFlags` go to `deno run` before the script (e.g. `--unstable-net`).
 *
 * @example
 * ```ts
 * import { spawnMain } from "./process.ts";
 * const server = await spawnMain(["--host", "127.0.0.1"]);
 * server.child.kill("SIGTERM");
 * await server.status;
 * ```
 */
export async function spawnMain(
  args: string[] = [],
  options: { denoFlags?: string[] } = {},
): Promise<MainProcess> {
  const denoFlags = options.denoFlags ?? [];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, MAIN, "--port", "0", "--host", "127.0.0.1", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let wake: (() => void)[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const bytes of stream) {
      const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
      for (const fn of wake.splice(0)) fn();
    }
    if (rest) lines.push(rest);
    for (const fn of wake.splice(0)) fn();
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then(async (s) => {
    await pumped;
    return s;
  });
  let exited = false;
  status.then(() => exited = true);

  const waitForLine = async (pattern: RegExp, ms = 10_000): Promise<string> => {
    const deadline = Date.now() + ms;
    while (true) {
      const found = lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      if (exited) throw new Error(`Process exited without a line matching ${pattern}:\n${text()}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`No line matching ${pattern} in:\n${text()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 100));
        wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const text = () => lines.join("\n");
  const stop = async () => {
    wake = [];
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await status;
  };

  let port: number;
  try {
    const line = await waitForLine(/Serving .* on http:\/\/\S+:(\d+)\//);
    port = Number(/on http:\/\/\S+:(\d+)\//.exec(line)?.[1]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, port, lines, status, waitForLine, stop };
}

/**
 * Resolves with the value of `promise`, or rejects after `ms` milliseconds.
 *
 * @example
 * ```ts
 * import { within } from "./process.ts";
 * await within(1000, Promise.resolve(1)); // 1
 * ```
 */
export async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
