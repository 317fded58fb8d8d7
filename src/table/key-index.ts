import { grown } from '../typed-array.js';
import type { KeyState } from './write-plan.js';

/**
 * Record key → stored state (ordering of its latest change, deleted or not) of one file
 * group: the writer's source-order guard. A writer keeps one per file group it touched,
 * i.e. one entry per key of the table, for its whole life. So the states live in typed
 * arrays indexed by a slot, not as an object + BigInt per key: at millions of keys those
 * objects made every major GC mark millions more cells. Keys that are the canonical text of
 * an integer (most primary keys) find their slot in an open-addressing table of numbers: no
 * key string is kept, and a lookup touches one table cell where a Map<string> lookup also
 * read the stored key string (the index was a fifth of a 1M-row table write).
 */

const INITIAL_SLOTS = 1024;
/** V8's cost of a Map entry and a string header, roughly: what a non-integer key adds beside its text. */
const NAMED_ENTRY_BYTES = 64;
const MIN_INT64 = -(1n << 63n);
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * The integer whose canonical decimal text is `s` (optional '-', no leading zeros, at most 15
 * digits, so exact as a double), else NaN: "12" and "012" must stay different keys.
 */
export function canonicalInt(s: string): number {
  const n = s.length;
  const neg = n > 1 && s.charCodeAt(0) === 0x2d;
  const first = neg ? 1 : 0;
  const digits = n - first;
  if (digits < 1 || digits > 15) return Number.NaN;
  const lead = s.charCodeAt(first);
  if (lead === 0x30 && (digits > 1 || neg)) return Number.NaN;
  let v = 0;
  for (let i = first; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** Integer → slot, open addressing with linear probing; NaN marks an empty cell. */
class IntSlots {
  private keys: Float64Array;
  private slots: Int32Array;
  private used = 0;

  constructor(capacity = INITIAL_SLOTS) {
    this.keys = new Float64Array(capacity).fill(Number.NaN);
    this.slots = new Int32Array(capacity);
  }

  /** The slot of `k`, or -1. */
  get(k: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = cell(k, mask); ; i = (i + 1) & mask) {
      const x = keys[i] as number;
      if (x === k) return this.slots[i] as number;
      if (x !== x) return -1;
    }
  }

  /** Adds `k` (absent) with `slot`. */
  add(k: number, slot: number): void {
    if ((this.used + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    this.place(k, slot);
    this.used++;
  }

  get bytes(): number {
    return this.keys.byteLength + this.slots.byteLength;
  }

  copy(): IntSlots {
    const out = new IntSlots(1);
    out.keys = this.keys.slice();
    out.slots = this.slots.slice();
    out.used = this.used;
    return out;
  }

  private place(k: number, slot: number): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = cell(k, mask);
    while (keys[i] === keys[i]) i = (i + 1) & mask;
    keys[i] = k;
    this.slots[i] = slot;
  }

  private rehash(capacity: number): void {
    const { keys, slots } = this;
    this.keys = new Float64Array(capacity).fill(Number.NaN);
    this.slots = new Int32Array(capacity);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k === k) this.place(k, slots[i] as number);
    }
  }
}

