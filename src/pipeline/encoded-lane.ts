import type { Position } from '../debezium/change-event.js';
import { AvroSink } from '../hudi/avro-encoder.js';
import { decodeAvroDatum } from '../hudi/log-content.js';
import type { SplitId } from '../source/record.js';
import type { EncodedUpserts } from '../table/encoded-upserts.js';
import type { Row, TableSchema } from '../table/schema.js';
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
 * origin in parallel arrays. Buffering a change copies its bytes and makes no row object,
 * so a batch of 50,000 rows leaves the garbage collector a few arrays to trace instead of
 * hundreds of thousands of objects; at the flush the rows go to the table writer as they are.
 */
/** A lane's slots: one per change buffered, live or replaced, in parallel arrays. */
interface LaneStore {
  /** Key → slot of its newest change. */
  slots: Map<number, number>;
  arena: AvroSink;
  starts: number[];
  ends: number[];
  keys: number[];
  sizes: number[];
  positions: Position[];
  splits: SplitId[];
  offsets: bigint[];
  txs: (string | null)[];
  /** Merged transaction lists, for the few slots that have one. */
  merged: Map<number, string[]>;
}

const emptyStore = (): LaneStore => ({ slots: new Map(), arena: new AvroSink(16 * 1024), starts: [], ends: [], keys: [], sizes: [], positions: [], splits: [], offsets: [], txs: [], merged: new Map() });

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
   * Buffers a key's newest change (replacing its slot, if any): the row's bytes are copied.
   * Slot numbers read before a `put` do not hold after it (the arena may be compacted).
   */
  put(key: number, position: Position, row: Uint8Array, size: number, origin: LaneOrigin): void {
    const old = this.s.slots.get(key);
    if (old !== undefined) this.dead += this.rowLength(old);
    // A key changed again and again in one batch must not grow the arena without bound.
    if (this.dead > 1 << 20 && this.dead * 2 > this.s.arena.pos) this.compact();
    const st = this.s;
    const slot = st.starts.length;
    st.starts.push(st.arena.pos);
    st.arena.raw(row);
    st.ends.push(st.arena.pos);
    st.keys.push(key);
    st.sizes.push(size);
    st.positions.push(position);
    st.splits.push(origin.split);
    st.offsets.push(origin.offset);
    st.txs.push(origin.tx);
    if (origin.txIds !== undefined) st.merged.set(slot, origin.txIds);
    st.slots.set(key, slot);
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

  /** The transactions a slot stands for: its own, and those merged into it. */
  txIds(slot: number): string[] {
    const merged = this.s.merged.get(slot);
    if (merged !== undefined) return merged;
    const tx = this.s.txs[slot];
    return tx === null || tx === undefined ? [] : [tx];
  }

  /** Adds a transaction to those a slot stands for (another change of its key was read). */
  mergeTx(slot: number, tx: string | null): void {
    if (tx === null || tx === this.s.txs[slot]) return;
    const ids = this.s.merged.get(slot) ?? this.txIds(slot);
    if (!ids.includes(tx)) ids.push(tx);
    this.s.merged.set(slot, ids);
  }

  /** Where a slot's change came from (with its merged transactions, if it has any). */
  private origin(slot: number): LaneOrigin {
    const merged = this.s.merged.get(slot);
    return { split: this.s.splits[slot] as SplitId, offset: this.s.offsets[slot] as bigint, tx: this.s.txs[slot] ?? null, ...(merged ? { txIds: [...merged] } : {}) };
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
