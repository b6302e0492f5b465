/**
 * Tests for src/config.ts, config_options.ts, config_parse.ts and config_values.ts: flags and environment variables into a validated configuration.
 */
import assert from "node:assert/strict";
import {
  type Config,
  ConfigError,
  DEFAULT_CONFIG,
  type EnvReader,
  LOG_LEVELS,
} from "../src/config.ts";
import { CONFIG_OPTIONS } from "../src/config_options.ts";
import { parseConfig } from "../src/config_parse.ts";
import { parseDuration } from "../src/config_values.ts";
import { helpText } from "../src/help_text.ts";
import { formatDuration, parseGoDuration } from "../src/duration.ts";
import { closest, editDistance } from "../src/suggest.ts";

const NO_ENV: EnvReader = () => undefined;

function env(values: Record<string, string>): EnvReader {
  return (name: string) => values[name];
}

function parse(args: string[], reader: EnvReader = NO_ENV, notices: string[] = []): Config {
  const config = parseConfig(args, reader, (message) => notices.push(message));
  assert.ok(typeof config === "object", `expected a configuration, got ${config}`);
  return config;
}

function refuses(args: string[], pattern: RegExp, reader: EnvReader = NO_ENV): void {
  assert.throws(() => parseConfig(args, reader), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("defaults", async (t) => {
  await t.step("no flags and no environment give the defaults", () => {
    assert.deepEqual(parse([]), DEFAULT_CONFIG);
  });
  await t.step("the defaults of SPEC 1 and 13", () => {
    assert.equal(DEFAULT_CONFIG.dir, undefined);
    assert.equal(DEFAULT_CONFIG.port, 8000);
    assert.equal(DEFAULT_CONFIG.sessionTimeoutMs, 15 * 60_000);
    assert.equal(DEFAULT_CONFIG.hotload, false);
    assert.equal(DEFAULT_CONFIG.inlineLua, false);
    // Template-only paths and production errors unless asked otherwise.
    assert.equal(DEFAULT_CONFIG.openPaths, false);
    assert.equal(DEFAULT_CONFIG.dev, false);
    assert.equal(DEFAULT_CONFIG.maxFrameBytes, 1024 * 1024);
    assert.equal(DEFAULT_CONFIG.maxMessagesPerFrame, 1000);
    assert.equal(DEFAULT_CONFIG.maxVariables, 100_000);
    assert.equal(DEFAULT_CONFIG.instructionBudget, 10_000_000);
    assert.equal(DEFAULT_CONFIG.maxSessions, 10_000);
  });
  await t.step("parsing does not change the defaults", () => {
    parse(["--port", "1"]);
    assert.equal(DEFAULT_CONFIG.port, 8000);
  });
});

Deno.test("flags", async (t) => {
  await t.step("a value after the flag or after =", () => {
    assert.equal(parse(["--port", "9000"]).port, 9000);
    assert.equal(parse(["--port=9001"]).port, 9001);
    assert.equal(parse(["--dir", "/srv/site"]).dir, "/srv/site");
    assert.equal(parse(["--host=127.0.0.1"]).host, "127.0.0.1");
  });
  await t.step("a value may contain =", () => {
    assert.equal(parse(["--dir=/a=b"]).dir, "/a=b");
  });
  await t.step("port 0 is allowed (any free port)", () => {
    assert.equal(parse(["--port", "0"]).port, 0);
  });
  await t.step("booleans without a value are true; with =value they are parsed", () => {
    const config = parse(["--hotload", "--inline-lua", "--debug"]);
    assert.equal(config.hotload, true);
    assert.equal(config.inlineLua, true);
    assert.equal(config.debug, true);
    assert.equal(parse(["--hotload=false"]).hotload, false);
    assert.equal(parse(["--hotload=off"]).hotload, false);
    assert.equal(parse(["--hotload=YES"]).hotload, true);
  });
  await t.step("--open-paths and --dev", () => {
    const config = parse(["--open-paths", "--dev"]);
    assert.equal(config.openPaths, true);
    assert.equal(config.dev, true);
    assert.equal(parse(["--open-paths=no"]).openPaths, false);
  });
  await t.step("a boolean flag does not take the next argument", () => {
    const config = parse(["--hotload", "--port", "1234"]);
    assert.equal(config.hotload, true);
    assert.equal(config.port, 1234);
  });
  await t.step("log level and -v", () => {
    assert.equal(parse(["--log-level", "warn"]).logLevel, "warn");
    assert.equal(parse(["-v"]).logLevel, "debug");
    for (const level of LOG_LEVELS) assert.equal(parse([`--log-level=${level}`]).logLevel, level);
  });
  await t.step("limits", () => {
    const config = parse([
      "--max-frame-bytes",
      "2048",
      "--max-messages=10",
      "--max-variables",
      "50",
      "--instruction-budget",
      "1000",
      "--max-sessions",
      "3",
    ]);
    assert.equal(config.maxFrameBytes, 2048);
    assert.equal(config.maxMessagesPerFrame, 10);
    assert.equal(config.maxVariables, 50);
    assert.equal(config.instructionBudget, 1000);
    assert.equal(config.maxSessions, 3);
  });
  await t.step("a later flag wins over an earlier one", () => {
    assert.equal(parse(["--port", "1", "--port", "2"]).port, 2);
  });
  await t.step("--help and -h", () => {
    assert.equal(parseConfig(["--help"], NO_ENV), "help");
    assert.equal(parseConfig(["-h"], NO_ENV), "help");
    assert.equal(parseConfig(["--port", "1", "--help"], NO_ENV), "help");
  });
});

Deno.test("session timeout durations", async (t) => {
  const cases: [string, number][] = [
    ["90s", 90_000],
    ["15m", 900_000],
    ["1h", 3_600_000],
    ["500ms", 500],
    ["30", 30_000],
    ["2.5s", 2500],
    ["0.5m", 30_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["2h45m30.5s", 9_930_500],
    ["1m30s500ms", 90_500],
    ["0", 0],
    ["0s", 0],
    ["100us", 1],
    ["1500000000ns", 1500],
    ["596h", 596 * 3_600_000],
  ];
  for (const [text, ms] of cases) {
    await t.step(`${text} is ${ms} ms`, () => {
      assert.equal(parse(["--session-timeout", text]).sessionTimeoutMs, ms);
      assert.equal(parseDuration(text, "test"), ms);
    });
  }
  await t.step("spaces around are ignored", () => {
    assert.equal(parseDuration(" 5m ", "test"), 300_000);
  });
  for (
    const bad of ["", "m", "5 m", "5d", "-5s", "1e3s", "five", "1h30", "h1", "1h 30m", "1..5s"]
  ) {
    await t.step(`${JSON.stringify(bad)} is refused`, () => {
      assert.throws(() => parseDuration(bad, "--session-timeout"), ConfigError);
    });
  }
  await t.step("the message names the source", () => {
    refuses(["--session-timeout", "soon"], /--session-timeout.*soon/);
  });
  await t.step("past the longest timer is refused, not wrapped to at once", () => {
    refuses(["--session-timeout", "597h"], /at most 596h/);
    refuses(["--session-timeout", "100000h"], /at most 596h/);
  });
  await t.step("formatDuration and parseGoDuration agree", () => {
    for (const ms of [0, 500, 90_000, 900_000, 3_600_000, 5_400_000]) {
      assert.equal(parseGoDuration(formatDuration(ms)), ms, formatDuration(ms));
    }
  });
});

Deno.test("environment variables", async (t) => {
  await t.step("each option reads its variable", () => {
    const config = parse(
      [],
      env({
        PORT: "7000",
        UI_DIR: "/site",
        UI_HOST: "::1",
        UI_SESSION_TIMEOUT: "2m",
        UI_HOTLOAD: "1",
        UI_INLINE_LUA: "yes",
        UI_DEBUG: "on",
        UI_LOG_LEVEL: "error",
        UI_MAX_FRAME_BYTES: "100",
        UI_MAX_MESSAGES: "7",
        UI_MAX_VARIABLES: "8",
        UI_INSTRUCTION_BUDGET: "9",
        UI_MAX_SESSIONS: "10",
      }),
    );
    assert.equal(config.port, 7000);
    assert.equal(config.dir, "/site");
    assert.equal(config.host, "::1");
    assert.equal(config.sessionTimeoutMs, 120_000);
    assert.equal(config.hotload, true);
    assert.equal(config.inlineLua, true);
    assert.equal(config.debug, true);
    assert.equal(config.logLevel, "error");
    assert.equal(config.maxFrameBytes, 100);
    assert.equal(config.maxMessagesPerFrame, 7);
    assert.equal(config.maxVariables, 8);
    assert.equal(config.instructionBudget, 9);
    assert.equal(config.maxSessions, 10);
  });
  await t.step("false values", () => {
    const config = parse([], env({ UI_HOTLOAD: "0", UI_INLINE_LUA: "false", UI_DEBUG: "no" }));
    assert.equal(config.hotload, false);
    assert.equal(config.inlineLua, false);
    assert.equal(config.debug, false);
  });
  await t.step("UI_OPEN_PATHS and UI_DEV", () => {
    const config = parse([], env({ UI_OPEN_PATHS: "true", UI_DEV: "1" }));
    assert.equal(config.openPaths, true);
    assert.equal(config.dev, true);
  });
  await t.step("an empty variable is ignored", () => {
    assert.equal(parse([], env({ PORT: "" })).port, 8000);
  });
  await t.step("a flag wins over its variable", () => {
    assert.equal(parse(["--port", "9"], env({ PORT: "7000" })).port, 9);
    assert.equal(parse(["--hotload=false"], env({ UI_HOTLOAD: "true" })).hotload, false);
  });
  await t.step("a bad variable is refused and named", () => {
    refuses([], /UI_HOTLOAD.*maybe/, env({ UI_HOTLOAD: "maybe" }));
    refuses([], /PORT/, env({ PORT: "http" }));
  });
  await t.step("every option has a distinct flag and variable", () => {
    const flags = CONFIG_OPTIONS.map((o) => o.flag);
    const envs = CONFIG_OPTIONS.map((o) => o.env);
    assert.equal(new Set(flags).size, flags.length);
    assert.equal(new Set(envs).size, envs.length);
  });
});

Deno.test("bad flags", async (t) => {
  await t.step("an unknown option", () => refuses(["--nope"], /Unknown option '--nope'/));
  await t.step("a positional argument", () => refuses(["site"], /Unexpected argument 'site'/));
  await t.step("a single-dash option other than -v and -h", () => {
    refuses(["-x"], /Unknown option '-x'; see --help/);
  });
  await t.step("an unknown option names the closest one", () => {
    refuses(["--prot", "80"], /Unknown option '--prot'; did you mean --port\?/);
    refuses(["--hotlaod"], /did you mean --hotload\?/);
    refuses(
      ["--session-timout=1h"],
      /Unknown option '--session-timout'; did you mean --session-timeout\?/,
    );
    refuses(["--session", "1h"], /did you mean --session-timeout\?/);
    refuses(["--verison"], /did you mean --version\?/);
    refuses(["--sockett", "x"], /did you mean --socket\?/);
    refuses(["-lua-pth", "x"], /Unknown option '-lua-pth'; did you mean --lua-path\?/);
    refuses(["--zzzzzz"], /Unknown option '--zzzzzz'; see --help/);
  });
  await t.step("a misspelt first word names the command", () => {
    refuses(["srve"], /Unexpected argument 'srve'; did you mean serve\?/);
    refuses(["serve", "serve"], /Unexpected argument 'serve'$/);
  });
  await t.step("a missing value", () => refuses(["--port"], /needs a value/));
  await t.step("integers must be whole, non-negative numbers", () => {
    for (const bad of ["x", "-1", "1.5", "1e3", " 80", "99999999999999999999"]) {
      refuses(["--port", bad], /whole number/);
    }
  });
  await t.step("ports stop at 65535", () => refuses(["--port", "65536"], /port number/));
  await t.step("limits must be at least 1", () => {
    refuses(["--max-sessions", "0"], /at least 1/);
    refuses(["--instruction-budget=0"], /at least 1/);
  });
  await t.step("booleans must be a known word", () => {
    refuses(["--hotload=maybe"], /true or false/);
  });
  await t.step("log levels must be known", () => {
    refuses(["--log-level", "verbose"], /one of error, warn, info, debug/);
  });
  await t.step("a string option needs a non-empty value", () => {
    refuses(["--dir", ""], /needs a value/);
    refuses(["--host=  "], /needs a value/);
  });
});

Deno.test("ui-engine command lines", async (t) => {
  await t.step("serve as the first word starts the server", () => {
    assert.deepEqual(parse(["serve"]), DEFAULT_CONFIG);
    assert.equal(parse(["serve", "--port", "9000"]).port, 9000);
  });
  await t.step("version and --version print the version", () => {
    assert.equal(parseConfig(["version"], NO_ENV), "version");
    assert.equal(parseConfig(["--version"], NO_ENV), "version");
    assert.equal(parseConfig(["serve", "--port", "1", "--version"], NO_ENV), "version");
    assert.equal(parseConfig(["-version"], NO_ENV), "version");
    assert.equal(parseConfig(["help"], NO_ENV), "help");
  });
  await t.step("-v to -vvvv, repeated or not, are debug", () => {
    for (const flag of ["-v", "-vv", "-vvv", "-vvvv"]) {
      assert.equal(parse(["--log-level", "warn", flag]).logLevel, "debug", flag);
    }
    assert.equal(parse(["-v", "-v", "-v"]).logLevel, "debug");
    assert.equal(parse(["serve", "-vv", "--log-level", "error"]).logLevel, "error", "later wins");
  });
  await t.step("UI_VERBOSITY above 0 is debug unless UI_LOG_LEVEL says otherwise", () => {
    assert.equal(parse([], env({ UI_VERBOSITY: "2" })).logLevel, "debug");
    assert.equal(parse([], env({ UI_VERBOSITY: "0" })).logLevel, "info");
    assert.equal(parse([], env({ UI_VERBOSITY: "2", UI_LOG_LEVEL: "warn" })).logLevel, "warn");
  });
  await t.step("Go's single-dash flags", () => {
    const config = parse([
      "-port",
      "9001",
      "-dir=/srv/site",
      "-hotload",
      "-session-timeout",
      "1h30m",
    ]);
    assert.equal(config.port, 9001);
    assert.equal(config.dir, "/srv/site");
    assert.equal(config.hotload, true);
    assert.equal(config.sessionTimeoutMs, 5_400_000);
  });
  await t.step("UI_PORT is read; PORT wins when both are set", () => {
    assert.equal(parse([], env({ UI_PORT: "9100" })).port, 9100);
    assert.equal(parse([], env({ UI_PORT: "9100", PORT: "9200" })).port, 9200);
    assert.equal(parse(["--port", "9300"], env({ UI_PORT: "9100" })).port, 9300);
    refuses([], /Environment variable UI_PORT expects a whole number/, env({ UI_PORT: "x" }));
  });
  await t.step("--session-timeout 0 is forever", () => {
    assert.equal(parse(["--session-timeout", "0"]).sessionTimeoutMs, 0);
    assert.equal(parse([], env({ UI_SESSION_TIMEOUT: "0s" })).sessionTimeoutMs, 0);
  });
  await t.step("--socket is a no-op with one notice", () => {
    const notices: string[] = [];
    assert.deepEqual(parse(["--socket", "/tmp/ui.sock"], NO_ENV, notices), DEFAULT_CONFIG);
    assert.deepEqual(notices, ["--socket is ignored: this server has no backend socket API"]);
    const fromEnv: string[] = [];
    parse([], env({ UI_SOCKET: "/tmp/ui.sock" }), fromEnv);
    assert.equal(fromEnv.length, 1);
    assert.match(fromEnv[0] as string, /^Environment variable UI_SOCKET is ignored/);
  });
  await t.step("--lua is accepted; --lua=false is ignored with a notice", () => {
    const notices: string[] = [];
    assert.deepEqual(parse(["--lua", "--lua=true", "-lua"], NO_ENV, notices), DEFAULT_CONFIG);
    assert.deepEqual(notices, []);
    parse(["--lua=false"], NO_ENV, notices);
    assert.deepEqual(notices, ["--lua=false is ignored: this server always runs the site's Lua"]);
  });
  await t.step("--lua takes no value: the next argument stays an option", () => {
    assert.equal(parse(["--lua", "--port", "9400"]).port, 9400);
  });
  await t.step("--lua-path lua/ is what happens anyway; another folder gets a notice", () => {
    const notices: string[] = [];
    parse(["--lua-path", "lua/", "--lua-path=lua", "--lua-path", "./lua/"], NO_ENV, notices);
    assert.deepEqual(notices, []);
    parse(["--lua-path", "scripts"], NO_ENV, notices);
    assert.equal(notices.length, 1);
    assert.match(
      String(notices[0]),
      /^--lua-path scripts is ignored: Lua files come from the site's lua\//,
    );
    refuses(["--lua-path"], /--lua-path needs a value/);
  });
  await t.step("a whole ui-engine command line", () => {
    const notices: string[] = [];
    const config = parse(
      ["serve", "--dir", "demo", "--port", "8080", "-vvv", "--socket", "/tmp/ui.sock", "--lua"],
      env({ UI_SESSION_TIMEOUT: "1h30m" }),
      notices,
    );
    assert.equal(config.dir, "demo");
    assert.equal(config.port, 8080);
    assert.equal(config.logLevel, "debug");
    assert.equal(config.sessionTimeoutMs, 5_400_000);
    assert.equal(notices.length, 1);
  });
});

Deno.test("suggestions", async (t) => {
  await t.step("edit distance counts a swap of neighbours as one edit", () => {
    assert.equal(editDistance("prot", "port"), 1);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("same", "same"), 0);
  });
  await t.step("closest needs a likely typo or a prefix", () => {
    assert.equal(closest("prot", ["port", "host"]), "port");
    assert.equal(closest("max-session", ["max-sessions", "max-messages"]), "max-sessions");
    assert.equal(closest("ab", ["port"]), undefined);
    assert.equal(closest("qqqq", ["port"]), undefined);
  });
});

Deno.test("helpText", async (t) => {
  const text = helpText();
  await t.step("lists every flag and its variable", () => {
    for (const option of CONFIG_OPTIONS) {
      assert.ok(text.includes(`--${option.flag}`), option.flag);
      assert.ok(text.includes(option.env), option.env);
    }
  });
  await t.step("shows defaults, with durations in readable units", () => {
    assert.match(text, /default: 8000/);
    assert.match(text, /default: 15m/);
  });
  await t.step("mentions -v and --help", () => {
    assert.match(text, /-v/);
    assert.match(text, /--help/);
  });
  await t.step("mentions --version and the ui-engine flags", () => {
    assert.match(text, /--version/);
    assert.match(text, /-vvvv/);
    for (const flag of [/--socket PATH/, /--lua\n/, /--lua-path PATH/, /UI_PORT/, /serve/]) {
      assert.match(text, flag);
    }
  });
});

Deno.test("security options", async (t) => {
  await t.step("--secret and UI_SECRET; a short secret is refused", () => {
    assert.equal(parse(["--secret", "s".repeat(16)]).secret, "s".repeat(16));
    assert.equal(parse([], env({ UI_SECRET: "e".repeat(20) })).secret, "e".repeat(20));
    assert.equal(parse([]).secret, undefined);
    refuses(["--secret", "short"], /^--secret must be at least 16 characters long$/);
  });
  await t.step("--allowed-origins: a comma-separated list, normalised", () => {
    const config = parse(["--allowed-origins", "https://A.example:443/, http://b.example:8080"]);
    assert.deepEqual(config.allowedOrigins, ["https://a.example", "http://b.example:8080"]);
    const fromEnv = parse([], env({ UI_ALLOWED_ORIGINS: "https://c.example" }));
    assert.deepEqual(fromEnv.allowedOrigins, ["https://c.example"]);
    assert.deepEqual(parse([]).allowedOrigins, []);
    refuses(["--allowed-origins", "evil.example"], /expects origins such as .*'evil.example'/);
    refuses(["--allowed-origins", "ftp://a.example"], /not http or https/);
    refuses(["--allowed-origins", "https://a.example/path"], /more than a scheme, host and port/);
  });
  await t.step("--csp replaces the policy; --help says what the defaults mean", () => {
    assert.equal(parse(["--csp", "default-src 'self'"]).csp, "default-src 'self'");
    assert.equal(parse([]).csp, undefined);
    assert.match(helpText(), /env UI_SECRET; default: random per process, so session URLs stop/);
    assert.match(helpText(), /env UI_ALLOWED_ORIGINS; default: none/);
  });
});
