/**
 * Tests for src/variables/change_detection.ts over a world of plain JavaScript objects: the
 * variable layer's change detection needs no Lua.
 */
import assert from "node:assert/strict";
import type { Result } from "../../src/failure.ts";
import {
  ChangeDetector,
  type Changes,
  navigationValue,
  pathBase,
} from "../../src/variables/change_detection.ts";
import { parsePath, type Path } from "../../src/variables/path.ts";
import { VariableTree } from "../../src/variables/tree.ts";
import type { ValueWorld } from "../../src/variables/value_world.ts";
import type { Variable } from "../../src/variables/variable.ts";

type Plain = string | number | boolean | Record<string, unknown> | unknown[];

/** A world whose values are plain objects; objects travel as `{"obj": N}`, arrays as arrays. */
function plainWorld() {
  const ids = new Map<object, number>();
  const log: string[] = [];
  let entries = 0;
  const idOf = (value: object) => {
    let id = ids.get(value);
    if (id === undefined) ids.set(value, id = ids.size + 1);
    return id;
  };
  const field = (value: Plain | null, name: string): Plain | null => {
    if (value === null || typeof value !== "object") return null;
    return ((value as Record<string, unknown>)[name] ?? null) as Plain | null;
  };
  const encode = (value: Plain | null): string => {
    if (value === null) return "null";
    if (Array.isArray(value)) return `[${value.map((v) => encode(v as Plain)).join(",")}]`;
    if (typeof value === "object") return `{"obj":${idOf(value)}}`;
    return JSON.stringify(value);
  };
  const world: ValueWorld<Plain> = {
    beginEntry: () => void entries++,
    read(base, path: Path): Result<Plain | null> {
      let value = base;
      for (const segment of path.segments) {
        if (value === null) break;
        if (segment.kind === "call") {
          const method = field(value, segment.name);
          if (typeof method !== "function") {
            return { ok: false, failure: { code: "path-failure", description: "No method" } };
          }
          try {
            value = (method as (self: unknown) => Plain | null)(value);
          } catch (error) {
            return { ok: false, failure: { code: "lua-error", description: String(error) } };
          }
        } else if (segment.kind === "index") {
          value = Array.isArray(value) ? (value[segment.index] ?? null) as Plain | null : null;
        } else {
          value = field(value, segment.name);
        }
      }
      return { ok: true, value };
    },
    write: () => ({ ok: false, failure: { code: "path-failure", description: "Read only" } }),
    typeOf: (value) => {
      const type = field(value, "type");
      return typeof type === "string" ? type : "";
    },
    encode,
    decode: (json) => json as Plain | null,
    instantiate: () => ({ ok: true, value: {} }),
    wrap(variable, name) {
      log.push(`wrap ${variable.id} ${name}`);
      return { ok: true, value: { type: name, of: variable.value } };
    },
    dispose(variable) {
      log.push(`dispose ${variable.id}`);
    },
    wireValue: (wrapper) => wrapper,
    wrapperType: (wrapper, name) => world.typeOf(wrapper) || name,
  };
  return { world, log, entries: () => entries };
}

function emptyChanges(): Changes {
  return { updates: [[], [], []], errors: [] };
}

function setup() {
  const plain = plainWorld();
  const detector = new ChangeDetector(plain.world);
  const tree = new VariableTree<Plain>();
  const app: Record<string, unknown> = {
    type: "App",
    name: "ann",
    list: [1, 2],
    friend: { name: "bob" },
    broken: () => {
      throw new Error("getter failed");
    },
  };
  const root = tree.add({ id: 1, parent: undefined, origin: "lua", value: app });
  root.watch();
  const detect = () => {
    const out = emptyChanges();
    const types = new Set<string>();
    detector.detect(tree.roots(), out, types);
    return { out, types };
  };
  const child = (id: number, parent: Variable<Plain>, path: string, extra = {}) => {
    const variable = tree.add({
      id,
      parent,
      origin: "frontend",
      path: parsePath(path),
      watched: true,
      ...extra,
    });
    return variable;
  };
  return { plain, detector, tree, app, root, detect, child };
}

Deno.test("change detection over a plain world", async (t) => {
  const { plain, app, root, detect, child } = setup();

  await t.step("a watch sends the value and type, and reports the type as new", () => {
    const { out, types } = detect();
    assert.deepEqual(out.updates[1], [{
      varId: 1,
      json: '{"obj":1}',
      properties: { type: "App" },
    }]);
    assert.deepEqual([...types], ["App"]);
  });
  await t.step("an unchanged batch sends nothing", () => {
    const { out } = detect();
    assert.deepEqual(out, emptyChanges());
  });
  await t.step("children read through their parent, parents first", () => {
    child(2, root, "name");
    child(3, root, "list");
    const { out } = detect();
    assert.deepEqual(out.updates[1].map((u) => [u.varId, u.json]), [[2, '"ann"'], [3, "[1,2]"]]);
  });
  await t.step("a change sends only the changed variable", () => {
    app.name = "ada";
    const { out } = detect();
    assert.deepEqual(out.updates[1], [{ varId: 2, json: '"ada"' }]);
  });
  await t.step("priority groups updates", () => {
    const friend = child(4, root, "friend.name", { properties: new Map([["priority", "high"]]) });
    const { out } = detect();
    // A frontend-created variable's own properties are not echoed.
    assert.deepEqual(out.updates[0], [{ varId: 4, json: '"bob"' }]);
    assert.equal(friend.sentJson, '"bob"');
  });
  await t.step("a failing getter is reported once while it keeps failing", () => {
    child(5, root, "broken()");
    const first = detect().out;
    assert.equal(first.errors.length, 1);
    assert.equal(first.errors[0]?.varId, 5);
    assert.equal(first.errors[0]?.code, "lua-error");
    assert.deepEqual(detect().out.errors, []);
  });
  await t.step("an inactive variable and its subtree are skipped", () => {
    const hidden = child(6, root, "friend", { properties: new Map([["inactive", "true"]]) });
    child(7, hidden, "name");
    const { out } = detect();
    assert.ok(out.updates.flat().every((u) => u.varId !== 6 && u.varId !== 7));
  });
  await t.step("a wrapper is made for a changed value and disposed when replaced", () => {
    const wrapped = child(8, root, "list", { properties: new Map([["wrapper", "Box"]]) });
    const { out } = detect();
    assert.deepEqual(plain.log, ["wrap 8 Box"]);
    assert.equal(out.updates[1].find((u) => u.varId === 8)?.properties?.type, "Box");
    assert.equal(navigationValue(wrapped), wrapped.wrapper);
    app.list = [3];
    detect();
    assert.deepEqual(plain.log, ["wrap 8 Box", "wrap 8 Box", "dispose 8"]);
  });
  await t.step("each readable, active variable is one entry", () => {
    const before = plain.entries();
    detect();
    assert.equal(plain.entries() - before, 6); // 1, 2, 3, 4, 5 and 8; 6 and 7 are inactive
  });
});

Deno.test("change detection walks deep trees without recursion", () => {
  const { tree, root, detect } = setup();
  let parent = root;
  for (let id = 2; id <= 20_001; id++) {
    parent = tree.add({ id, parent, origin: "frontend", path: parsePath(".."), watched: true });
  }
  assert.equal(pathBase(parent), parent.parent?.parent?.value ?? null);
  const { out } = detect();
  assert.equal(out.updates.flat().length, 20_001);
  assert.equal(tree.remove(root).length, 20_001);
});
