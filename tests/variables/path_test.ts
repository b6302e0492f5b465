/**
 * Tests for src/variables/path.ts: path syntax (SPEC 6).
 */
import assert from "node:assert/strict";
import {
  lastSegment,
  parsePath,
  parseQuery,
  PathSyntaxError,
  type Segment,
} from "../../src/variables/path.ts";

const decoder = new TextDecoder();

/** A readable form of segments: `name`, `#index->position`, `name()`, `name(_)`. */
function show(segments: Segment[]): string[] {
  return segments.map((segment) => {
    switch (segment.kind) {
      case "field":
        assert.equal(decoder.decode(segment.key), segment.name);
        return segment.name;
      case "index":
        return `#${segment.index}->${segment.position}`;
      case "call":
        assert.equal(decoder.decode(segment.key), segment.name);
        return segment.withValue ? `${segment.name}(_)` : `${segment.name}()`;
    }
  });
}

Deno.test("parsePath segments", async (t) => {
  await t.step("fields separated by dots", () => {
    const path = parsePath("contact.address.city");
    assert.deepEqual(show(path.segments), ["contact", "address", "city"]);
    assert.equal(path.up, 0);
    assert.equal(path.text, "contact.address.city");
  });
  await t.step("integers are 0-based indexes mapped to Lua index + 1", () => {
    assert.deepEqual(show(parsePath("items.0.name").segments), ["items", "#0->1", "name"]);
    assert.deepEqual(show(parsePath("7").segments), ["#7->8"]);
    assert.deepEqual(show(parsePath("m.10.20").segments), ["m", "#10->11", "#20->21"]);
  });
  await t.step("method calls", () => {
    assert.deepEqual(show(parsePath("name()").segments), ["name()"]);
    assert.deepEqual(show(parsePath("a.list().0.label()").segments), [
      "a",
      "list()",
      "#0->1",
      "label()",
    ]);
  });
  await t.step("a setter call with the value, only last", () => {
    assert.deepEqual(show(parsePath("contact.rename(_)").segments), ["contact", "rename(_)"]);
  });
  await t.step("the empty path has no segments", () => {
    const path = parsePath("");
    assert.deepEqual(path.segments, []);
    assert.equal(path.up, 0);
    assert.deepEqual(path.properties, {});
  });
  await t.step("non-numeric names that contain digits are fields", () => {
    assert.deepEqual(show(parsePath("a1.1a.-1").segments), ["a1", "1a", "-1"]);
  });
  await t.step("lastSegment", () => {
    assert.deepEqual(show([lastSegment(parsePath("a.b()")) as Segment]), ["b()"]);
    assert.equal(lastSegment(parsePath("")), undefined);
  });
});

Deno.test("parsePath parent steps", async (t) => {
  await t.step("'..' alone is one step up", () => {
    const path = parsePath("..");
    assert.equal(path.up, 1);
    assert.deepEqual(path.segments, []);
  });
  await t.step("'..' then a field, written ...name or ../name", () => {
    for (const text of ["...name", "../name"]) {
      const path = parsePath(text);
      assert.equal(path.up, 1, text);
      assert.deepEqual(show(path.segments), ["name"], text);
    }
  });
  await t.step("several steps up", () => {
    // Dot-joined segments: "..", "..", "x" is "......x".
    for (const text of [".....", "../..", "......x", "../../x"]) {
      const path = parsePath(text);
      assert.equal(path.up, 2, text);
    }
    assert.deepEqual(show(parsePath("../../x.y").segments), ["x", "y"]);
  });
  await t.step("'..' in the middle of a path is not a step up", () => {
    assert.throws(() => parsePath("a..b"), PathSyntaxError);
  });
});

Deno.test("parsePath errors", async (t) => {
  const bad = [
    ["a..b", /Empty segment/],
    ["a.", /Empty segment/],
    [".a", /Empty segment|'\.\.'/],
    ["set(_).name", /Only the last segment/],
    ["a(b)", /Bad call segment/],
    ["a(", /Bad call segment/],
    ["a)", /Bad call segment/],
    ["()", /Bad call segment/],
    ["..x", /'\.\.'/],
    ["99999999999", /Index too large/],
    ["2147483647", /Index too large/],
  ] as const;
  for (const [text, message] of bad) {
    await t.step(`${JSON.stringify(text)} is refused`, () => {
      assert.throws(() => parsePath(text), (error: unknown) => {
        assert.ok(error instanceof PathSyntaxError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
  await t.step("the largest allowed index", () => {
    assert.deepEqual(show(parsePath("2147483646").segments), ["#2147483646->2147483647"]);
  });
});

Deno.test("path query properties", async (t) => {
  await t.step("k=v pairs and bare flags", () => {
    const path = parsePath("contacts?wrapper=lua.ViewList&itemWrapper=ContactPresenter&keypress");
    assert.deepEqual(show(path.segments), ["contacts"]);
    assert.equal(path.text, "contacts");
    assert.deepEqual(path.properties, {
      wrapper: "lua.ViewList",
      itemWrapper: "ContactPresenter",
      keypress: "true",
    });
  });
  await t.step("a query on the empty path", () => {
    const path = parsePath("?create=Thing");
    assert.deepEqual(path.segments, []);
    assert.deepEqual(path.properties, { create: "Thing" });
  });
  await t.step("the query does not affect the segments of a call path", () => {
    const path = parsePath("save()?access=action");
    assert.deepEqual(show(path.segments), ["save()"]);
    assert.deepEqual(path.properties, { access: "action" });
  });
  await t.step("percent-encoding and + are decoded", () => {
    assert.deepEqual(parseQuery("a=x%20y&b=1+2&c%3D=%26"), { a: "x y", b: "1 2", "c=": "&" });
  });
  await t.step("bad percent-encoding is kept as written", () => {
    assert.deepEqual(parseQuery("a=%zz"), { a: "%zz" });
  });
  await t.step("empty pairs are skipped and later pairs win", () => {
    assert.deepEqual(parseQuery("&a=1&&a=2&"), { a: "2" });
  });
  await t.step("an empty value stays empty", () => {
    assert.deepEqual(parseQuery("a=&b"), { a: "", b: "true" });
  });
  await t.step("only the first ? starts the query", () => {
    assert.deepEqual(parsePath("x?q=a?b").properties, { q: "a?b" });
  });
});
