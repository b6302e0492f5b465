/**
 * Splits a byte stream into text lines (for the bench processes' pipes).
 *
 * @module
 */

/**
 * The lines of a stream, without their newlines.
 *
 * @example
 * ```ts
 * import { lines } from "./lines.ts";
 * for await (const line of lines(Deno.stdin.readable)) console.log(line);
 * ```
 */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered) yield buffered;
}
