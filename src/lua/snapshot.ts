/**
 * Lua snapshots: the data graph reachable from named roots, encoded as bytes and decoded into
 * another VM (a restart, a redeploy, another instance).
 *
 * What is kept: tables (shared references and cycles stay shared), strings as bytes (NUL and
 * invalid UTF-8 included), integers and floats as such, booleans, metatables. Tables named in
 * `references` (prototypes) are kept by name, not copied: an instance's metatable, or a field
 * holding a prototype, points at the prototype of that name in the restoring VM, so code loaded
 * there (perhaps newer) applies. What is not data: functions, coroutines and userdata are
 * dropped (a field holding one is left out, as is a table key that is one); their paths come
 * back in `dropped` for the log.
 *
 * The walk is iterative (breadth first, ids in order of first appearance), so a chain of
 * 100,000 nested tables needs no JavaScript recursion, and it is bounded by a size and a table
 * count. Format: `snapshot_bytes.ts`; decoding: `snapshot_decode.ts`.
 *
 * @module
 */
import { lauxlib, lua, type LuaState, type LuaString } from "./fengari.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";
import {
  ByteWriter,
  HEADER_SIZE,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
  SnapshotFormatError,
  Tag,
  zigzag,
} from "./snapshot_bytes.ts";
import { mergeOptions } from "../options.ts";

export { type DecodeResult, decodeSnapshot } from "./snapshot_decode.ts";

/** Limits and named tables of {@link encodeSnapshot} and `decodeSnapshot`. */
export interface SnapshotOptions {
  /** Tables kept by name (prototypes): `name → table`. */
  references: ReadonlyMap<string, LuaObject>;
  /** Largest snapshot, in bytes. */
  maxBytes: number;
  /** Most tables in one snapshot. */
  maxTables: number;
  /** Most dropped paths listed (the count goes on past it). */
  maxDroppedPaths: number;
  /** Decoding: called for each table given a named metatable (a restored prototype instance). */
  onInstance?: (instance: LuaObject, metatable: LuaObject) => void;
}

/** The default limits: 32 MiB, a million tables, 100 dropped paths listed. */
export const DEFAULT_SNAPSHOT_OPTIONS: SnapshotOptions = {
  references: new Map(),
  maxBytes: 32 * 1024 * 1024,
  maxTables: 1_000_000,
  maxDroppedPaths: 100,
};

/** What {@link encodeSnapshot} returns. */
export type EncodeResult =
  | {
    ok: true;
    bytes: Uint8Array;
    /** Tables written. */
    tables: number;
    /** Paths of left-out values (`app.items[2].onClick`), at most `maxDroppedPaths`. */
    dropped: string[];
    /** How many values were left out in all. */
    droppedCount: number;
  }
  | { ok: false; error: string };

const KIND_NAMES = new Map<number, string>([
  [lua.LUA_TFUNCTION, "function"],
  [lua.LUA_TTHREAD, "coroutine"],
  [lua.LUA_TUSERDATA, "userdata"],
  [lua.LUA_TLIGHTUSERDATA, "userdata"],
]);

/**
 * Encodes the graph reachable from `roots` (`name → value`). Never throws: a graph over the
 * limits is `{ok: false}`.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { encodeSnapshot } from "./snapshot.ts";
 * const vm = new LuaVm();
 * vm.beginEntry();
 * const app = vm.evaluate("local t = {n = 1} t.self = t return t");
 * if (app.ok) {
 *   const result = encodeSnapshot(vm, { app: app.value[0] ?? null });
 *   // result.ok && result.bytes is the snapshot
 * }
 * ```
 */
export function encodeSnapshot(
  vm: LuaVm,
  roots: Readonly<Record<string, LuaValue>>,
  options: Partial<SnapshotOptions> = {},
): EncodeResult {
  const opts = mergeOptions(DEFAULT_SNAPSHOT_OPTIONS, options);
  const L = vm.L;
  const top = lua.lua_gettop(L);
  try {
    return new Encoder(L, opts).run(vm, roots);
  } catch (error) {
    if (error instanceof SnapshotFormatError) return { ok: false, error: error.message };
    const message = error instanceof Error ? error.message : "Lua error while walking the data";
    return { ok: false, error: `Snapshot failed: ${message}` };
  } finally {
    lua.lua_settop(L, top);
  }
}

