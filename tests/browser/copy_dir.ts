/**
 * Copies a folder recursively (test support for sites that a test edits).
 *
 * @module
 */

/**
 * Copies every file under `from` into `to` (created as needed).
 *
 * @example
 * ```ts
 * // await copy(fixture("client_site"), await Deno.makeTempDir());
 * ```
 */
export async function copy(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = `${from}/${entry.name}`;
    const target = `${to}/${entry.name}`;
    if (entry.isDirectory) await copy(source, target);
    else if (entry.isFile) await Deno.copyFile(source, target);
  }
}
