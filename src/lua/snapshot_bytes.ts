/**
 * The byte layer of Lua snapshots (see `snapshot.ts`): the header, a growable writer and a
 * bounds-checked reader. Every read checks the remaining length, so a truncated or corrupt
 * snapshot stops with a {@link SnapshotFormatError} instead of reading garbage.
 *
 * Header (16 bytes): the magic `LSNP`, the format version (1 byte), flags (1 byte, zero), two
 * reserved zero bytes, the body length (u32, little endian) and the table count (u32).
 *
 * @module
 */

/** The four magic bytes that open every snapshot: `LSNP`. */
export const SNAPSHOT_MAGIC: readonly number[] = [0x4c, 0x53, 0x4e, 0x50];
/** The format version this code writes and reads. */
export const SNAPSHOT_VERSION = 1;
/** Bytes before the body. */
export const HEADER_SIZE = 16;

/** Value tags of the body. */
export const Tag = {
  nil: 0,
  false: 1,
  true: 2,
  integer: 3,
  float: 4,
  /** A string seen for the first time: length and bytes; it gets the next string index. */
  newString: 5,
  /** A string seen before, by index. */
  string: 6,
  /** A table of the snapshot, by id (the next id for a table seen for the first time). */
  table: 7,
  /** A table kept by name (a prototype), resolved in the VM that restores. */
  named: 8,
} as const;

/** Thrown by {@link ByteReader} and the decoder for bytes that do not form a snapshot. */
export class SnapshotFormatError extends Error {
  /** Makes the error with a sentence-case message. */
  constructor(message: string) {
    super(message);
    this.name = "SnapshotFormatError";
  }
}

/**
 * A growable byte buffer with varint, float and byte-run writes; stops at `limit` bytes.
 *
 * @example
 * ```ts
 * import { ByteWriter } from "./snapshot_bytes.ts";
 * const writer = new ByteWriter(1024);
 * writer.varint(300);
 * writer.finish().length; // 2
 * ```
 */
export class ByteWriter {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;
  readonly #limit: number;

  /** Makes a writer that refuses to grow past `limit` bytes. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed > this.#limit) {
      throw new SnapshotFormatError(`Snapshot is larger than its limit of ${this.#limit} bytes`);
    }
    if (needed <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(Math.min(size, Math.max(needed, this.#limit)));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** Writes one byte. */
  byte(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
  }

  /** Writes an unsigned integer below 2^32 as a LEB128 varint. */
  varint(value: number): void {
    this.#reserve(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.#bytes[this.#length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.#bytes[this.#length++] = v;
  }

  /** Writes a 64-bit float, little endian. */
  float(value: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
  }

  /** Writes a run of bytes. */
  bytes(run: Uint8Array): void {
    this.#reserve(run.length);
    this.#bytes.set(run, this.#length);
    this.#length += run.length;
  }

  /** Writes a u32 at a given offset (for the header, patched at the end). */
  u32At(offset: number, value: number): void {
    this.#view.setUint32(offset, value, true);
  }

  /** The bytes written, trimmed to their length. */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

/**
 * Reads what {@link ByteWriter} wrote; every read past the end throws a
 * {@link SnapshotFormatError}.
 *
 * @example
 * ```ts
 * import { ByteReader } from "./snapshot_bytes.ts";
 * new ByteReader(new Uint8Array([0xac, 0x02])).varint(); // 300
 * ```
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset: number;

  /** Reads `bytes` from `offset`. */
  constructor(bytes: Uint8Array, offset = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#offset = offset;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(count: number): void {
    if (count > this.remaining) throw new SnapshotFormatError("Snapshot is truncated");
  }

  /** Reads one byte. */
  byte(): number {
    this.#need(1);
    return this.#bytes[this.#offset++] as number;
  }

  /** Reads a LEB128 varint below 2^32. */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        if (value > 0xffffffff) throw new SnapshotFormatError("Snapshot has an oversized number");
        return value;
      }
    }
    throw new SnapshotFormatError("Snapshot has an overlong number");
  }

  /** Reads a 64-bit float. */
  float(): number {
    this.#need(8);
    const value = this.#view.getFloat64(this.#offset, true);
    this.#offset += 8;
    return value;
  }

  /** Reads a run of bytes (a view, not a copy). */
  bytes(count: number): Uint8Array {
    this.#need(count);
    const run = this.#bytes.subarray(this.#offset, this.#offset + count);
    this.#offset += count;
    return run;
  }

  /** Reads a u32, little endian. */
  u32(): number {
    this.#need(4);
    const value = this.#view.getUint32(this.#offset, true);
    this.#offset += 4;
    return value;
  }
}

/** Zigzag-maps a signed 32-bit integer to an unsigned one (small magnitudes stay small). */
export function zigzag(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

/** Inverse of {@link zigzag}. */
export function unzigzag(n: number): number {
  return (n >>> 1) ^ -(n & 1);
}