/** One walk; the Lua stack holds the `id → table` list at `listIndex` while it runs. */
class Encoder {
  readonly #L: LuaState;
  readonly #opts: SnapshotOptions;
  readonly #out: ByteWriter;
  readonly #named = new Map<object, string>();
  readonly #tableIds = new Map<object, number>();
  readonly #strings = new Map<string, number>();
  readonly #latin1 = new TextDecoder("latin1");
  /** For each table id, the id it was first found in and the key it was found under. */
  readonly #parent: number[] = [];
  readonly #keyOf: (LuaString | number | string)[] = [];
  readonly #dropped: string[] = [];
  #droppedCount = 0;
  #listIndex = 0;

  constructor(L: LuaState, opts: SnapshotOptions) {
    this.#L = L;
    this.#opts = opts;
    this.#out = new ByteWriter(opts.maxBytes);
    for (const [name, table] of opts.references) this.#named.set(table.raw, name);
  }

  run(vm: LuaVm, roots: Readonly<Record<string, LuaValue>>): EncodeResult {
    const L = this.#L;
    const out = this.#out;
    lauxlib.luaL_checkstack(L, 8, null);
    lua.lua_createtable(L, 64, 0);
    this.#listIndex = lua.lua_gettop(L);
    for (let i = 0; i < HEADER_SIZE; i++) out.byte(0);
    const names = Object.keys(roots);
    out.varint(names.length);
    for (const name of names) {
      this.#writeString(new TextEncoder().encode(name));
      vm.push(roots[name] ?? null, L);
      this.#writeValue(-1, -1, name);
      lua.lua_pop(L, 1);
    }
    // Breadth first: table records in id order; the list grows while it is walked.
    for (let id = 0; id < this.#parent.length; id++) {
      lua.lua_rawgeti(L, this.#listIndex, id + 1);
      const table = lua.lua_gettop(L);
      if (lua.lua_getmetatable(L, table)) {
        this.#writeValue(-1, id, "[metatable]");
        lua.lua_pop(L, 1);
      } else out.byte(Tag.nil);
      // The record gives its pair count first: one pass counts the kept pairs, one writes them.
      let count = 0;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, table) !== 0) {
        if (this.#isData(-2) && this.#isData(-1)) count++;
        lua.lua_pop(L, 1);
      }
      out.varint(count);
      lua.lua_pushnil(L);
      while (lua.lua_next(L, table) !== 0) {
        if (!this.#isData(-2)) this.#drop(id, "[key]", lua.lua_type(L, -2));
        else if (!this.#isData(-1)) this.#drop(id, this.#keyAt(-2), lua.lua_type(L, -1));
        else {
          const key = this.#keyAt(-2);
          this.#writeValue(-2, id, key);
          this.#writeValue(-1, id, key);
        }
        lua.lua_pop(L, 1);
      }
      lua.lua_settop(L, table - 1);
    }
    out.u32At(HEADER_SIZE - 8, out.length - HEADER_SIZE);
    out.u32At(HEADER_SIZE - 4, this.#parent.length);
    const bytes = out.finish();
    bytes.set(SNAPSHOT_MAGIC, 0);
    bytes[4] = SNAPSHOT_VERSION;
    return {
      ok: true,
      bytes,
      tables: this.#parent.length,
      dropped: this.#dropped,
      droppedCount: this.#droppedCount,
    };
  }

  #isData(idx: number): boolean {
    return !KIND_NAMES.has(lua.lua_type(this.#L, idx));
  }

  /** The key at `idx`, as remembered for paths (never converts the key in place). */
  #keyAt(idx: number): LuaString | number | string {
    const L = this.#L;
    const type = lua.lua_type(L, idx);
    if (type === lua.LUA_TSTRING) return lua.lua_tolstring(L, idx) as LuaString;
    if (type === lua.LUA_TNUMBER) return lua.lua_tonumber(L, idx);
    if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, idx) ? "[true]" : "[false]";
    return "[table]";
  }

  #writeValue(idx: number, parent: number, key: LuaString | number | string): void {
    const L = this.#L;
    const out = this.#out;
    switch (lua.lua_type(L, idx)) {
      case lua.LUA_TNIL:
      case lua.LUA_TNONE:
        return out.byte(Tag.nil);
      case lua.LUA_TBOOLEAN:
        return out.byte(lua.lua_toboolean(L, idx) ? Tag.true : Tag.false);
      case lua.LUA_TNUMBER:
        // Negative zero is integral but not an integer: it keeps its sign as a float.
        if (lua.lua_isinteger(L, idx) && !Object.is(lua.lua_tonumber(L, idx), -0)) {
          out.byte(Tag.integer);
          return out.varint(zigzag(lua.lua_tointeger(L, idx)));
        }
        out.byte(Tag.float);
        return out.float(lua.lua_tonumber(L, idx));
      case lua.LUA_TSTRING:
        return this.#writeString(lua.lua_tolstring(L, idx) as LuaString);
      case lua.LUA_TTABLE:
        return this.#writeTable(idx, parent, key);
      default:
        // Only roots and metatables get here: entries are filtered before.
        this.#drop(parent, key, lua.lua_type(L, idx));
        return out.byte(Tag.nil);
    }
  }

  #writeString(bytes: LuaString): void {
    const out = this.#out;
    const text = this.#latin1.decode(bytes);
    const known = this.#strings.get(text);
    if (known !== undefined) {
      out.byte(Tag.string);
      return out.varint(known);
    }
    this.#strings.set(text, this.#strings.size);
    out.byte(Tag.newString);
    out.varint(bytes.length);
    out.bytes(bytes);
  }

