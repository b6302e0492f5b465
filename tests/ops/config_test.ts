/**
 * Configuration: flags and environment variables, validated at start. The command-line
 * behaviour runs `main.ts` as a real process.
 */
import assert from "node:assert/strict";
import { ConfigError, DEFAULT_CONFIG } from "../../src/config.ts";
import { CONFIG_OPTIONS } from "../../src/config_options.ts";
import { parseConfig } from "../../src/config_parse.ts";
import { helpText } from "../../src/help_text.ts";
import { VERSION } from "../../src/server/server_core.ts";
import { startTestServer, TestClient } from "../support/ws_client.ts";
import { runMain, spawnMain } from "./process.ts";

const noEnv = () => undefined;

/** Every flag and variable the README's configuration table lists. */
const DOCUMENTED = [
  ["--dir", "UI_DIR"],
  ["--port", "PORT"],
  ["--host", "UI_HOST"],
  ["--session-timeout", "UI_SESSION_TIMEOUT"],
  ["--hotload", "UI_HOTLOAD"],
  ["--inline-lua", "UI_INLINE_LUA"],
  ["--debug", "UI_DEBUG"],
  ["--open-paths", "UI_OPEN_PATHS"],
  ["--dev", "UI_DEV"],
  ["--log-level", "UI_LOG_LEVEL"],
  ["--max-frame-bytes", "UI_MAX_FRAME_BYTES"],
  ["--max-messages", "UI_MAX_MESSAGES"],
  ["--max-variables", "UI_MAX_VARIABLES"],
  ["--instruction-budget", "UI_INSTRUCTION_BUDGET"],
  ["--max-session-memory", "UI_MAX_SESSION_MEMORY"],
  ["--max-sessions", "UI_MAX_SESSIONS"],
  ["--max-frames-per-second", "UI_MAX_FRAMES_PER_SECOND"],
  ["--max-bytes-per-second", "UI_MAX_BYTES_PER_SECOND"],
  ["--max-process-memory", "UI_MAX_PROCESS_MEMORY"],
  ["--secret", "UI_SECRET"],
  ["--allowed-origins", "UI_ALLOWED_ORIGINS"],
  ["--csp", "UI_CSP"],
  ["--session-store", "UI_SESSION_STORE"],
  ["--snapshot-delay", "UI_SNAPSHOT_DELAY"],
  ["--reuse-port", "UI_REUSE_PORT"],
  ["--max-client-value-bytes", "UI_MAX_CLIENT_VALUE_BYTES"],
  ["--max-value-bytes", "UI_MAX_VALUE_BYTES"],
  ["--max-flush-bytes", "UI_MAX_FLUSH_BYTES"],
  ["--max-variable-depth", "UI_MAX_VARIABLE_DEPTH"],
  ["--sessions-per-minute", "UI_SESSIONS_PER_MINUTE"],
  ["--trust-proxy", "UI_TRUST_PROXY"],
  ["--max-unsent-bytes", "UI_MAX_UNSENT_BYTES"],
  ["--allow-fetch", "UI_ALLOW_FETCH"],
  ["--app-store", "UI_APP_STORE"],
  ["--host-call-timeout", "UI_HOST_CALL_TIMEOUT"],
] as const;

