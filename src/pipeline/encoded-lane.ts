import type { Position } from '../debezium/change-event.js';
import { AvroSink } from '../hudi/avro-encoder.js';
import { decodeAvroDatum } from '../hudi/log-content.js';
import type { SplitId } from '../source/record.js';
import type { EncodedUpserts } from '../table/encoded-upserts.js';
import type { Row, TableSchema } from '../table/schema.js';
import { grown } from '../typed-array.js';
import { withCdcColumns } from './rows.js';

/** Where a buffered change came from and which source transactions it stands for (`buffer.ts` aligns takes on them). */
export interface LaneOrigin {
  split: SplitId;
  offset: bigint;
  /** Its own transaction (null for snapshot reads and without transaction tracking). */
  tx: string | null;
  /** With tracking: the transactions of every change of its key it replaced or outlived. */
  txIds?: string[];
}

/**
 * A table batch's changes that came by the JSON fast path: each row kept as its Avro
 * encoding (source and CDC columns) in one growing buffer, its key, position, size and
 * origin in parallel columns. Buffering a change copies its bytes and makes no row object,
 * so a batch of 50,000 rows leaves the garbage collector a few arrays to trace instead of
 * hundreds of thousands of objects; at the flush the rows go to the table writer as they are.
 */
/**
 * A lane's slots: one per change buffered, live or replaced. Numbers live in typed columns
 * outside the JavaScript heap: as plain arrays, every growth was a new backing store that
 * the young-generation collector copied and promoted (a quarter of what a buffered row
 * promoted). A slot that replaced its key's previous one links to it (`prev`), so the
 * transactions a row stands for are found by walking back, not copied into a list per change.
 */
interface LaneStore {
  /** Key → slot of its newest change. */
  slots: Map<number, number>;
  arena: AvroSink;
  count: number;
  starts: Int32Array;
  ends: Int32Array;
  sizes: Int32Array;
  /** The slot this one replaced for its key, or -1. */
  prev: Int32Array;
  /** Index into `splitIds`. */
  splits: Int32Array;
  keys: Float64Array;
  offsets: BigInt64Array;
  positions: Position[];
  txs: (string | null)[];
  /** The splits the slots came from, each once. */
  splitIds: SplitId[];
  splitIndex: Map<SplitId, number>;
  /** Transactions merged into a slot besides its own and its predecessors' (a stale change of its key; a select). */
  merged: Map<number, string[]>;
}

/** Slots a lane starts with (its columns double as it fills): many quiet tables cost little. */
const CAPACITY = 256;

const emptyStore = (): LaneStore => ({
  slots: new Map(), arena: new AvroSink(16 * 1024), count: 0,
  starts: new Int32Array(CAPACITY), ends: new Int32Array(CAPACITY), sizes: new Int32Array(CAPACITY), prev: new Int32Array(CAPACITY), splits: new Int32Array(CAPACITY),
  keys: new Float64Array(CAPACITY), offsets: new BigInt64Array(CAPACITY),
  positions: [], txs: [], splitIds: [], splitIndex: new Map(), merged: new Map(),
});

export class EncodedLane {
  private s = emptyStore();
  /** Arena bytes of rows a newer change replaced: copied out when they are most of it. */
  private dead = 0;
  /** The data schema: `schema` and the CDC columns. */
  readonly dataSchema: TableSchema;

  constructor(
    /** The tracked table schema the rows' source columns are encoded in. */
    readonly schema: TableSchema,
    readonly keyFields: string[],
    /** `<schema>.<table>` as the source names it (the router's input). */
    readonly sourceTable: string,
  ) {
    this.dataSchema = withCdcColumns(schema);
  }

  get size(): number {
    return this.s.slots.size;
  }

  slotOf(key: number): number | undefined {
    return this.s.slots.get(key);
  }

  position(slot: number): Position {
    return this.s.positions[slot] as Position;
  }

  /** The positions of the buffered changes. */
  *positions(): Iterable<Position> {
    for (const slot of this.s.slots.values()) yield this.position(slot);
  }

  sizeOf(slot: number): number {
    return this.s.sizes[slot] as number;
  }

  /**
   * Buffers a key's newest change (replacing its slot, if any, which it then stands for too):
   * the row's bytes are copied. Slot numbers read before a `put` do not hold after it (the
   * arena may be compacted).
   */
  put(key: number, position: Position, row: Uint8Array, size: number, origin: LaneOrigin): void {
    let old = this.s.slots.get(key);
    if (old !== undefined) {
      this.dead += this.rowLength(old);
      // A key changed again and again in one batch must not grow the arena without bound.
      if (this.dead > 1 << 20 && this.dead * 2 > this.s.arena.pos) {
        this.compact();
        old = this.s.slots.get(key) as number;
        this.dead = this.rowLength(old);
      }
    }
    const st = this.s;
    const slot = st.count;
    if (slot === st.starts.length) this.grow(slot * 2);
    st.count++;
    st.starts[slot] = st.arena.pos;
    st.arena.raw(row);
    st.ends[slot] = st.arena.pos;
    st.sizes[slot] = size;
    st.prev[slot] = old ?? -1;
    st.splits[slot] = this.splitNumber(origin.split);
    st.keys[slot] = key;
    st.offsets[slot] = origin.offset;
    st.positions.push(position);
    st.txs.push(origin.tx);
    if (origin.txIds !== undefined) st.merged.set(slot, origin.txIds);
    st.slots.set(key, slot);
  }

