/**
 * The one failure type: every way a frame, a path, a Lua call or a limit can fail is a
 * {@link Failure} with a SPEC 12 code, carried in a {@link Result} or thrown as a
 * {@link FailureError}, and sent to the client as the body of an `error` message.
 *
 * @module
 */

/** The error codes of SPEC 12. */
export type ErrorCode =
  | "bad-message"
  | "unknown-type"
  | "not-found"
  | "duplicate-id"
  | "bad-access"
  | "path-failure"
  | "lua-error"
  | "lua-timeout"
  | "lua-memory"
  | "forbidden"
  | "too-large"
  | "limit";

/** Why something failed; also the body of an `error` message on the wire. */
export interface Failure {
  /** The variable concerned, if any. */
  varId?: number;
  code: ErrorCode;
  /** A readable, sentence-case description. */
  description: string;
}

/** A value, or why there is none. */
export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/**
 * Builds a failure, leaving out `varId` when no variable is concerned.
 *
 * @example
 * ```ts
 * import { newFailure } from "./failure.ts";
 * newFailure("not-found", "Variable 7 does not exist", 7);
 * // { varId: 7, code: "not-found", description: "Variable 7 does not exist" }
 * ```
 */
export function newFailure(code: ErrorCode, description: string, varId?: number): Failure {
  return varId === undefined ? { code, description } : { varId, code, description };
}

/**
 * The same failure about another variable (a path's failure reported on the variable that read it).
 *
 * @example
 * ```ts
 * import { newFailure, onVariable } from "./failure.ts";
 * onVariable(newFailure("path-failure", "Nil at the path's start"), 4).varId; // 4
 * ```
 */
export function onVariable(cause: Failure, varId: number | undefined): Failure {
  return newFailure(cause.code, cause.description, varId);
}

/**
 * A failure thrown through code that cannot return a {@link Result}; it becomes an `error`
 * message and the session goes on.
 *
 * @example
 * ```ts
 * import { FailureError } from "./failure.ts";
 * const error = new FailureError("not-found", "Variable 7 does not exist", 7);
 * error.failure; // { varId: 7, code: "not-found", description: "Variable 7 does not exist" }
 * ```
 */
export class FailureError extends Error {
  /** What failed, as it is sent. */
  readonly failure: Failure;

  /** Creates an error with a code, a sentence-case description and an optional variable. */
  constructor(code: ErrorCode, description: string, varId?: number) {
    super(description);
    this.failure = newFailure(code, description, varId);
  }

  /** The SPEC 12 code. */
  get code(): ErrorCode {
    return this.failure.code;
  }

  /** Throws the failure of a result, or returns its value. */
  static unwrap<T>(result: Result<T>, varId?: number): T {
    if (result.ok) return result.value;
    const { code, description } = result.failure;
    throw new FailureError(code, description, varId ?? result.failure.varId);
  }
}
