/**
 * A session's Lua data as a snapshot, and back (issue: sessions that survive restarts): the app
 * object's graph with prototypes kept by name, plus a fingerprint of each prototype so that a
 * restore under changed code runs `mutate()` on the instances of the prototypes that changed,
 * as a hot reload does.
 *
 * What is not data is not saved: functions, coroutines and userdata held in the app's tables
 * (listed as dropped), timers, and variables the client made (it re-creates them on reconnect).
 *
 * @module
 */
import type { Result } from "../failure.ts";
import { lua, toLua } from "./fengari.ts";
import type { AppModel } from "./prototypes.ts";
import { decodeSnapshot, encodeSnapshot, type SnapshotOptions } from "./snapshot.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";

/** Fields a prototype always has; they say nothing about its shape. */
const IGNORED = new Set(["type", "__index", "new"]);

/** A saved session. */
export interface SavedSession {
  bytes: Uint8Array;
  /** Paths of values left out (functions and the like), at most a hundred. */
  dropped: string[];
}

/** A restored session. */
export interface RestoredSession {
  /** The app object, ready for `createAppVariable`. */
  app: LuaValue;
  /** Prototypes whose shape changed since the snapshot; their instances were mutated. */
  changed: string[];
  /** Prototype names the snapshot uses that the current code lacks (their uses became nil). */
  missing: string[];
  /** `mutate()` failures, one message each. */
  failures: string[];
}

/**
 * The `name → prototype` pairs of the app model's registry.
 *
 * @example
 * ```ts ignore
 * const prototypes = namedPrototypes(vm, appModel.registry); // Map { "Contact" => LuaObject }
 * ```
 */
export function namedPrototypes(vm: LuaVm, registry: LuaObject): Map<string, LuaObject> {
  const L = vm.L;
  const names = new Map<string, LuaObject>();
  const top = lua.lua_gettop(L);
  registry.push(L);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    const name = vm.read(-2);
    if (typeof name === "string" && lua.lua_type(L, -1) === lua.LUA_TTABLE) {
      names.set(name, vm.objectAt(-1));
    }
    lua.lua_pop(L, 1);
  }
  lua.lua_settop(L, top);
  return names;
}

/** A prototype's shape: each field's name with its kind, and scalar defaults with their value. */
function fingerprint(vm: LuaVm, proto: LuaObject): Map<string, string> {
  const L = vm.L;
  const fields = new Map<string, string>();
  const top = lua.lua_gettop(L);
  proto.push(L);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    const key = vm.read(-2);
    if (typeof key === "string" && !IGNORED.has(key)) {
      const value = vm.read(-1);
      fields.set(
        key,
        value !== null && typeof value === "object" ? value.kind : `${typeof value}:${value}`,
      );
    }
    lua.lua_pop(L, 1);
  }
  lua.lua_settop(L, top);
  return fields;
}

function fingerprintText(fields: Map<string, string>): string {
  return [...fields].map(([key, kind]) => `${key}=${kind}`).sort().join("\n");
}

/**
 * Saves the app object's data graph.
 *
 * @example
 * ```ts ignore
 * const saved = saveSession(vm, appModel, app);
 * if (saved.ok) await store.save(lease, saved.value.bytes);
 * ```
 */
export function saveSession(
  vm: LuaVm,
  appModel: AppModel,
  app: LuaValue,
  options: Partial<SnapshotOptions> = {},
): Result<SavedSession> {
  const references = namedPrototypes(vm, appModel.registry);
  const shapes: Record<string, string> = {};
  for (const [name, proto] of references) shapes[name] = fingerprintText(fingerprint(vm, proto));
  const L = vm.L;
  const top = lua.lua_gettop(L);
  lua.lua_createtable(L, 0, references.size);
  for (const [name, text] of Object.entries(shapes)) {
    vm.push(text);
    lua.lua_setfield(L, -2, toLua(name));
  }
  const prototypes = vm.objectAt(-1);
  lua.lua_settop(L, top);
  const encoded = encodeSnapshot(vm, { app, prototypes }, { ...options, references });
  if (!encoded.ok) return { ok: false, failure: { code: "limit", description: encoded.error } };
  return { ok: true, value: { bytes: encoded.bytes, dropped: encoded.dropped } };
}

/**
 * Restores an app object saved by {@link saveSession} into a VM that has run the app's code
 * (so its prototypes exist), then mutates the instances of prototypes that changed shape.
 *
 * @example
 * ```ts ignore
 * const restored = restoreSession(vm, appModel, bytes);
 * if (restored.ok) api.createAppVariable(restored.value.app, new Map());
 * ```
 */
export function restoreSession(
  vm: LuaVm,
  appModel: AppModel,
  bytes: Uint8Array,
  options: Partial<SnapshotOptions> = {},
): Result<RestoredSession> {
  const references = namedPrototypes(vm, appModel.registry);
  const known = new Set(references.values());
  const decoded = decodeSnapshot(vm, bytes, {
    ...options,
    references,
    onInstance: (instance, metatable) => {
      if (known.has(metatable)) appModel.track(metatable, instance);
    },
  });
  if (!decoded.ok) return { ok: false, failure: { code: "lua-error", description: decoded.error } };
  const saved = decoded.roots.get("prototypes") ?? null;
  const changed: string[] = [];
  const failures: string[] = [];
  for (const [name, proto] of references) {
    const now = fingerprint(vm, proto);
    const before = savedShape(vm, saved, name);
    if (before === undefined || before === fingerprintText(now)) continue;
    changed.push(name);
    const removed = before.split("\n").map((line) => line.slice(0, line.indexOf("=")))
      .filter((key) => key !== "" && !now.has(key));
    for (const instance of appModel.instancesOf(proto)) {
      failures.push(...mutate(vm, instance, removed));
    }
  }
  return {
    ok: true,
    value: { app: decoded.roots.get("app") ?? null, changed, missing: decoded.missing, failures },
  };
}

function savedShape(vm: LuaVm, saved: LuaValue, name: string): string | undefined {
  if (saved === null || typeof saved !== "object") return undefined;
  const L = vm.L;
  const top = lua.lua_gettop(L);
  saved.push(L);
  lua.lua_getfield(L, -1, toLua(name));
  const text = vm.read(-1);
  lua.lua_settop(L, top);
  return typeof text === "string" ? text : undefined;
}

/** Runs `instance:mutate()` (errors isolated) and clears the fields the prototype dropped. */
function mutate(vm: LuaVm, instance: LuaObject, removed: string[]): string[] {
  const L = vm.L;
  const failures: string[] = [];
  const top = lua.lua_gettop(L);
  instance.push(L);
  lua.lua_getfield(L, -1, toLua("mutate"));
  if (lua.lua_type(L, -1) === lua.LUA_TFUNCTION) {
    lua.lua_pushvalue(L, -2);
    const failure = vm.pcall(1, 0);
    if (failure) failures.push(failure.description);
  }
  lua.lua_settop(L, top);
  instance.push(L);
  for (const key of removed) {
    vm.push(key);
    lua.lua_pushnil(L);
    lua.lua_rawset(L, -3);
  }
  lua.lua_settop(L, top);
  return failures;
}