Deno.test("main.ts --help", async (t) => {
  const { code, stdout, stderr } = await runMain(["--help"]);

  await t.step("exits 0 and prints to stdout only", () => {
    assert.equal(code, 0);
    assert.equal(stderr, "");
  });

  await t.step("mentions every flag with its variable and default", () => {
    for (const option of CONFIG_OPTIONS) {
      const at = stdout.indexOf(`\n  --${option.flag}`);
      assert.ok(at >= 0, `--${option.flag} missing`);
      const block = stdout.slice(at, stdout.indexOf("\n  -", at + 1));
      assert.ok(block.includes(option.env), `${option.env} missing for --${option.flag}`);
      assert.match(block, /default: \S+/, `no default for --${option.flag}`);
    }
    assert.match(stdout, /^ {2}-v, -vv, -vvv, -vvvv$/m);
    assert.match(stdout, /^ {2}--version$/m);
    assert.match(stdout, /^ {2}-h, --help$/m);
  });

  await t.step("lists exactly the documented options", () => {
    assert.deepEqual(
      CONFIG_OPTIONS.map((o) => [`--${o.flag}`, o.env]),
      DOCUMENTED.map(([flag, env]) => [flag, env]),
    );
  });

  await t.step("shows the defaults of SPEC 1 and 13", () => {
    assert.match(stdout, /env PORT; default: 8000/);
    assert.match(stdout, /env UI_SESSION_TIMEOUT; default: 15m/);
    assert.match(stdout, /env UI_MAX_FRAME_BYTES; default: 1048576/);
    assert.match(stdout, /env UI_MAX_MESSAGES; default: 1000\n/);
    assert.match(stdout, /env UI_MAX_VARIABLES; default: 100000/);
    assert.match(stdout, /env UI_INSTRUCTION_BUDGET; default: 10000000/);
    assert.match(stdout, /env UI_MAX_SESSIONS; default: 10000\n/);
    assert.match(stdout, /env UI_MAX_FRAMES_PER_SECOND; default: 1000\n/);
    assert.match(stdout, /env UI_MAX_BYTES_PER_SECOND; default: 1MiB\n/);
    assert.match(stdout, /env UI_MAX_PROCESS_MEMORY; default: 400MiB on Deno Deploy/);
    assert.match(stdout, /env UI_INLINE_LUA; default: false/);
    assert.match(stdout, /env UI_DEBUG; default: false/);
    assert.match(stdout, /env UI_OPEN_PATHS; default: false/);
    assert.match(stdout, /env UI_DEV; default: false/);
    assert.match(stdout, /env UI_MAX_CLIENT_VALUE_BYTES; default: 16777216\n/);
    assert.match(stdout, /env UI_MAX_VALUE_BYTES; default: 1048576\n/);
    assert.match(stdout, /env UI_MAX_FLUSH_BYTES; default: 4194304\n/);
    assert.match(stdout, /env UI_MAX_VARIABLE_DEPTH; default: 1000\n/);
    assert.match(stdout, /env UI_SESSIONS_PER_MINUTE; default: 60\n/);
    assert.match(stdout, /env UI_TRUST_PROXY; default: false/);
    assert.match(stdout, /env UI_MAX_UNSENT_BYTES; default: 16777216\n/);
    assert.equal(stdout.trim(), helpText().trim());
  });
});

Deno.test("main.ts refuses bad values with exit code 2 and a message on stderr", async (t) => {
  await t.step("--port nope", async () => {
    const { code, stdout, stderr } = await runMain(["--port", "nope"]);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, /^Error: --port expects a whole number, got 'nope'$/m);
    assert.match(stderr, /--help/);
  });

  await t.step("--port 70000", async () => {
    const { code, stderr } = await runMain(["--port=70000"]);
    assert.equal(code, 2);
    assert.match(stderr, /--port must be a port number \(0 to 65535\)/);
  });

  await t.step("UI_SESSION_TIMEOUT=bad", async () => {
    const { code, stderr } = await runMain([], { UI_SESSION_TIMEOUT: "bad" });
    assert.equal(code, 2);
    assert.match(
      stderr,
      /Error: Environment variable UI_SESSION_TIMEOUT expects a duration like 90s, 15m or 1h30m, got 'bad'/,
    );
  });

  await t.step("UI_LOG_LEVEL=loud", async () => {
    const { code, stderr } = await runMain([], { UI_LOG_LEVEL: "loud" });
    assert.equal(code, 2);
    assert.match(stderr, /UI_LOG_LEVEL expects one of error, warn, info, debug, got 'loud'/);
  });

  await t.step("an unknown flag", async () => {
    const { code, stderr } = await runMain(["--prot", "80"]);
    assert.equal(code, 2);
    assert.match(stderr, /Unknown option '--prot'; did you mean --port\?/);
  });

  await t.step("a site folder that does not exist", async () => {
    const { code, stderr } = await runMain(["--dir", "/no/such/site"]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /Error: Cannot load the site: Site folder '\/no\/such\/site' does not exist/,
    );
  });

  await t.step("a port already in use", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = (listener.addr as Deno.NetAddr).port;
      const { code, stderr } = await runMain(["--host", "127.0.0.1", "--port", String(port)]);
      assert.equal(code, 2);
      assert.match(stderr, new RegExp(`Error: Cannot listen on 127\\.0\\.0\\.1:${port}: `));
    } finally {
      listener.close();
    }
  });
});

