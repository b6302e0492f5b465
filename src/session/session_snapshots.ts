/**
 * A session's snapshot and restore, over its parts (see `session_parts.ts`): the app object's
 * data saved with its prototypes' shapes, and restored into a session that has run `main.lua`
 * (variable 1 then holds the restored app object, keeping its properties).
 *
 * @module
 */
import type { Failure, Result } from "../failure.ts";
import { restoreSession, type SavedSession, saveSession } from "../lua/session_snapshot.ts";
import type { Logger } from "../log.ts";
import type { SessionParts } from "./session_parts.ts";

/** What the last snapshot left out, and where to say so when that changes. */
export interface DroppedPaths {
  paths: string;
  log(line: string): void;
}

/**
 * Saves the app object's data; values that are not data (functions and the like) are logged
 * when what is left out changes.
 *
 * @example
 * ```ts ignore
 * const saved = saveParts(parts, { paths: "", log: (line) => console.warn(line) });
 * ```
 */
export function saveParts(parts: SessionParts, dropped: DroppedPaths): Result<SavedSession> {
  const saved = saveSession(parts.vm, parts.appModel, parts.api.getApp());
  if (!saved.ok) return saved;
  const paths = saved.value.dropped.join(", ");
  if (paths !== dropped.paths && paths !== "") {
    dropped.log(`Snapshot leaves out what is not data: ${paths}`);
  }
  dropped.paths = paths;
  return saved;
}

/**
 * Restores the app object from a snapshot and makes it variable 1's value; false (logged)
 * when the snapshot cannot be restored. `mutateFailed` reports each failing `mutate()`.
 *
 * @example
 * ```ts ignore
 * if (!restoreParts(parts, bytes, log, report)) startFresh();
 * ```
 */
export function restoreParts(
  parts: SessionParts,
  bytes: Uint8Array,
  log: Logger,
  mutateFailed: (failure: Failure) => void,
): boolean {
  const restored = restoreSession(parts.vm, parts.appModel, bytes);
  if (!restored.ok) {
    log.error(`Session restore failed: ${restored.failure.description}`);
    return false;
  }
  const { app, changed, missing, failures } = restored.value;
  const props = new Map(parts.backend.tree.get(1)?.properties ?? []);
  parts.api.createAppVariable(app, props);
  if (changed.length > 0) log.info(`Restored under changed prototypes: ${changed.join(", ")}`);
  if (missing.length > 0) log.warn(`Restored without prototypes: ${missing.join(", ")}`);
  for (const message of failures) mutateFailed({ code: "lua-error", description: message });
  log.info("Session restored");
  return true;
}
