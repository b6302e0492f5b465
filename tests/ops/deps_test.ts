/**
 * Test-only packages stay out of what `deno task start` downloads: the root deno.json's import
 * map holds what the server runs with, and tests/deno.json (the tests' own config) holds the
 * same entries plus the test-only ones.
 */
import assert from "node:assert/strict";
import { ROOT } from "./process.ts";

const TEST_ONLY = ["yaml", "playwright-core", "@sinonjs/fake-timers", "@shoelace-style/shoelace"];

type Config = {
  imports: Record<string, string>;
  compilerOptions: unknown;
  unstable?: string[];
};

async function read(path: string): Promise<Config> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}${path}`));
}

Deno.test("import maps", async (t) => {
  const root = await read("deno.json");
  const tests = await read("tests/deno.json");
  await t.step("the runtime map has no test-only package", () => {
    for (const name of TEST_ONLY) assert.equal(root.imports[name], undefined, name);
  });
  await t.step("the tests' map has every runtime entry, unchanged", () => {
    for (const [name, target] of Object.entries(root.imports)) {
      assert.equal(tests.imports[name], target, name);
    }
  });
  await t.step("the tests' map has the test-only packages", () => {
    for (const name of TEST_ONLY) assert.ok(tests.imports[name], name);
  });
  await t.step("both check the same way", () => {
    assert.deepEqual(tests.compilerOptions, root.compilerOptions);
    assert.deepEqual(tests.unstable, root.unstable);
  });
});
