// The session server inside a Hono app of your own, at /ui, serving the default app.
// Run: deno run -A examples/mount_at_ui.ts   (PORT and UI_SECRET from the environment)
import { Hono } from "hono";
import { luaUi } from "../mod.ts";

const app = new Hono();
app.get("/", (c) => c.html('<a href="/ui">Open the contact book</a>'));
const ui = luaUi({ config: { secret: Deno.env.get("UI_SECRET") } });
app.route("/ui", ui);
const server = Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000) }, app.fetch);
Deno.addSignalListener("SIGTERM", () => ui.shutdown().then(() => server.shutdown()));
