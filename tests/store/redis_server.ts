/**
 * Starts a real `redis-server` on a free port for a test, without persistence, and stops it.
 * A machine without redis-server fails the test with a message saying how to install it.
 */

/** A running server. */
export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts redis-server and waits until it accepts connections. */
export async function startRedis(): Promise<RedisServer> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("redis-server", {
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("redis-server is not installed; install it (apt-get install redis-server)");
    }
    throw error;
  }
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return { url: `redis://127.0.0.1:${port}`, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await stop();
  throw new Error(`redis-server did not start on port ${port}`);
}
