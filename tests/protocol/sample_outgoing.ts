/**
 * A batch holding one of everything, and a readable form of a frame, shared by the outgoing and
 * batcher tests.
 */
import { emptyOutgoing, type Outgoing } from "../../src/protocol/outgoing.ts";

/** A wire message, as parsed from a frame. */
// deno-lint-ignore no-explicit-any
export type Wire = { type: string; data: any };

/** `type:varId` for each message, in order. */
export function describe(messages: Wire[]): string[] {
  return messages.map((m) => `${m.type}:${m.data.varId ?? "-"}`);
}

/** An error, updates of every priority out of order, two destroys and a viewdef. */
export function sample(): Outgoing {
  const out = emptyOutgoing();
  out.errors.push({ varId: 9, code: "path-failure", description: "nil" });
  out.updates[2].push({ varId: 5, json: '"low"' });
  out.updates[0].push({ varId: 3, json: '"high"' });
  out.updates[1].push({ varId: 4, json: "[1,2]", properties: { type: "" } });
  out.destroys.push(7, 6);
  out.viewdefs = { "App.DEFAULT": "<template>a</template>" };
  return out;
}
