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
export class EncodedLane {
  /** Key → slot of its newest change. */
  private slots = new Map<number, number>();
  private arena = new AvroSink(16 * 1024);
  private starts: number[] = [];
  private ends: number[] = [];
  private keys: number[] = [];
  private sizes: number[] = [];
  private slotPositions: Position[] = [];
  private splits: SplitId[] = [];
  private offsets: bigint[] = [];
  private txs: (string | null)[] = [];
  /** Merged transaction lists, for the few slots that have one. */
  private merged = new Map<number, string[]>();
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
    return this.slots.size;
  }

  slotOf(key: number): number | undefined {
    return this.slots.get(key);
  }

  position(slot: number): Position {
    return this.slotPositions[slot] as Position;
  }

  /** The positions of the buffered changes. */
  *positions(): Iterable<Position> {
    for (const slot of this.slots.values()) yield this.position(slot);
  }

  sizeOf(slot: number): number {
    return this.sizes[slot] as number;
  }

  /**
   * Buffers a key's newest change (replacing its slot, if any): the row's bytes are copied.
   * Slot numbers read before a `put` do not hold after it (the arena may be compacted).
   */
  put(key: number, position: Position, row: Uint8Array, size: number, origin: LaneOrigin): void {
    const old = this.slots.get(key);
    if (old !== undefined) this.dead += this.rowLength(old);
    // A key changed again and again in one batch must not grow the arena without bound.
    if (this.dead > 1 << 20 && this.dead * 2 > this.arena.pos) this.compact();
    const slot = this.starts.length;
    this.starts.push(this.arena.pos);
    this.arena.raw(row);
    this.ends.push(this.arena.pos);
    this.keys.push(key);
    this.sizes.push(size);
    this.slotPositions.push(position);
    this.splits.push(origin.split);
    this.offsets.push(origin.offset);
    this.txs.push(origin.tx);
    if (origin.txIds !== undefined) this.merged.set(slot, origin.txIds);
    this.slots.set(key, slot);
  }

  /** A key's change left the lane (a newer one of the key came by the general path). */
  remove(key: number): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.dead += this.rowLength(slot);
    this.slots.delete(key);
  }

  private rowLength(slot: number): number {
    return (this.ends[slot] as number) - (this.starts[slot] as number);
  }

  /** Bytes the lane's arena holds (live rows and not yet compacted replaced ones). */
  get arenaBytes(): number {
    return this.arena.pos;
  }

  /** Keeps only the live slots, renumbered in key order, in a fresh arena. */
  private compact(): void {
    const from = { arena: this.arena, starts: this.starts, ends: this.ends, sizes: this.sizes, positions: this.slotPositions, splits: this.splits, offsets: this.offsets, txs: this.txs, merged: this.merged };
    const live = [...this.slots];
    this.arena = new AvroSink(Math.max(16 * 1024, (from.arena.pos - this.dead) * 2));
    this.starts = [];
    this.ends = [];
    this.keys = [];
    this.sizes = [];
    this.slotPositions = [];
    this.splits = [];
    this.offsets = [];
    this.txs = [];
    this.merged = new Map();
    this.slots = new Map();
    this.dead = 0;
    for (const [key, slot] of live) {
      const txIds = from.merged.get(slot);
      this.put(key, from.positions[slot] as Position, from.arena.buf.subarray(from.starts[slot], from.ends[slot]), from.sizes[slot] as number, { split: from.splits[slot] as SplitId, offset: from.offsets[slot] as bigint, tx: from.txs[slot] ?? null, ...(txIds ? { txIds } : {}) });
    }
  }

  /** The transactions a slot stands for: its own, and those merged into it. */
  txIds(slot: number): string[] {
    const merged = this.merged.get(slot);
    if (merged !== undefined) return merged;
    const tx = this.txs[slot];
    return tx === null || tx === undefined ? [] : [tx];
  }

  /** Adds a transaction to those a slot stands for (another change of its key was read). */
  mergeTx(slot: number, tx: string | null): void {
    if (tx === null || tx === this.txs[slot]) return;
    const ids = this.merged.get(slot) ?? this.txIds(slot);
    if (!ids.includes(tx)) ids.push(tx);
    this.merged.set(slot, ids);
  }

  /** The origin of each buffered change, by key. */
  origins(): Map<number, LaneOrigin> {
    const out = new Map<number, LaneOrigin>();
    for (const [key, slot] of this.slots) out.set(key, { split: this.splits[slot] as SplitId, offset: this.offsets[slot] as bigint, tx: this.txs[slot] ?? null, txIds: this.txIds(slot) });
    return out;
  }

  /** The lane's changes for which `keep` holds, in a lane of their own (an aligned take splits a batch). */
  select(keep: (key: number) => boolean): EncodedLane {
    const out = new EncodedLane(this.schema, this.keyFields, this.sourceTable);
    for (const [key, slot] of this.slots) {
      if (!keep(key)) continue;
      const tx = this.txs[slot] ?? null;
      const merged = this.merged.get(slot);
      out.put(key, this.position(slot), this.datum(slot), this.sizeOf(slot), { split: this.splits[slot] as SplitId, offset: this.offsets[slot] as bigint, tx, ...(merged ? { txIds: [...merged] } : {}) });
    }
    return out;
  }

  /** A slot's row as values (for a change that takes TOASTed columns from it). */
  row(slot: number): Row {
    return decodeAvroDatum(JSON.stringify(this.dataSchema), this.datum(slot));
  }

  private datum(slot: number): Uint8Array {
    return this.arena.buf.subarray(this.starts[slot], this.ends[slot]);
  }

  /** Total bytes of the buffered changes' size estimates. */
  bytes(): number {
    let n = 0;
    for (const slot of this.slots.values()) n += this.sizeOf(slot);
    return n;
  }

  /** The buffered changes, one per key in first-arrival order of their keys, for the table writer. */
  upserts(): EncodedUpserts {
    const live = [...this.slots.values()];
    const keyField = this.keyFields[0] as string;
    return {
      schema: this.dataSchema,
      count: live.length,
      keyField,
      key: (i) => String(this.keys[live[i] as number]),
      ordering: (i) => this.position(live[i] as number).ordering,
      datum: (i) => this.datum(live[i] as number),
    };
  }
}
