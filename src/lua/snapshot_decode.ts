/**
 * Decoding of Lua snapshots (see `snapshot.ts`) into a VM. Every length, id and tag is checked
 * against the header and the bytes left before it is used, and the walk is a loop over the
 * records, so a corrupt or truncated snapshot ends with `{ok: false}`: it neither throws nor
 * hangs, and the Lua stack is left as it was.
 *
 * @module
 */
import { lauxlib, lua, type LuaState } from "./fengari.ts";
import type { LuaValue, LuaVm } from "./vm.ts";
import {
  ByteReader,
  HEADER_SIZE,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
  SnapshotFormatError,
  Tag,
  unzigzag,
} from "./snapshot_bytes.ts";
import { DEFAULT_SNAPSHOT_OPTIONS, type SnapshotOptions } from "./snapshot.ts";
import { mergeOptions } from "../options.ts";

/** What {@link decodeSnapshot} returns. */
export type DecodeResult =
  | {
    ok: true;
    /** The roots by name, tables as objects of the VM decoded into. */
    roots: Map<string, LuaValue>;
    /** Tables made. */
    tables: number;
    /** Names the snapshot refers to that `references` lacks (their uses became nil). */
    missing: string[];
  }
  | { ok: false; error: string };

/**
 * Rebuilds a snapshot's graph in `vm`; named tables are looked up in `references`.
 *
 * @example
 * ```ts
 * import { LuaVm } from "./vm.ts";
 * import { decodeSnapshot, encodeSnapshot } from "./snapshot.ts";
 * const vm = new LuaVm();
 * const encoded = encodeSnapshot(vm, { answer: 42 });
 * if (encoded.ok) {
 *   const decoded = decodeSnapshot(new LuaVm(), encoded.bytes);
 *   // decoded.ok && decoded.roots.get("answer") === 42
 * }
 * ```
 */
export function decodeSnapshot(
  vm: LuaVm,
  bytes: Uint8Array,
  options: Partial<SnapshotOptions> = {},
): DecodeResult {
  const opts = mergeOptions(DEFAULT_SNAPSHOT_OPTIONS, options);
  const L = vm.L;
  const top = lua.lua_gettop(L);
  try {
    return new Decoder(vm, bytes, opts).run();
  } catch (error) {
    if (error instanceof SnapshotFormatError) return { ok: false, error: error.message };
    const message = error instanceof Error ? error.message : "Lua error";
    return { ok: false, error: `Snapshot could not be restored: ${message}` };
  } finally {
    lua.lua_settop(L, top);
  }
}

function corrupt(what: string): never {
  throw new SnapshotFormatError(`Snapshot is corrupt: ${what}`);
}

class Decoder {
  readonly #vm: LuaVm;
  readonly #L: LuaState;
  readonly #bytes: Uint8Array;
  readonly #opts: SnapshotOptions;
  /** Strings read so far; each is made once and kept in the Lua table at `#stringsIndex`. */
  #stringCount = 0;
  #stringsIndex = 0;
  readonly #missing = new Set<string>();
  #reader: ByteReader;
  #tableCount = 0;
  #created = 0;
  #listIndex = 0;

  constructor(vm: LuaVm, bytes: Uint8Array, opts: SnapshotOptions) {
    this.#vm = vm;
    this.#L = vm.L;
    this.#bytes = bytes;
    this.#opts = opts;
    this.#reader = new ByteReader(bytes);
  }

