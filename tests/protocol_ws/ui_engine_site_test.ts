/**
 * A site laid out exactly like ui-engine's demo folder (tests/fixtures/uedemo_site: `apps/`,
 * `lua/main.lua` → `counter.lua` → `../apps/counter/app.lua`, linked viewdefs), served and
 * driven over real sockets: `require` falling back to the site folder, wrappers written for
 * ui-engine (`new` once, then `sync()`; dot-calls on the variable), ui-engine's session names and
 * log levels, and new sessions that see edited files without `--hotload`.
 */
import assert from "node:assert/strict";
import {
  create,
  fixture,
  recordingLogger,
  update,
  updatesFor,
  watch,
} from "../support/ws_client.ts";
import { Harness, withHarness } from "./helpers.ts";

/** The last value sent for a variable. */
function last(messages: { type: string; data: Record<string, unknown> }[], varId: number) {
  return updatesFor(messages, varId).filter((m) => "value" in m.data).at(-1)?.data.value;
}

/** Copies the fixture (links as links) to a temporary folder. */
async function copySite(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "uedemo_" });
  const copy = await new Deno.Command("cp", { args: ["-a", `${fixture("uedemo_site")}/.`, dir] })
    .output();
  assert.ok(copy.success, new TextDecoder().decode(copy.stderr));
  return dir;
}

const COUNTER_BINDINGS = [
  watch(1),
  create(2, 1, { path: "label()" }),
  create(3, 1, { path: "sessionInfo()" }),
  create(4, 1, { path: "version()" }),
  create(5, 1, { path: "count", wrapper: "Doubler" }),
  create(6, 5, { path: "doubled" }),
  create(7, 5, { path: "syncs" }),
  create(8, 5, { path: "viaDot" }),
  create(9, 1, { path: "made()" }),
  create(10, 5, { path: "wrapperName" }),
  create(11, 1, { path: "add()", access: "action" }),
  create(12, 1, { path: "loads()" }),
  create(13, 1, { path: "reloadUtil()", access: "action" }),
];

Deno.test("a site laid out like ui-engine's demo folder", async (t) => {
  const log = recordingLogger();
  await withHarness("uedemo_site", {}, async (harness) => {
    const client = await harness.connect();
    const first = await client.exchange(COUNTER_BINDINGS);

    await t.step("main.lua is a link to a link into apps/; require falls back to the site", () => {
      assert.equal(last(first, 2), "count 0");
      assert.equal(last(first, 12), 1, "apps/shared/util.lua ran once");
    });

    await t.step("session._sessionID and session:newVersion / getVersion", () => {
      assert.match(String(last(first, 3)), /^session \d+$/);
      assert.equal(last(first, 4), 1);
    });

    await t.step(
      "a wrapper with sync(): new once, then value set and sync() on changes",
      async () => {
        assert.equal(last(first, 6), 0);
        assert.equal(last(first, 7), 0);
        assert.equal(last(first, 9), 1);
        assert.equal(last(first, 10), "Doubler", "variable:getProperty works in new");
        const answer = await client.exchange([update(11, null)]);
        assert.equal(last(answer, 2), "count 1");
        assert.equal(last(answer, 6), 2, "sync() saw the new value in self.value");
        assert.equal(last(answer, 7), 1);
        assert.equal(last(answer, 8), 1, "variable.getValue() with a dot");
        assert.equal(last(answer, 9), undefined, "new did not run again");
        const again = await client.exchange([update(11, null)]);
        assert.equal(last(again, 6), 4);
        assert.equal(last(again, 7), 2);
        assert.equal(last(again, 9), undefined);
      },
    );

    await t.step("session:unloadModule makes the next require run the file again", async () => {
      const answer = await client.exchange([update(13, null)]);
      assert.equal(last(answer, 12), 2);
    });

    await t.step("diag and ui.log with ui-engine's numeric levels", () => {
      const find = (text: string) => log.lines.find((line) => line.message.includes(text));
      assert.equal(find("counter app at verbosity 0")?.level, "info");
      assert.equal(find("counter app at verbosity 2")?.level, "debug");
      assert.equal(find("diag 1: counter loaded")?.level, "debug");
    });
  }, { log });
});

Deno.test("ui-engine demo layout: each app as main.lua, and edits seen by new sessions", async (t) => {
  const dir = await copySite();
  try {
    await t.step("lua/main.lua pointed at another app serves that app", async () => {
      await Deno.remove(`${dir}/lua/main.lua`);
      await Deno.symlink("notes.lua", `${dir}/lua/main.lua`);
      const harness = await Harness.start("", { dir });
      try {
        const client = await harness.connect();
        await client.exchange([
          watch(1),
          create(2, 1, { path: "text" }),
          create(3, 1, { path: "save()", access: "action" }),
          create(4, 1, { path: "summary()" }),
        ]);
        const answer = await client.exchange([update(2, "hello"), update(3, null)]);
        assert.equal(last(answer, 4), "count 1: hello");
      } finally {
        await harness.close();
      }
    });

    await t.step("without --hotload, a new session runs the edited files", async () => {
      await Deno.remove(`${dir}/lua/main.lua`);
      await Deno.symlink("counter.lua", `${dir}/lua/main.lua`);
      const harness = await Harness.start("", { dir });
      try {
        const before = await harness.connect();
        const old = await before.exchange([watch(1), create(2, 1, { path: "label()" })]);
        assert.equal(last(old, 2), "count 0");
        const util = `${dir}/apps/shared/util.lua`;
        const text = await Deno.readTextFile(util);
        await Deno.writeTextFile(util, text.replace('"count "', '"n="'));
        const after = await harness.connect();
        const fresh = await after.exchange([watch(1), create(2, 1, { path: "label()" })]);
        assert.equal(last(fresh, 2), "n=0", "the new session ran the edited module");
        const kept = await before.exchange([
          create(3, 1, { path: "add()", access: "action" }),
          update(3, null),
        ]);
        assert.equal(last(kept, 2), "count 1", "a running session keeps the code it ran");
      } finally {
        await harness.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