Deno.test("parseConfig", async (t) => {
  await t.step("gives the defaults with no flags and no variables", () => {
    assert.deepEqual(parseConfig([], noEnv), DEFAULT_CONFIG);
  });

  await t.step("reads environment variables", () => {
    const env: Record<string, string> = {
      PORT: "9000",
      UI_HOST: "127.0.0.1",
      UI_SESSION_TIMEOUT: "90s",
      UI_DEBUG: "yes",
      UI_LOG_LEVEL: "warn",
      UI_MAX_SESSIONS: "5",
    };
    const config = parseConfig([], (name) => env[name]);
    assert.ok(typeof config === "object");
    assert.equal(config.port, 9000);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.sessionTimeoutMs, 90_000);
    assert.equal(config.debug, true);
    assert.equal(config.logLevel, "warn");
    assert.equal(config.maxSessions, 5);
  });

  await t.step("lets flags win over variables", () => {
    const env: Record<string, string> = { PORT: "9000", UI_DEBUG: "true" };
    const config = parseConfig(["--port=9001", "--debug=false", "-v"], (name) => env[name]);
    assert.ok(typeof config === "object");
    assert.equal(config.port, 9001);
    assert.equal(config.debug, false);
    assert.equal(config.logLevel, "debug");
  });

  await t.step("reads durations", () => {
    const config = parseConfig(["--session-timeout", "1h"], noEnv);
    assert.ok(typeof config === "object");
    assert.equal(config.sessionTimeoutMs, 3_600_000);
  });

  await t.step("refuses bad values with a ConfigError", () => {
    for (
      const args of [
        ["--port", "-1"],
        ["--max-sessions", "0"],
        ["--hotload=maybe"],
        ["--session-timeout", "soon"],
        ["--host", ""],
        ["--port"],
        ["stray"],
      ]
    ) {
      assert.throws(() => parseConfig(args, noEnv), ConfigError, args.join(" "));
    }
  });

  await t.step("returns help for --help and -h", () => {
    assert.equal(parseConfig(["--port", "1", "--help"], noEnv), "help");
    assert.equal(parseConfig(["-h"], noEnv), "help");
  });
});

Deno.test("configured limits reach the sessions", async (t) => {
  const server = await startTestServer({ maxFramesPerSecond: 3 });
  const client = await TestClient.connect(server);
  try {
    await t.step("--max-frames-per-second 3 refuses the fourth frame in a second", async () => {
      for (let i = 0; i < 6; i++) client.send([{ type: "watch", data: { varId: 1 } }]);
      const messages = await client.quiet(100);
      const limits = messages.filter((m) => m.type === "error" && m.data.code === "limit");
      assert.ok(limits.length >= 1 && limits.length <= 3, JSON.stringify(limits));
    });
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("ui-engine command lines", async (t) => {
  for (const args of [["version"], ["--version"], ["serve", "--version"]]) {
    await t.step(`${args.join(" ")} prints the version and exits 0`, async () => {
      const { code, stdout, stderr } = await runMain(args);
      assert.equal(code, 0);
      assert.equal(stdout.trim(), `Lua UI session server ${VERSION}`);
      assert.equal(stderr, "");
    });
  }

  await t.step(
    "serve with ui-engine's flags gets as far as the site, with one notice",
    async () => {
      const { code, stdout, stderr } = await runMain(
        ["serve", "-vvvv", "--lua", "--socket", "/tmp/ui.sock", "--dir", "/no/such/site"],
        { UI_PORT: "0" },
      );
      assert.equal(code, 2);
      const notices = (stdout + stderr).split("\n").filter((line) => line.includes("--socket"));
      assert.equal(notices.length, 1, stdout + stderr);
      assert.match(notices[0] as string, /^WARN .*--socket is ignored: this server has no backend/);
      assert.match(stderr, /Cannot load the site/);
    },
  );

  await t.step("a server starts with -vv and ui-engine's flags, and logs at debug", async () => {
    const server = await spawnMain(["-vv", "--lua-path", "scripts", "--session-timeout", "1h30m"]);
    try {
      await server.waitForLine(/WARN .*--lua-path scripts is ignored/);
      const options = await server.waitForLine(/DEBUG .*Options: /);
      assert.match(options, /"sessionTimeoutMs":5400000/);
    } finally {
      await server.stop();
    }
  });
});

Deno.test("--session-timeout 0 keeps an idle session forever", async (t) => {
  for (const [timeout, kept] of [[0, true], [30, false]] as const) {
    await t.step(
      `${timeout} ms ${kept ? "keeps" : "drops"} a session without connections`,
      async () => {
        const server = await startTestServer({ sessionTimeoutMs: timeout });
        try {
          const client = await TestClient.connect(server);
          await client.close();
          await new Promise((resolve) => setTimeout(resolve, 200));
          assert.equal(server.manager.sessionCount, kept ? 1 : 0);
        } finally {
          await server.shutdown();
        }
      },
    );
  }
});
