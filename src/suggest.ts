/**
 * "Did you mean" for mistyped words (command-line options), by edit distance.
 *
 * @module
 */

/**
 * Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`.
 *
 * @example
 * ```ts
 * import { editDistance } from "./suggest.ts";
 * editDistance("prot", "port"); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] as number[];
      const same = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + same,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * The first candidate that starts with `word` (of three letters or more), else the one closest
 * to it when close enough to be a likely typo; otherwise `undefined`.
 *
 * @example
 * ```ts
 * import { closest } from "./suggest.ts";
 * closest("prot", ["port", "host"]); // "port"
 * closest("session", ["session-timeout", "port"]); // "session-timeout"
 * closest("zzz", ["port"]); // undefined
 * ```
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const extended = lower.length >= 3 ? candidates.find((c) => c.startsWith(lower)) : undefined;
  if (extended !== undefined) return extended;
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best !== undefined && bestDistance <= limit && bestDistance < word.length
    ? best
    : undefined;
}
