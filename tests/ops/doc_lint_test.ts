/**
 * `deno doc --lint mod.ts`: the public API is documented. The one finding allowed is Deno's
 * `private-type-ref` for a type of another package (`LuaUi extends Hono`, from npm:hono), which
 * Deno reports by mistake (denoland/deno#27364, fixed by denoland/deno#34339): anything else fails.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

Deno.test("deno doc --lint mod.ts", async () => {
  const { stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "mod.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  const findings = [...text.matchAll(/^error\[([a-z-]+)\]: (.*)$/gm)].map((m) =>
    `${m[1]}: ${m[2]}`
  );
  const allowed = "private-type-ref: public type 'LuaUi' references private type 'Hono'";
  assert.deepEqual(findings.filter((finding) => finding !== allowed), [], text);
  // Every finding was read: the count Deno reports is the count matched above.
  const reported = Number(/Found (\d+) documentation lint error/.exec(text)?.[1] ?? 0);
  assert.equal(reported, findings.length, text);
});