  private grow(capacity: number): void {
    const st = this.s;
    st.starts = grown(st.starts, capacity);
    st.ends = grown(st.ends, capacity);
    st.sizes = grown(st.sizes, capacity);
    st.prev = grown(st.prev, capacity);
    st.splits = grown(st.splits, capacity);
    st.keys = grown(st.keys, capacity);
    st.offsets = grown(st.offsets, capacity);
  }

  private splitNumber(split: SplitId): number {
    let n = this.s.splitIndex.get(split);
    if (n === undefined) {
      n = this.s.splitIds.push(split) - 1;
      this.s.splitIndex.set(split, n);
    }
    return n;
  }

  /** A key's change left the lane (a newer one of the key came by the general path). */
  remove(key: number): void {
    const slot = this.s.slots.get(key);
    if (slot === undefined) return;
    this.dead += this.rowLength(slot);
    this.s.slots.delete(key);
  }

  private rowLength(slot: number): number {
    return (this.s.ends[slot] as number) - (this.s.starts[slot] as number);
  }

  /** Bytes the lane's arena holds (live rows and not yet compacted replaced ones). */
  get arenaBytes(): number {
    return this.s.arena.pos;
  }

  /** Keeps only the live slots, renumbered in key order, in a fresh arena. */
  private compact(): void {
    this.s = this.select(() => true).s;
    this.dead = 0;
  }

  /** The transactions a slot stands for: its own, those merged into it, and its predecessors'. */
  txIds(slot: number): string[] {
    const st = this.s;
    const own = st.txs[slot] ?? null;
    const extra = st.merged.get(slot);
    if (st.prev[slot] === -1) {
      if (extra === undefined) return own === null ? [] : [own];
      return own === null || extra.includes(own) ? [...extra] : [own, ...extra];
    }
    const ids = new Set<string>();
    for (let s = slot; s !== -1; s = st.prev[s] as number) {
      const tx = st.txs[s];
      if (tx !== null && tx !== undefined) ids.add(tx);
      const more = st.merged.get(s);
      if (more !== undefined) for (const t of more) ids.add(t);
    }
    return [...ids];
  }

  /** Adds a transaction to those a slot stands for (a change of its key that did not replace it was read). */
  mergeTx(slot: number, tx: string | null): void {
    if (tx === null || tx === this.s.txs[slot]) return;
    const extra = this.s.merged.get(slot);
    if (extra === undefined) this.s.merged.set(slot, [tx]);
    else if (!extra.includes(tx)) extra.push(tx);
  }

  /** Where a slot's change came from (with every transaction it stands for, when it is more than its own). */
  private origin(slot: number): LaneOrigin {
    const st = this.s;
    const origin: LaneOrigin = { split: st.splitIds[st.splits[slot] as number] as SplitId, offset: st.offsets[slot] as bigint, tx: st.txs[slot] ?? null };
    if (st.prev[slot] !== -1 || st.merged.has(slot)) origin.txIds = this.txIds(slot);
    return origin;
  }

  /** The origin of each buffered change, by key, with every transaction it stands for. */
  origins(): Map<number, Required<LaneOrigin>> {
    const out = new Map<number, Required<LaneOrigin>>();
    for (const [key, slot] of this.s.slots) out.set(key, { ...this.origin(slot), txIds: this.txIds(slot) });
    return out;
  }

  /** The lane's changes for which `keep` holds, in a lane of their own (an aligned take splits a batch; compaction). */
  select(keep: (key: number) => boolean): EncodedLane {
    const out = new EncodedLane(this.schema, this.keyFields, this.sourceTable);
    for (const [key, slot] of this.s.slots) if (keep(key)) out.put(key, this.position(slot), this.datum(slot), this.sizeOf(slot), this.origin(slot));
    return out;
  }

  /** A slot's row as values (for a change that takes TOASTed columns from it). */
  row(slot: number): Row {
    return decodeAvroDatum(JSON.stringify(this.dataSchema), this.datum(slot));
  }

  private datum(slot: number): Uint8Array {
    return this.s.arena.buf.subarray(this.s.starts[slot], this.s.ends[slot]);
  }

  /** Total bytes of the buffered changes' size estimates. */
  bytes(): number {
    let n = 0;
    for (const slot of this.s.slots.values()) n += this.sizeOf(slot);
    return n;
  }

  /** The buffered changes, one per key in first-arrival order of their keys, for the table writer. */
  upserts(): EncodedUpserts {
    const live = [...this.s.slots.values()];
    const keyField = this.keyFields[0] as string;
    return {
      schema: this.dataSchema,
      count: live.length,
      keyField,
      key: (i) => String(this.s.keys[live[i] as number]),
      ordering: (i) => this.position(live[i] as number).ordering,
      datum: (i) => this.datum(live[i] as number),
    };
  }
}
