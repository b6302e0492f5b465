import assert from "node:assert/strict";
import { createViewdefDelivery } from "../../src/session/viewdef_delivery.ts";
import { ViewdefStore } from "../../src/viewdefs/store.ts";
import { emptyOutgoing } from "../../src/protocol/outgoing.ts";

Deno.test("viewdef delivery", async (t) => {
  const store = new ViewdefStore(
    new Map([["App.DEFAULT", "<template>a</template>"], ["App.row", "<template>r</template>"]]),
  );
  const missing: string[] = [];
  const delivery = createViewdefDelivery(store, (type) => missing.push(type));

  await t.step("a type's templates go once; a type without any is reported once", () => {
    const first = emptyOutgoing();
    delivery.add(["App", "Nothing"], first);
    assert.deepEqual(Object.keys(first.viewdefs ?? {}).sort(), ["App.DEFAULT", "App.row"]);
    assert.deepEqual(missing, ["Nothing"]);
    const second = emptyOutgoing();
    delivery.add(["App", "Nothing"], second);
    assert.equal(second.viewdefs, undefined);
    assert.deepEqual(missing, ["Nothing"]);
  });

  await t.step("a hot-reloaded template goes only to a connection that has its type", () => {
    assert.equal(delivery.resend("App.row"), "<template>r</template>");
    assert.equal(delivery.resend("Other.DEFAULT"), undefined);
  });

  await t.step("a new connection is sent everything again", () => {
    delivery.reset();
    assert.equal(delivery.resend("App.row"), undefined);
    const out = emptyOutgoing();
    delivery.add(["App"], out);
    assert.ok(out.viewdefs?.["App.DEFAULT"]);
  });
});