  #writeTable(idx: number, parent: number, key: LuaString | number | string): void {
    const L = this.#L;
    const out = this.#out;
    const pointer = lua.lua_topointer(L, idx) as object;
    const name = this.#named.get(pointer);
    if (name !== undefined) {
      out.byte(Tag.named);
      return this.#writeString(new TextEncoder().encode(name));
    }
    let id = this.#tableIds.get(pointer);
    if (id === undefined) {
      id = this.#parent.length;
      if (id >= this.#opts.maxTables) {
        throw new SnapshotFormatError(
          `Snapshot has more than its limit of ${this.#opts.maxTables} tables`,
        );
      }
      this.#tableIds.set(pointer, id);
      this.#parent.push(parent);
      this.#keyOf.push(key);
      lua.lua_pushvalue(L, idx);
      lua.lua_rawseti(L, this.#listIndex, id + 1);
    }
    out.byte(Tag.table);
    out.varint(id);
  }

  #drop(parent: number, key: LuaString | number | string, type: number): void {
    this.#droppedCount++;
    if (this.#dropped.length >= this.#opts.maxDroppedPaths) return;
    const kind = KIND_NAMES.get(type) ?? "value";
    this.#dropped.push(`${this.#path(parent, key)} (${kind})`);
  }

  #path(parent: number, key: LuaString | number | string): string {
    const parts = [formatKey(key)];
    for (let id = parent; id >= 0; id = this.#parent[id] as number) {
      parts.push(formatKey(this.#keyOf[id] as LuaString | number | string));
    }
    return parts.reverse().join("").replace(/^\./, "");
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function formatKey(key: LuaString | number | string): string {
  if (typeof key === "number") return `[${key}]`;
  if (typeof key === "string") return key.startsWith("[") || key === "" ? key : `.${key}`;
  const text = new TextDecoder().decode(key);
  return IDENTIFIER.test(text) ? `.${text}` : `[${JSON.stringify(text)}]`;
}
