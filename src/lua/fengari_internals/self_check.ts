/**
 * Everything this server knows of fengari's private layout lives in this folder, one module per
 * concern, each checked once (when it loads, or on first use) against fengari's public API:
 *
 * - `raw_reads.ts`: reading tables without the API (change detection's hot path);
 * - `shared_chunks.ts`: one compiled prototype per chunk and process, a closure per session;
 * - `operands.ts`: measuring string operands (the string cap, the `..` memory check);
 * - `number_cells.ts`: the cells' integer and float tests and the number formatters (exact
 *   numbers, `numbers.ts`);
 * - `allocations.ts`: fengari's allocating exports and its object graph (the memory budget).
 *
 * Each use has a fallback when its check fails (a different fengari): the fast path is off and
 * the public API does the work, or the feature is off and an error is logged by its user. This
 * module reports which are on.
 *
 * @module
 */
import { createLogger, type Logger } from "../../log.ts";
import { allocationHooksOn } from "./allocations.ts";
import { numberCellsOn } from "./number_cells.ts";
import { operandHooksOn } from "./operands.ts";
import { rawReadsOn } from "./raw_reads.ts";
import { sharedChunksOn } from "./shared_chunks.ts";
import { sharedStringsOn } from "./shared_strings.ts";

/** Which uses of fengari's internals matched its layout (and, for patches, are installed). */
export interface InternalsStatus {
  /** Raw table reads; off, reads go through the API. */
  rawReads: boolean;
  /** Compiled chunks shared between sessions; off, each load compiles. */
  sharedChunks: boolean;
  /** Library and API names shared between sessions; off, each session has its own copies. */
  sharedStrings: boolean;
  /** String operands can be measured: the string cap and the `..` memory check. */
  operandHooks: boolean;
  /** The allocation hooks and heap walk of the memory budget. */
  allocationHooks: boolean;
  /** Exact numbers are installed (false until `useExactNumbers` ran, or when it failed). */
  exactNumbers: boolean;
}

/**
 * Which internals matched fengari's layout; each that did not is replaced by the public API
 * (slower, same answers) or leaves its feature off.
 *
 * @example
 * ```ts
 * import { internalsStatus } from "./self_check.ts";
 * internalsStatus(); // { rawReads: true, sharedChunks: true, operandHooks: true, ... }
 * ```
 */
export function internalsStatus(): InternalsStatus {
  return {
    rawReads: rawReadsOn(),
    sharedChunks: sharedChunksOn(),
    sharedStrings: sharedStringsOn(),
    operandHooks: operandHooksOn(),
    allocationHooks: allocationHooksOn(),
    exactNumbers: numberCellsOn(),
  };
}

let reported = false;

/**
 * Logs an error naming each layout check that failed (the checks ran when their modules
 * loaded), once per process; returns the status.
 *
 * @example
 * ```ts
 * import { reportInternals } from "./self_check.ts";
 * reportInternals(); // logs nothing with fengari 0.1.5
 * ```
 */
export function reportInternals(
  logger: Logger = createLogger({ level: "error" }),
): InternalsStatus {
  const status = internalsStatus();
  const off = (
    ["rawReads", "sharedChunks", "sharedStrings", "operandHooks", "allocationHooks"] as const
  )
    .filter((name) => !status[name]);
  if (off.length > 0 && !reported) {
    reported = true;
    logger.error(`fengari internals changed; running without: ${off.join(", ")}`);
  }
  return status;
}
