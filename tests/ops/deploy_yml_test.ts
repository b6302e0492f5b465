/**
 * The GitHub Actions workflow in deploy.yml: checks on every push and pull request, a deploy to
 * Deno Deploy only for pushes to main, after the checks.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Job {
  needs?: string | string[];
  if?: string;
  "runs-on"?: string;
  env?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const text = await Deno.readTextFile(new URL("../../deploy.yml", import.meta.url));
const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));

function runs(job: Job): string[] {
  return job.steps.flatMap((step) => step.run === undefined ? [] : [step.run.replace(/\s+/g, " ")]);
}

function stepRunning(job: Job, pattern: RegExp): Step | undefined {
  return job.steps.find((step) => step.run !== undefined && pattern.test(step.run));
}

Deno.test("deploy.yml", async (t) => {
  let workflow: Workflow | undefined;

  await t.step("parses as a workflow with jobs", () => {
    workflow = parse(text) as Workflow;
    assert.equal(typeof workflow, "object");
    assert.equal(typeof workflow.on, "object");
    assert.equal(typeof workflow.jobs, "object");
  });
  const w = () => workflow as Workflow;

  const checkJob = () => {
    const entry = Object.entries(w().jobs).find(([, job]) =>
      stepRunning(job, /deno test/) !== undefined
    );
    assert.ok(entry, "no job runs deno test");
    return entry;
  };
  const deployJob = () => {
    const entry = Object.entries(w().jobs).find(([, job]) =>
      stepRunning(job, /deno deploy/) !== undefined
    );
    assert.ok(entry, "no job runs deno deploy");
    return entry;
  };

  await t.step("triggers on pushes to main and on pull requests", () => {
    const push = w().on.push as { branches?: string[] } | undefined;
    assert.ok(push, "no push trigger");
    assert.deepEqual(push.branches, ["main"]);
    assert.ok("pull_request" in w().on, "no pull_request trigger");
  });

  await t.step("the check job sets up Deno v2 and runs every check", () => {
    const [, job] = checkJob();
    assert.ok(job.steps.some((s) => s.uses?.startsWith("actions/checkout@")));
    const setup = job.steps.find((s) => s.uses?.startsWith("denoland/setup-deno@"));
    assert.ok(setup, "no denoland/setup-deno step");
    assert.equal(setup.with?.["deno-version"], "v2.x");
    const commands = runs(job);
    for (
      const expected of [
        /^deno fmt --check$/,
        /^deno lint$/,
        /^deno check --doc main\.ts src bench$/,
        /^deno check --doc --config tests\/deno\.json tests$/,
        /^deno test --config tests\/deno\.json --allow-all$/,
      ]
    ) {
      assert.ok(commands.some((c) => expected.test(c.trim())), `no step runs ${expected}`);
    }
  });

  await t.step("the check job installs Chromium with apt before the tests", () => {
    const [, job] = checkJob();
    const install = job.steps.findIndex((s) => /apt-get install .*chromium/.test(s.run ?? ""));
    const test = job.steps.findIndex((s) => /deno test/.test(s.run ?? ""));
    assert.ok(install >= 0, "no apt-get install chromium");
    assert.ok(install < test);
  });

  await t.step("the check job does not deploy and needs no secret", () => {
    const [, job] = checkJob();
    assert.ok(!JSON.stringify(job).includes("secrets."));
    assert.equal(stepRunning(job, /deno deploy/), undefined);
  });

  await t.step("the deploy job runs deno deploy --prod after the checks, only on push", () => {
    const [checkName] = checkJob();
    const [, job] = deployJob();
    const needs = typeof job.needs === "string" ? [job.needs] : job.needs ?? [];
    assert.ok(needs.includes(checkName), `deploy does not need ${checkName}`);
    assert.ok(job.if, "deploy job has no condition");
    assert.match(job.if, /github\.event_name == 'push'/);
    assert.ok(job.steps.some((s) => s.uses?.startsWith("denoland/setup-deno@")));
    const step = stepRunning(job, /deno deploy/) as Step;
    assert.match((step.run as string).replace(/\s+/g, " "), /\bdeno deploy --prod\b/);
  });

  await t.step("the deploy step gets DENO_DEPLOY_TOKEN from the secrets", () => {
    const [, job] = deployJob();
    const step = stepRunning(job, /deno deploy/) as Step;
    const env = { ...job.env, ...step.env };
    assert.match(env.DENO_DEPLOY_TOKEN ?? "", /^\$\{\{\s*secrets\.DENO_DEPLOY_TOKEN\s*\}\}$/);
  });

  await t.step("deno.json keeps a deploy section naming main.ts", () => {
    assert.equal(typeof denoJson.deploy, "object");
    assert.ok(JSON.stringify(denoJson.deploy).includes('"main.ts"'));
  });
});
