/**
 * Builds a temporary site from ui-engine's `demo/` folder for the compatibility check: the folder
 * as shipped (its relative symbolic links kept as links, so the site loader resolves them as it
 * would in ui-engine's checkout), one app linked as `lua/main.lua`, the Shoelace CDN addresses of
 * its page pointed at a local copy of Shoelace from npm, and either ui-engine's own frontend or
 * the built-in client as the page.
 *
 * @module
 */

/** The demo apps: the Lua file `lua/main.lua` links to for each. */
export const DEMO_APPS = { contact: "contact.lua", adder: "adder.lua", tasks: "tasks.lua" };

/** A demo app's name. */
export type DemoApp = keyof typeof DEMO_APPS;

/** Which frontend the page loads: ui-engine's prebuilt one, or the built-in client. */
export type Frontend = "ui-engine" | "builtin";

/** Shoelace's self-contained build (`cdn/`), inside the npm package Deno downloaded. */
const SHOELACE_CDN = new URL("../cdn/", import.meta.resolve("@shoelace-style/shoelace")).pathname;

/** The CDN prefix ui-engine's page loads Shoelace from, whatever the version. */
const CDN_PREFIX = /https:\/\/cdn\.jsdelivr\.net\/npm\/@shoelace-style\/shoelace@[^/]+\/cdn\//g;

/**
 * The folder named by `UI_ENGINE_DIR`, checked: the check fails (never passes quietly) when the
 * variable is unset or the folder has no `demo/`.
 *
 * @example
 * ```ts ignore
 * const root = uiEngineDir(); // "/work/ui-engine"
 * ```
 */
export function uiEngineDir(): string {
  const dir = Deno.env.get("UI_ENGINE_DIR");
  if (!dir) {
    throw new Error(
      "UI_ENGINE_DIR is not set: point it at a checkout of ui-engine v0.21.0, e.g. " +
        "UI_ENGINE_DIR=/path/to/ui-engine deno task compat",
    );
  }
  try {
    if (!Deno.statSync(`${dir}/demo/lua`).isDirectory) throw new Error("not a folder");
    Deno.statSync(`${dir}/demo/html/index.html`);
  } catch {
    throw new Error(
      `UI_ENGINE_DIR=${dir} has no demo/lua and demo/html/index.html: is it a ui-engine checkout?`,
    );
  }
  return dir;
}

/** Copies a folder; symbolic links are re-made with the same (relative) target. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = `${from}/${entry.name}`;
    const target = `${to}/${entry.name}`;
    if (entry.isSymlink) await Deno.symlink(await Deno.readLink(source), target);
    else if (entry.isDirectory) await copyTree(source, target);
    else if (entry.isFile) await Deno.copyFile(source, target);
  }
}

/** The page with the built-in client: Shoelace from the local copy and one `ui-app` element. */
const BUILTIN_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>ui-engine demo on the built-in client</title>
    <link rel="stylesheet" href="/shoelace/themes/light.css">
    <link rel="stylesheet" href="/ui-engine-client.css">
    <script type="module" src="/shoelace/shoelace-autoloader.js"></script>
  </head>
  <body>
    <div ui-app></div>
    <div class="ui-status" hidden></div>
    <script type="module" src="/ui-engine-client.js"></script>
  </body>
</html>
`;

/**
 * Makes the temporary site for one app and one frontend; returns its path (remove it after).
 *
 * @example
 * ```ts ignore
 * const site = await prepareDemoSite(uiEngineDir(), "adder", "ui-engine");
 * ```
 */
export async function prepareDemoSite(
  root: string,
  app: DemoApp,
  frontend: Frontend,
): Promise<string> {
  const site = await Deno.makeTempDir({ prefix: `ui_engine_${app}_` });
  await copyTree(`${root}/demo`, site);
  await Deno.remove(`${site}/lua/main.lua`).catch(() => {});
  await Deno.symlink(DEMO_APPS[app], `${site}/lua/main.lua`);
  await copyTree(SHOELACE_CDN, `${site}/html/shoelace`);
  if (frontend === "ui-engine") {
    const page = await Deno.readTextFile(`${site}/html/index.html`);
    if (!page.match(CDN_PREFIX)) throw new Error("ui-engine's page no longer loads Shoelace's CDN");
    await Deno.writeTextFile(`${site}/html/index.html`, page.replace(CDN_PREFIX, "/shoelace/"));
  } else {
    for await (const entry of Deno.readDir(`${site}/html`)) {
      if (entry.isFile) await Deno.remove(`${site}/html/${entry.name}`);
    }
    await Deno.writeTextFile(`${site}/html/index.html`, BUILTIN_PAGE);
  }
  return site;
}
