/**
 * The folder graph of src/: a frame travels socket → session → protocol → variables, with lua/ as
 * the implementation of the variable layer's value world. These tests read the imports of every
 * source file and fail on an import against that direction or a cycle between folders.
 */
import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm;

/** Every source file of src/ (the browser client excepted: it is served, not imported) and its imports. */
async function importsOf(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const walk = async (dir: URL, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory) {
        if (name !== "client") await walk(new URL(`${entry.name}/`, dir), `${name}/`);
      } else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(new URL(entry.name, dir));
        const targets: string[] = [];
        for (const match of text.matchAll(IMPORT)) {
          const specifier = match[1] ?? match[2];
          if (!specifier?.startsWith(".")) continue;
          const resolved = new URL(specifier, new URL(entry.name, dir)).href;
          if (resolved.startsWith(SRC.href)) targets.push(resolved.slice(SRC.href.length));
        }
        graph.set(name, targets);
      }
    }
  };
  await walk(SRC, "");
  return graph;
}

function folderOf(file: string): string {
  const at = file.indexOf("/");
  return at < 0 ? "." : file.slice(0, at);
}

Deno.test("src/ folder graph", async (t) => {
  const graph = await importsOf();
  const edges = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const from = folderOf(file);
      const to = folderOf(target);
      if (from === to || to === ".") continue;
      const set = edges.get(from) ?? new Set();
      set.add(to);
      edges.set(from, set);
    }
  }
  const offending = (folders: string[], forbidden: string[]) =>
    [...graph].flatMap(([file, targets]) =>
      folders.includes(folderOf(file))
        ? targets.filter((target) => forbidden.includes(folderOf(target))).map((target) =>
          `${file} → ${target}`
        )
        : []
    );

  await t.step("variables/ and protocol/ know neither Lua nor the server", () => {
    assert.deepEqual(offending(["variables", "protocol"], ["lua", "server", "session"]), []);
  });
  await t.step("variables/ does not know the protocol", () => {
    assert.deepEqual(offending(["variables"], ["protocol"]), []);
  });
  await t.step("nothing below the edge knows the server", () => {
    assert.deepEqual(
      offending(["session", "lua", "site", "viewdefs", "variables", "protocol"], ["server"]),
      [],
    );
  });
  await t.step("folders import each other without a cycle", () => {
    const cycles: string[] = [];
    const visit = (folder: string, path: string[]) => {
      if (path.includes(folder)) {
        cycles.push([...path.slice(path.indexOf(folder)), folder].join(" → "));
        return;
      }
      for (const next of edges.get(folder) ?? []) visit(next, [...path, folder]);
    };
    for (const folder of edges.keys()) visit(folder, []);
    assert.deepEqual(cycles, []);
  });
  await t.step("the graph was read", () => {
    assert.ok(graph.size > 30, `read ${graph.size} files`);
    assert.ok(edges.get("session")?.has("variables"));
  });
});
