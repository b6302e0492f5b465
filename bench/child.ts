/**
 * Child processes for the benchmark harness: `deno run` of a script, its stdout read line by
 * line, its stdin written, its stderr kept (the last lines) for error messages.
 *
 * @module
 */
import { lines } from "./lines.ts";

/** Options of {@link Child.spawn}. */
export interface SpawnOptions {
  /** Working folder (the project root by default). */
  cwd?: string;
  /** Open a pipe to the child's stdin. */
  stdin?: boolean;
  /** Extra `deno run` flags (permissions, V8 flags), before the script. */
  flags?: string[];
}

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * A running `deno run` child.
 *
 * @example
 * ```ts
 * import { Child } from "./child.ts";
import { lines } from "./lines.ts";
 * const child = Child.spawn("bench/echo_server.ts", [], { stdin: true });
 * const { port } = await child.json<{ port: number }>((v) => "port" in v);
 * await child.stop();
 * ```
 */
export class Child {
  readonly process: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #stderr: string[] = [];
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  private constructor(process: Deno.ChildProcess, stdin: boolean) {
    this.process = process;
    this.#lines = lines(process.stdout);
    this.#writer = stdin ? process.stdin.getWriter() : undefined;
    this.status = process.status.then((status) => {
      this.#exited = true;
      return status;
    });
    this.#keepStderr(process.stderr);
  }

  /** Starts `deno run FLAGS SCRIPT ARGS` from the project root. */
  static spawn(script: string, args: string[], options: SpawnOptions = {}): Child {
    const command = new Deno.Command(Deno.execPath(), {
      args: ["run", ...(options.flags ?? ["--allow-all"]), script, ...args],
      cwd: options.cwd ?? ROOT,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    });
    return new Child(command.spawn(), options.stdin ?? false);
  }

  async #keepStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const line of lines(stream)) {
      this.#stderr.push(line);
      if (this.#stderr.length > 20) this.#stderr.shift();
    }
  }

  /** The last lines the child wrote to stderr. */
  stderrTail(): string {
    return this.#stderr.join("\n");
  }

  /** The next line of stdout, or `undefined` at its end; rejects after `ms`. */
  async line(ms = 60_000): Promise<string | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`No output from the child within ${ms} ms\n${this.stderrTail()}`)),
        ms,
      );
    });
    try {
      const next = await Promise.race([this.#lines.next(), timeout]);
      return next.done ? undefined : next.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next stdout line that is JSON and passes `accept`; other lines are skipped. */
  async json<T>(accept: (value: Record<string, unknown>) => boolean, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms;
    while (true) {
      const text = await this.line(Math.max(1, deadline - Date.now()));
      if (text === undefined) {
        throw new Error(`The child ended without the expected output\n${this.stderrTail()}`);
      }
      if (!text.startsWith("{")) continue;
      try {
        const value = JSON.parse(text) as Record<string, unknown>;
        if (accept(value)) return value as T;
      } catch {
        // Not JSON after all; skip it.
      }
    }
  }

  /** Writes a line to the child's stdin. */
  async send(text: string): Promise<void> {
    if (!this.#writer) throw new Error("The child has no stdin pipe");
    await this.#writer.write(new TextEncoder().encode(`${text}\n`));
  }

  /** Ends the child: closes stdin, then SIGTERM, then SIGKILL, and waits for it. */
  async stop(ms = 5000): Promise<void> {
    try {
      await this.#writer?.close();
    } catch {
      // Already closed.
    }
    if (!this.#exited) {
      const exited = await Promise.race([this.status.then(() => true), sleep(200, false)]);
      if (!exited) {
        try {
          this.process.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        const stopped = await Promise.race([this.status.then(() => true), sleep(ms, false)]);
        if (!stopped) {
          try {
            this.process.kill("SIGKILL");
          } catch {
            // Already gone.
          }
        }
      }
    }
    await this.status;
    await this.process.stdout.cancel().catch(() => {});
  }
}

function sleep<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}