  run(): DecodeResult {
    const L = this.#L;
    this.#readHeader();
    lauxlib.luaL_checkstack(L, 8, null);
    lua.lua_createtable(L, Math.min(this.#tableCount, 1 << 16), 0);
    this.#listIndex = lua.lua_gettop(L);
    lua.lua_createtable(L, 64, 0);
    this.#stringsIndex = lua.lua_gettop(L);
    const reader = this.#reader;
    const roots = new Map<string, LuaValue>();
    const rootCount = reader.varint();
    for (let i = 0; i < rootCount; i++) {
      if (this.#readValue() !== Tag.string) corrupt("a root name is not a string");
      const name = new TextDecoder().decode(lua.lua_tolstring(L, -1) as Uint8Array);
      this.#readValue();
      roots.set(name, this.#vm.read(-1));
      lua.lua_pop(L, 2);
    }
    for (let id = 0; id < this.#tableCount; id++) {
      if (id >= this.#created) corrupt("a table is not reachable from the roots");
      lua.lua_rawgeti(L, this.#listIndex, id + 1);
      const table = lua.lua_gettop(L);
      const metaTag = this.#readValue();
      if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
        if (metaTag === Tag.named && this.#opts.onInstance) {
          this.#opts.onInstance(this.#vm.objectAt(table), this.#vm.objectAt(-1));
        }
        lua.lua_setmetatable(L, table);
      } else if (metaTag === Tag.nil || metaTag === Tag.named) lua.lua_pop(L, 1);
      else corrupt("a metatable is not a table");
      const pairs = reader.varint();
      if (pairs * 2 > reader.remaining) corrupt("a table has more entries than bytes");
      for (let i = 0; i < pairs; i++) {
        const keyTag = this.#readValue();
        this.#readValue();
        const keyType = lua.lua_type(L, -2);
        if (keyType === lua.LUA_TNIL) {
          // A key naming a table the restoring VM lacks is dropped with its value.
          if (keyTag !== Tag.named) corrupt("a table key is nil");
          lua.lua_pop(L, 2);
          continue;
        }
        if (keyType === lua.LUA_TNUMBER && Number.isNaN(lua.lua_tonumber(L, -2))) {
          corrupt("a table key is NaN");
        }
        lua.lua_rawset(L, table);
      }
      lua.lua_settop(L, table - 1);
    }
    if (reader.remaining !== 0) corrupt("bytes follow the last table");
    return { ok: true, roots, tables: this.#created, missing: [...this.#missing] };
  }

  #readHeader(): void {
    const bytes = this.#bytes;
    if (bytes.length < HEADER_SIZE) throw new SnapshotFormatError("Snapshot is truncated");
    if (SNAPSHOT_MAGIC.some((b, i) => bytes[i] !== b)) {
      throw new SnapshotFormatError("Bytes are not a Lua snapshot");
    }
    if (bytes[4] !== SNAPSHOT_VERSION) {
      throw new SnapshotFormatError(`Snapshot format version ${bytes[4]} is not supported`);
    }
    const reader = this.#reader;
    reader.bytes(HEADER_SIZE - 8);
    const bodyLength = reader.u32();
    this.#tableCount = reader.u32();
    if (bodyLength !== bytes.length - HEADER_SIZE) {
      throw new SnapshotFormatError(
        bodyLength > bytes.length - HEADER_SIZE
          ? "Snapshot is truncated"
          : "Snapshot has extra bytes",
      );
    }
    if (bytes.length > this.#opts.maxBytes) {
      throw new SnapshotFormatError(
        `Snapshot is larger than its limit of ${this.#opts.maxBytes} bytes`,
      );
    }
    if (this.#tableCount > this.#opts.maxTables) {
      throw new SnapshotFormatError(
        `Snapshot has more than its limit of ${this.#opts.maxTables} tables`,
      );
    }
    // Each table record takes at least two bytes: a cheap bound before anything is made.
    if (this.#tableCount * 2 > bodyLength) corrupt("the table count does not fit the bytes");
  }

  /** Reads one value and pushes it; returns its tag. */
  #readValue(): number {
    const L = this.#L;
    const reader = this.#reader;
    const tag = reader.byte();
    switch (tag) {
      case Tag.nil:
        lua.lua_pushnil(L);
        break;
      case Tag.false:
      case Tag.true:
        lua.lua_pushboolean(L, tag === Tag.true);
        break;
      case Tag.integer:
        lua.lua_pushinteger(L, unzigzag(reader.varint()));
        break;
      case Tag.float:
        lua.lua_pushnumber(L, reader.float());
        break;
      case Tag.newString: {
        lua.lua_pushstring(L, reader.bytes(reader.varint()));
        lua.lua_pushvalue(L, -1);
        lua.lua_rawseti(L, this.#stringsIndex, ++this.#stringCount);
        return Tag.string;
      }
      case Tag.string: {
        const index = reader.varint();
        if (index >= this.#stringCount) corrupt("a string reference points nowhere");
        lua.lua_rawgeti(L, this.#stringsIndex, index + 1);
        break;
      }
      case Tag.table:
        this.#pushTable(reader.varint());
        break;
      case Tag.named: {
        if (this.#readValue() !== Tag.string) corrupt("a table name is not a string");
        const name = new TextDecoder().decode(lua.lua_tolstring(L, -1) as Uint8Array);
        lua.lua_pop(L, 1);
        const table = this.#opts.references.get(name);
        if (table) table.push(L);
        else {
          this.#missing.add(name);
          lua.lua_pushnil(L);
        }
        break;
      }
      default:
        corrupt(`unknown value tag ${tag}`);
    }
    return tag;
  }

  #pushTable(id: number): void {
    const L = this.#L;
    if (id < this.#created) {
      lua.lua_rawgeti(L, this.#listIndex, id + 1);
      return;
    }
    if (id !== this.#created || id >= this.#tableCount) corrupt("a table reference points nowhere");
    lua.lua_createtable(L, 0, 0);
    lua.lua_pushvalue(L, -1);
    lua.lua_rawseti(L, this.#listIndex, id + 1);
    this.#created++;
  }
}
