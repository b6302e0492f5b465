/**
 * A LuaSession on an inline `main.lua`, with no server: send it messages, call its methods as
 * actions, and read every frame it produced. Templates are off (open paths), so a test may bind
 * any path.
 */
import { silentLogger } from "../../src/log.ts";
import { mergeOptions } from "../../src/options.ts";
import { encodeFrame, type Outgoing } from "../../src/protocol/outgoing.ts";
import { parseMessage } from "../../src/protocol/messages.ts";
import { LuaSession, type LuaSessionOptions } from "../../src/session/lua_session.ts";
import { ViewdefStore } from "../../src/viewdefs/store.ts";

/** A wire message as the tests read it. */
// deno-lint-ignore no-explicit-any
export type Wire = { type: string; data: any };

/** A session and the ways a test drives it. */
export interface SessionHarness {
  session: LuaSession;
  /** Everything sent to the session's sink, as wire messages. */
  sent: Wire[];
  /** One frame of messages (a user event); resolves with its answer. */
  send(...messages: unknown[]): Promise<Wire[]>;
  /** Binds `method()` as action variable `id` (once) and calls it; resolves with the answer. */
  act(id: number, method: string): Promise<Wire[]>;
}

/**
 * A session on `main` with the options given merged over small test defaults (open paths, a
 * 10,000,000-instruction budget, 1,000 variables).
 */
export function inlineSession(main: string, options: Partial<LuaSessionOptions> = {}): LuaSession {
  return LuaSession.create(mergeOptions<LuaSessionOptions>({
    vendedId: "1",
    site: {
      root: "/in-memory",
      lua: new Map([["main.lua", main]]),
      viewdefs: new ViewdefStore(new Map()),
      htmlDir: undefined,
    },
    log: silentLogger,
    instructionBudget: 10_000_000,
    maxVariables: 1000,
    inlineLua: false,
    openPaths: true,
  }, options));
}

/** {@link inlineSession}, with the ways a test drives it. */
export function sessionHarness(
  main: string,
  options: Partial<LuaSessionOptions> = {},
): SessionHarness {
  const session = inlineSession(main, options);
  const sent: Wire[] = [];
  session.attach((out: Outgoing) => sent.push(...JSON.parse(encodeFrame(out))));
  const send = async (...messages: unknown[]): Promise<Wire[]> => {
    const items = messages.map((message) => parseMessage(message));
    const out = await session.handleFrame({ userEvent: true, items });
    return JSON.parse(encodeFrame(out));
  };
  const created = new Set<number>();
  const act = async (id: number, method: string) => {
    if (!created.has(id)) {
      created.add(id);
      await send({
        type: "create",
        data: { id, parentId: 1, properties: { path: `${method}()`, access: "action" } },
      });
    }
    return send({ type: "update", data: { varId: id, value: null } });
  };
  return { session, sent, send, act };
}