/** Table cell of integer `k`: both 32-bit halves mixed (Murmur3's finaliser), so sequential ids spread. */
function cell(k: number, mask: number): number {
  let h = (k >>> 0) ^ Math.imul(Math.floor(k / 4294967296) | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

export class FileGroupKeys {
  private ints = new IntSlots();
  /** Keys that are not canonical integers. */
  private named = new Map<string, number>();
  /** Heap bytes of `named`, estimated: the key text (UTF-16) and a map entry. */
  private namedBytes = 0;
  private count = 0;
  /**
   * Orderings as int64: a source position (2^62 + LSN for PostgreSQL changes, the binlog
   * coordinates for MySQL) is past what a double holds exactly, so as doubles nearly every
   * key's ordering went to a map of BigInts — 51 MiB of heap per million keys.
   */
  private orderings = new BigInt64Array(INITIAL_SLOTS);
  private deletedFlags = new Uint8Array(INITIAL_SLOTS);
  /** Orderings outside int64, by slot (none from cdc-lake, whose orderings are Avro longs; kept exact for any caller). */
  private wide = new Map<number, bigint>();

  get size(): number {
    return this.count;
  }

  /** Memory this index holds (typed arrays exactly, keys that are not integers estimated). */
  get bytes(): number {
    return this.ints.bytes + this.orderings.byteLength + this.deletedFlags.byteLength + this.namedBytes;
  }

  get(key: string): KeyState | undefined {
    const slot = this.slotOf(key, canonicalInt(key));
    if (slot < 0) return undefined;
    return { ordering: this.orderingAt(slot), deleted: this.deletedFlags[slot] === 1 };
  }

  set(key: string, ordering: bigint, deleted: boolean): void {
    const n = canonicalInt(key);
    let slot = this.slotOf(key, n);
    if (slot < 0) {
      slot = this.count++;
      if (slot === this.orderings.length) this.grow();
      if (n === n) this.ints.add(n, slot);
      else {
        this.named.set(key, slot);
        this.namedBytes += NAMED_ENTRY_BYTES + 2 * key.length;
      }
    }
    if (ordering >= MIN_INT64 && ordering <= MAX_INT64) {
      this.orderings[slot] = ordering;
      if (this.wide.size > 0) this.wide.delete(slot); // almost always empty: skip the hash
    } else this.wide.set(slot, ordering);
    this.deletedFlags[slot] = deleted ? 1 : 0;
  }

  /** An independent copy (a new file group starts from the keys its bucket placeholder collected). */
  clone(): FileGroupKeys {
    const out = new FileGroupKeys();
    out.ints = this.ints.copy();
    out.named = new Map(this.named);
    out.namedBytes = this.namedBytes;
    out.count = this.count;
    out.orderings = this.orderings.slice();
    out.deletedFlags = this.deletedFlags.slice();
    out.wide = new Map(this.wide);
    return out;
  }

  /** The slot of `key` (`n`: its canonicalInt), or -1. */
  private slotOf(key: string, n: number): number {
    return n === n ? this.ints.get(n) : (this.named.get(key) ?? -1);
  }

  private orderingAt(slot: number): bigint {
    return (this.wide.size > 0 ? this.wide.get(slot) : undefined) ?? (this.orderings[slot] as bigint);
  }

  private grow(): void {
    this.orderings = grown(this.orderings, this.orderings.length * 2);
    this.deletedFlags = grown(this.deletedFlags, this.deletedFlags.length * 2);
  }
}

/**
 * A process-wide bound on the writers' key indexes: one entry per key of every table a
 * process writes, kept for its life, grows with the tables (~33 MiB per million integer
 * keys). File groups are kept in order of use; past the bound the least recently used are
 * dropped from their table's index and read again from storage when next written — their
 * state is committed data, so a reload gives the same orderings, at the cost of reading
 * the file group's latest slice.
 */
export class KeyIndexBudget {
  /** Insertion order is the order of use: `touch` moves a group to the end. */
  private readonly groups = new Map<FileGroupKeys, () => void>();
  /** File groups dropped so far (for logs and metrics). */
  evicted = 0;

  constructor(readonly maxBytes: number) {}

  /** Marks `keys` used now; `drop` removes it from its table's index. */
  touch(keys: FileGroupKeys, drop: () => void): void {
    this.groups.delete(keys);
    this.groups.set(keys, drop);
  }

  forget(keys: FileGroupKeys): void {
    this.groups.delete(keys);
  }

  /** Bytes of the indexes it tracks. */
  get bytes(): number {
    let total = 0;
    for (const keys of this.groups.keys()) total += keys.bytes;
    return total;
  }

  /** Drops the least recently used groups until the rest fit (the most recent always stays); returns how many. */
  settle(): number {
    let total = this.bytes;
    let dropped = 0;
    for (const [keys, drop] of this.groups) {
      if (total <= this.maxBytes || this.groups.size === 1) break;
      total -= keys.bytes;
      this.groups.delete(keys);
      drop();
      dropped++;
    }
    this.evicted += dropped;
    return dropped;
  }
}
