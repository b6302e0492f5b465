/**
 * Tests for the likely-typo warning (src/session/typo_warnings.ts, wired through the session's
 * value world): one log line per session, type and path; none for declared fields, plain
 * tables or repeats; under `--dev` one `Possible typo` notice with the next batch.
 */
import assert from "node:assert/strict";
import { createLogger, silentLogger } from "../../src/log.ts";
import { encodeFrame, type Outgoing } from "../../src/protocol/outgoing.ts";
import { parseMessage } from "../../src/protocol/messages.ts";
import { LuaSession } from "../../src/session/lua_session.ts";
import { createTypoWarnings } from "../../src/session/typo_warnings.ts";
import { inMemorySite } from "../../src/site/in_memory_site.ts";

// deno-lint-ignore no-explicit-any
type Wire = { type: string; data: any };

const MAIN = `
Contact = session:prototype("Contact", {name = "", email = "", spouse = EMPTY})
function Contact:new(name)
  local contact = session:create(Contact, {name = name})
  contact.nickname = nil -- declared only here, and nil
  return contact
end
App = session:prototype("App", {contacts = EMPTY, current = EMPTY})
app = App:new()
app.contacts = {Contact:new("ann"), Contact:new("bob")}
app.current = app.contacts[1]
app.settings = {theme = "dark"} -- a plain table: no prototype to compare with
session:createAppVariable(app)
`;

const VIEWDEFS = {
  "App.DEFAULT.html": "<template>app</template>",
  "Contact.DEFAULT.html": "<template>contact</template>",
};

function makeSession(dev: boolean) {
  const lines: string[] = [];
  const session = LuaSession.create({
    vendedId: "1",
    site: inMemorySite({ lua: { "main.lua": MAIN }, viewdefs: VIEWDEFS }),
    log: createLogger({ level: "warn", write: (line) => lines.push(line) }),
    instructionBudget: 1_000_000,
    maxVariables: 1000,
    inlineLua: false,
    openPaths: true,
    dev,
  });
  let id = 1;
  const send = async (...messages: unknown[]): Promise<Wire[]> => {
    const items = messages.map((message) => parseMessage(message));
    const out: Outgoing = await session.handleFrame({ userEvent: true, items });
    return JSON.parse(encodeFrame(out));
  };
  /** Binds paths under the app variable; returns the frame. */
  const bind = (...paths: string[]) =>
    send(
      ...paths.map((path) => ({
        type: "create",
        data: { id: ++id, parentId: 1, properties: { path } },
      })),
    );
  const typos = () => lines.filter((line) => line.includes("(a typo?)"));
  return { session, send, bind, typos };
}

const errorsOf = (frame: Wire[]) => frame.filter((m) => m.type === "error").map((m) => m.data);

Deno.test("the likely-typo warning", async (t) => {
  const h = makeSession(false);
  await h.send({ type: "watch", data: { varId: 1 } });

  await t.step("a field no prototype declares is logged once, naming type and path", async () => {
    const frame = await h.bind("current.nmae");
    assert.equal(h.typos().length, 1);
    assert.match(
      h.typos()[0] ?? "",
      /^WARN .* Path 'current\.nmae': field 'nmae' is nil on type Contact/,
    );
    // Production: only the log line; the client hears nothing.
    assert.deepEqual(errorsOf(frame), []);
  });

  await t.step("the same path again, and every later batch, add nothing", async () => {
    await h.bind("current.nmae");
    await h.send({ type: "update", data: { varId: 2, value: "x" } });
    h.session.evaluate("app.current = app.contacts[2]");
    await h.send({ type: "watch", data: { varId: 1 } });
    assert.equal(h.typos().length, 1);
  });

  await t.step("declared fields that are nil are not warned", async () => {
    // spouse: {spouse = EMPTY}; nickname: set to nil in new; email: a prototype field.
    await h.bind("current.spouse", "current.nickname", "current.spouse.name");
    h.session.evaluate("app.current.email = nil");
    await h.bind("current.email");
    assert.equal(h.typos().length, 1);
  });

  await t.step("plain tables (no prototype) are not warned", async () => {
    await h.bind("settings.colour", "settings.theme");
    assert.equal(h.typos().length, 1);
  });

  await t.step("another path is warned once, with the object's own type", async () => {
    await h.bind("titel", "titel");
    assert.equal(h.typos().length, 2);
    assert.match(h.typos()[1] ?? "", /Path 'titel': field 'titel' is nil on type App/);
  });

  await t.step("a typo part way is warned at the nil segment", async () => {
    await h.bind("curent.name");
    assert.equal(h.typos().length, 3);
    assert.match(h.typos()[2] ?? "", /Path 'curent\.name': field 'curent'/);
  });

  h.session.shutdown();
});

Deno.test("under --dev a likely typo is also a notice for the overlay", async (t) => {
  const h = makeSession(true);
  await h.send({ type: "watch", data: { varId: 1 } });

  await t.step("the batch that bound it carries one Possible typo notice", async () => {
    const frame = await h.bind("current.nmae", "current.name");
    const errors = errorsOf(frame);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, "path-failure");
    assert.equal(errors[0].varId, undefined);
    assert.equal(errors[0].details.kind, "Possible typo");
    assert.match(errors[0].details.message, /field 'nmae' is nil on type Contact/);
  });

  await t.step("the next clean batch clears the overlay and sends no notice again", async () => {
    const frame = await h.bind("current.nmae");
    assert.deepEqual(errorsOf(frame), []);
    const clear = frame.find((m) => m.type === "update" && m.data.varId === 1);
    assert.equal(clear?.data.properties?.["ui-dev-error"], "");
    assert.equal(h.typos().length, 1);
  });

  h.session.shutdown();
});

Deno.test("the set of checked paths is capped", () => {
  const lines: string[] = [];
  const typos = createTypoWarnings({
    site: inMemorySite({ lua: { "main.lua": "x = 1" } }),
    log: createLogger({ level: "info", write: (line) => lines.push(line) }),
    maxPaths: 2,
  });
  assert.ok(typos.check("T", "a", "a"));
  assert.ok(typos.check("T", "b", "b"));
  assert.equal(typos.check("T", "c", "c"), undefined);
  assert.equal(typos.check("T", "d", "d"), undefined);
  assert.equal(typos.size, 2);
  assert.equal(lines.filter((line) => line.includes("stop here")).length, 1);
  // Another type with the same path is a path of its own; the built-in types are never warned.
  const fresh = createTypoWarnings({
    site: inMemorySite({ lua: { "main.lua": "" } }),
    log: silentLogger,
  });
  assert.ok(fresh.check("T", "a", "a"));
  assert.ok(fresh.check("U", "a", "a"));
  assert.equal(fresh.check("lua.ViewListItem", "itme", "itme"), undefined);
});
