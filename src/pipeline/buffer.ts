/**
 * Per-table batches of change events between the decoder and the table writer. Pure:
 * no I/O, no clock (callers pass `nowMs`), so every rule here is unit-testable.
 *
 * Rules:
 * - One event per key per batch: the one with the newest source position. Equal
 *   orderings are duplicates (a connector replay): the FIRST stays. An older ordering
 *   is stale and dropped. Incremental-snapshot reads (`position.unordered`) replace a
 *   buffered event only when that one is also an unordered read (a later read of the
 *   same key) or there is none: a streamed change always beats a snapshot read, and a
 *   snapshot read never overwrites a streamed change buffered before it.
 * - A truncate supersedes everything buffered for its table before it: the batch keeps
 *   the truncate (the writer applies it first) and only the events after it.
 * - Keyless events (key null) are kept in arrival order, never merged.
 * - Changes the fast path read (`addEncoded`) follow the same rules, kept with their rows
 *   encoded in the batch's `EncodedLane`; a key is in the lane or among the events, never both.
 * - Each batch tracks, per split, the first and next offset of what it consumed, for
 *   the checkpoint (`checkpoint.ts`).
 * - Flush when rows, bytes or age reach their limit; age is checked by `due(now)` on a
 *   timer tick so a quiet table or an idle partition still flushes.
 * - A global byte budget across tables: over it, every feeding split is paused and the
 *   largest batches are due; under `resumeRatio` × budget, paused splits resume.
 * - With `trackTransactions`, each batch also counts the records of every source
 *   transaction it read, so `take(table, isComplete)` can hold back the rows of
 *   transactions that are not all in yet (`transaction.ts`). Off: no extra work per record.
 *   On, a record costs one note (`TxnNotes`, no object per record); the per-transaction
 *   spans are built only when an aligned take asks for them, since most streams (and most
 *   takes, before transaction metadata is seen) never need them.
 */
import type { ChangeEvent, Position } from '../debezium/change-event.js';
import type { FastChange } from '../debezium/fast-json.js';
import type { Value } from '../table/schema.js';
import type { SplitId } from '../source/record.js';
import { splitId } from '../source/record.js';
import { foldByColumn } from './ordering.js';
import { alignCut, type AlignEntry, type TxnSpan } from './transaction.js';
import { EncodedLane, type LaneOrigin } from './encoded-lane.js';
import { grown } from '../typed-array.js';

export interface BufferLimits {
  maxRows: number;
  maxBytes: number;
  maxAgeMs: number;
  memoryBudgetBytes: number;
  /** Resume paused splits when total bytes fall below this share of the budget (default 0.75). */
  resumeRatio?: number;
  /** Count records per source transaction (needed by aligned takes). */
  trackTransactions?: boolean;
}

export interface SplitRange {
  /** Offset of the first record this batch consumed from the split. */
  first: bigint;
  /** One past the last record consumed. */
  next: bigint;
}

export interface TableBatch {
  table: string;
  /** The last truncate in the batch, to apply before `events`; null if none. */
  truncate: ChangeEvent | null;
  /** Newest event per key (and keyless events), in first-arrival order of their key. */
  events: ChangeEvent[];
  /** Newest change per key that came by the fast path (keys not among `events`); null if none. */
  encoded: EncodedLane | null;
  splits: Map<SplitId, SplitRange>;
  rows: number;
  bytes: number;
  openedAtMs: number;
  /** Last position text seen (applied or not) – for the checkpoint's sourcePosition. */
  lastPosition: string | null;
  /** Rows held back for the next flush (open source transactions); 0 without alignment. */
  held: number;
}

export type AddOutcome = 'added' | 'replaced' | 'stale' | 'duplicate' | 'truncated';

export type FlushReason = 'rows' | 'bytes' | 'age' | 'memory';

interface Entry {
  event: ChangeEvent;
  bytes: number;
  /** Transactions of events this entry replaced (set only when a replace crosses transactions). */
  txIds?: string[];
}

interface OpenBatch {
  table: string;
  truncate: Entry | null;
  /** By `mapKey`. */
  keyed: Map<string | number, Entry>;
  /** Changes by the fast path, kept encoded; a key is here or in `keyed`, never both. */
  lane: EncodedLane | null;
  keyless: Entry[];
  splits: Map<SplitId, SplitRange>;
  bytes: number;
  openedAtMs: number;
  /** Last position seen (applied or not); its text is built once, when the batch is taken. */
  lastPosition: Position | null;
  /** Records per source transaction (only with `trackTransactions`); `notes` not yet folded in. */
  txns: Map<string, TxnSpan> | null;
  notes: TxnNotes | null;
  /** Everything left after an aligned take waits for its transactions: not due until news. */
  waiting: boolean;
}

/**
 * One entry per record read with a transaction id, in arrival order: no object per record,
 * and offsets and times in typed columns (nothing for the young-generation collector to
 * copy as they grow); `spansOf` folds them into `TxnSpan`s on demand.
 */
class TxnNotes {
  length = 0;
  readonly ids: string[] = [];
  readonly splits: SplitId[] = [];
  private offsets = new BigInt64Array(256);
  private ms = new Float64Array(256);

  add(tx: string, split: SplitId, offset: bigint, nowMs: number): void {
    const i = this.length++;
    if (i === this.ms.length) {
      this.offsets = grown(this.offsets, i * 2);
      this.ms = grown(this.ms, i * 2);
    }
    this.ids.push(tx);
    this.splits.push(split);
    this.offsets[i] = offset;
    this.ms[i] = nowMs;
  }

  offset(i: number): bigint {
    return this.offsets[i] as bigint;
  }

  msAt(i: number): number {
    return this.ms[i] as number;
  }
}

/** Why `incoming` does not replace `buffered` (it does not supersede it): an equal position is a replay. */
function rejection(incoming: Position, buffered: Position): 'duplicate' | 'stale' {
  return incoming.ordering === buffered.ordering && !incoming.unordered ? 'duplicate' : 'stale';
}

/** Should `incoming` replace `buffered` for the same key within a batch? */
export function supersedes(incoming: Position, buffered: Position): boolean {
  if (incoming.unordered) return buffered.unordered === true;
  if (buffered.unordered) return true;
  return incoming.ordering > buffered.ordering;
}

function valueKey(v: Value): string {
  if (v === null) return 'n';
  if (typeof v === 'bigint' || typeof v === 'number') return `#${v}`; // 5 and 5n are the same key
  if (typeof v === 'string') return `s${JSON.stringify(v)}`;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('base64')}`;
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${valueKey((v as Record<string, Value>)[k] as Value)}`)
    .join(',')}}`;
}

/**
 * An update whose TOASTed columns Debezium did not send replaces a buffered event of the
 * same key: the buffered event's values for those columns are the stored values the update
 * would have kept, so they move into the update instead of being lost with the replaced event.
 */
export function carryUnavailable(incoming: ChangeEvent, replaced: ChangeEvent): ChangeEvent {
  if (incoming.unavailable.length === 0 || incoming.op === 'd' || replaced.op === 'd' || replaced.row === null) return incoming;
  const row = { ...(incoming.row ?? {}) };
  const still: string[] = [];
  for (const col of incoming.unavailable) {
    if (replaced.unavailable.includes(col) || !(col in replaced.row)) still.push(col);
    else row[col] = replaced.row[col] ?? null;
  }
  return { ...incoming, row, unavailable: still };
}

/** Canonical text of an event's key (columns in `keyFields` order); null when keyless. */
export function keyText(e: ChangeEvent): string | null {
  if (!e.key) return null;
  // one key column (the common case): its text alone, no array and join per record
  if (e.keyFields.length === 1) return valueKey(e.key[e.keyFields[0] as string] ?? null);
  const fields = e.keyFields.length > 0 ? e.keyFields : Object.keys(e.key).sort();
  return fields.map((f) => valueKey(e.key?.[f] ?? null)).join('\u0001');
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The batch map's key: a one-column numeric key is the number itself (5 and 5n alike), so
 * the common integer id costs no string per record and hashes as a small integer; any
 * other key is its keyText. A key always maps to the same kind, so the two never mix.
 */
function mapKey(e: ChangeEvent): string | number | null {
  const key = e.key;
  if (!key) return null;
  const fields = e.keyFields;
  const only = fields.length === 1 ? fields[0] : fields.length === 0 ? soleField(key) : undefined;
  if (only !== undefined) {
    const v = key[only];
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint' && v >= MIN_SAFE && v <= MAX_SAFE) return Number(v);
  }
  return keyText(e);
}

function soleField(key: Record<string, unknown>): string | undefined {
  const names = Object.keys(key);
  return names.length === 1 ? names[0] : undefined;
}

export class BufferSet {
  private readonly open = new Map<string, OpenBatch>();
  private total = 0;
  private readonly paused = new Set<SplitId>();
  /** Went over the memory budget and not yet back under resumeRatio × budget. */
  private overBudget = false;
  private readonly resumeRatio: number;
  private readonly trackTx: boolean;
  /** `topic:partition` ids per topic, by partition: built once, not per record. */
  private readonly splitIds = new Map<string, SplitId[]>();

  constructor(private readonly limits: BufferLimits) {
    this.resumeRatio = limits.resumeRatio ?? 0.75;
    this.trackTx = limits.trackTransactions ?? false;
  }

  /** Bytes buffered across all tables. */
  get totalBytes(): number {
    return this.total;
  }

  tables(): string[] {
    return [...this.open.keys()];
  }

  private batchOf(table: string, nowMs: number): OpenBatch {
    let b = this.open.get(table);
    if (!b) {
      b = { table, truncate: null, keyed: new Map(), lane: null, keyless: [], splits: new Map(), bytes: 0, openedAtMs: nowMs, lastPosition: null, txns: this.trackTx ? new Map() : null, notes: this.trackTx ? new TxnNotes() : null, waiting: false };
      this.open.set(table, b);
    }
    return b;
  }

  private splitOf(topic: string, partition: number): SplitId {
    let byPartition = this.splitIds.get(topic);
    if (byPartition === undefined) this.splitIds.set(topic, (byPartition = []));
    return (byPartition[partition] ??= splitId(topic, partition));
  }

  private cover(b: OpenBatch, split: SplitId, offset: bigint, next: bigint): void {
    const r = b.splits.get(split);
    if (!r) b.splits.set(split, { first: offset, next });
    else if (next > r.next) r.next = next;
  }

  /**
   * What every buffered change does to its batch: its split's range and the last position
   * move on, the batch is due again, and (with tracking) its transaction is noted. Returns
   * the transaction the change stands for: null without tracking.
   */
  private arrive(b: OpenBatch, split: SplitId, offset: bigint, position: Position, tx: string | null, nowMs: number): string | null {
    this.cover(b, split, offset, offset + 1n);
    b.lastPosition = position;
    b.waiting = false;
    if (b.notes === null || tx === null) return null;
    b.notes.add(tx, split, offset, nowMs);
    return tx;
  }

  /**
   * Buffers a decoded event under `table` (the routed id; defaults to `event.table`).
   * `bytes` is the caller's size estimate (e.g. the record value's length); `split` is the
   * event's origin split, when the caller has its id at hand.
   */
  add(event: ChangeEvent, bytes: number, nowMs: number, table: string = event.table, split: SplitId = this.splitOf(event.origin.topic, event.origin.partition)): AddOutcome {
    const b = this.batchOf(table, nowMs);
    const tx = this.arrive(b, split, event.origin.offset, event.position, txOf(event), nowMs);
    const notes = b.notes;
    if (event.op === 't') {
      // everything buffered before the truncate is superseded: free it
      this.total -= b.bytes;
      b.keyed.clear();
      b.lane = null;
      b.keyless = [];
      b.truncate = { event, bytes };
      b.bytes = bytes;
      this.total += bytes;
      return 'truncated';
    }
    const k = mapKey(event);
    if (k === null) {
      b.keyless.push({ event, bytes });
      b.bytes += bytes;
      this.total += bytes;
      return 'added';
    }
    const slot = b.lane === null || typeof k !== 'number' ? undefined : b.lane.slotOf(k);
    if (slot !== undefined) return this.replaceEncoded(b, b.lane as EncodedLane, k as number, slot, event, bytes, tx);
    const cur = b.keyed.get(k);
    if (!cur) {
      b.keyed.set(k, { event, bytes });
      b.bytes += bytes;
      this.total += bytes;
      return 'added';
    }
    // The entry carries this record's transaction whichever change wins: a replaced change
    // and a stale one alike must not pass the checkpoint while the entry is held.
    if (notes !== null && txOf(cur.event) !== tx) cur.txIds = mergedTxIds(cur, tx);
    if (event.order !== undefined) {
      if (foldByColumn(cur.event, event) === cur.event) return 'stale';
    } else if (!supersedes(event.position, cur.event.position)) {
      return rejection(event.position, cur.event.position);
    }
    b.bytes += bytes - cur.bytes;
    this.total += bytes - cur.bytes;
    cur.event = carryUnavailable(event, cur.event);
    cur.bytes = bytes;
    return 'replaced';
  }

  /** An event of a key whose newest change so far came by the fast path. */
  private replaceEncoded(b: OpenBatch, lane: EncodedLane, key: number, slot: number, event: ChangeEvent, bytes: number, tx: string | null): AddOutcome {
    if (b.notes !== null) lane.mergeTx(slot, tx);
    const buffered = lane.position(slot);
    if (!supersedes(event.position, buffered)) return rejection(event.position, buffered);
    // TOASTed columns it did not send come from the replaced row, as between two events
    const replaced = event.unavailable.length === 0 ? event : carryUnavailable(event, { ...event, op: 'u', row: lane.row(slot), unavailable: [] });
    const was = lane.sizeOf(slot);
    lane.remove(key);
    b.keyed.set(key, b.notes === null ? { event: replaced, bytes } : { event: replaced, bytes, txIds: lane.txIds(slot) });
    b.bytes += bytes - was;
    this.total += bytes - was;
    return 'replaced';
  }

  /**
   * Buffers a change the fast path read, its row already encoded (`row`: the source columns
   * in `change.schema`, then the CDC columns). The same rules as `add`; 'unsupported' when
   * the batch holds fast-path rows of another schema (it must come by `add` then).
   */
  addEncoded(change: FastChange, row: Uint8Array, bytes: number, nowMs: number, table: string, split: SplitId, offset: bigint): AddOutcome | 'unsupported' {
    const b = this.batchOf(table, nowMs);
    if (b.lane !== null && b.lane.schema !== change.schema) {
      if (b.lane.size > 0) return 'unsupported';
      b.lane = null; // its changes all moved to `keyed`
    }
    const lane = (b.lane ??= new EncodedLane(change.schema, change.keyFields, change.table));
    const tx = this.arrive(b, split, offset, change.position, change.op === 'r' ? null : change.txId, nowMs);
    const notes = b.notes;
    const { key, position } = change;
    const slot = lane.slotOf(key);
    const cur = slot !== undefined || b.keyed.size === 0 ? undefined : b.keyed.get(key);
    let was = 0;
    let txIds: string[] | undefined;
    if (slot !== undefined) {
      const buffered = lane.position(slot);
      if (!supersedes(position, buffered)) {
        // the buffered row now also stands for this change's transaction
        if (notes !== null) lane.mergeTx(slot, tx);
        return rejection(position, buffered);
      }
      // (the new slot links to the one it replaces, and so stands for its transactions too)
      was = lane.sizeOf(slot);
    } else if (cur !== undefined) {
      if (notes !== null && txOf(cur.event) !== tx) cur.txIds = mergedTxIds(cur, tx);
      if (!supersedes(position, cur.event.position)) return rejection(position, cur.event.position);
      b.keyed.delete(key);
      was = cur.bytes;
      txIds = cur.txIds;
    }
    lane.put(key, position, row, bytes, txIds === undefined ? { split, offset, tx } : { split, offset, tx, txIds });
    b.bytes += bytes - was;
    this.total += bytes - was;
    return slot === undefined && cur === undefined ? 'added' : 'replaced';
  }

  /**
   * Records that `table` consumed a split up to `next` without buffering an event
   * (tombstones, heartbeats, records skipped by the table's checkpoint), so its next
   * checkpoint moves past them.
   */
  advance(table: string, split: SplitId, offset: bigint, nowMs: number): void {
    this.cover(this.batchOf(table, nowMs), split, offset, offset + 1n);
  }

  /** Tables whose batch should be flushed now, with the first limit reached. */
  due(nowMs: number): Array<{ table: string; reason: FlushReason }> {
    const out: Array<{ table: string; reason: FlushReason }> = [];
    const listed = new Set<string>();
    for (const b of this.open.values()) {
      if (b.waiting) continue;
      let reason: FlushReason | undefined = this.full(b);
      if (reason === undefined && nowMs - b.openedAtMs >= this.limits.maxAgeMs) reason = 'age';
      if (reason) {
        out.push({ table: b.table, reason });
        listed.add(b.table);
      }
    }
    // over budget: the largest batches until the rest fits
    if (this.total > this.limits.memoryBudgetBytes) {
      let remaining = this.total;
      for (const b of this.open.values()) if (listed.has(b.table)) remaining -= b.bytes;
      const bySize = [...this.open.values()].filter((b) => !listed.has(b.table)).sort((x, y) => y.bytes - x.bytes);
      for (const b of bySize) {
        if (remaining <= this.limits.memoryBudgetBytes * this.resumeRatio) break;
        out.push({ table: b.table, reason: 'memory' });
        remaining -= b.bytes;
      }
    }
    return out;
  }

  /** Which size limit the batch reached ('rows' or 'bytes'), if any. */
  private full(b: OpenBatch): 'rows' | 'bytes' | undefined {
    if (rowsOf(b) >= this.limits.maxRows) return 'rows';
    return b.bytes >= this.limits.maxBytes ? 'bytes' : undefined;
  }

  /** Milliseconds until the first batch reaches its age (Infinity when none is open). */
  nextDueInMs(nowMs: number): number {
    let min = Infinity;
    for (const b of this.open.values()) {
      if (b.waiting) continue;
      const left = b.openedAtMs + this.limits.maxAgeMs - nowMs;
      if (left < min) min = left;
    }
    return min;
  }

  /**
   * Removes and returns a table's batch (call when flushing it). With `isComplete` (and
   * `trackTransactions`), rows of transactions that are not complete for this table stay
   * buffered: per split, every record from the first held offset on (`alignCut`), and the
   * returned batch's split ranges stop there, so its checkpoint never passes a held row.
   */
  take(table: string, isComplete?: (txId: string, span: TxnSpan) => boolean): TableBatch | undefined {
    const b = this.open.get(table);
    if (!b) return undefined;
    const spans = isComplete === undefined ? null : spansOf(b);
    if (isComplete !== undefined && spans !== null && spans.size > 0) {
      const cut = alignCut(alignEntries(b), spans, isComplete);
      if (cut.size > 0) return this.split(b, cut);
    }
    this.open.delete(table);
    this.total -= b.bytes;
    return batchOf(b, 0);
  }

  /** Splits `b` at `cut`: returns the part below it and leaves the rest buffered, waiting. */
  private split(b: OpenBatch, cut: Map<SplitId, bigint>): TableBatch {
    const belowCut = (split: SplitId, offset: bigint): boolean => {
      const c = cut.get(split);
      return c === undefined || offset < c;
    };
    const below = (e: Entry): boolean => belowCut(splitId(e.event.origin.topic, e.event.origin.partition), e.event.origin.offset);
    const out: OpenBatch = { ...b, truncate: null, keyed: new Map(), lane: null, keyless: [], splits: new Map(), bytes: 0, txns: null, notes: null, waiting: false };
    const keep: OpenBatch = { ...b, truncate: null, keyed: new Map(), lane: null, keyless: [], splits: new Map(), bytes: 0, txns: new Map(), notes: new TxnNotes(), waiting: true };
    if (b.lane !== null) {
      const origins = b.lane.origins();
      const isBelow = (key: number): boolean => {
        const o = origins.get(key) as LaneOrigin;
        return belowCut(o.split, o.offset);
      };
      const taken = b.lane.select(isBelow);
      const held = b.lane.select((key) => !isBelow(key));
      out.lane = taken.size > 0 ? taken : null;
      keep.lane = held.size > 0 ? held : null;
      out.bytes += taken.bytes();
      keep.bytes += held.bytes();
    }
    const place = (e: Entry): OpenBatch => {
      const to = below(e) ? out : keep;
      to.bytes += e.bytes;
      return to;
    };
    if (b.truncate) place(b.truncate).truncate = b.truncate;
    for (const [k, e] of b.keyed) place(e).keyed.set(k, e);
    for (const e of b.keyless) place(e).keyless.push(e);
    for (const [s, r] of b.splits) {
      const c = cut.get(s);
      if (c === undefined || c >= r.next) out.splits.set(s, r);
      else {
        if (c > r.first) out.splits.set(s, { first: r.first, next: c });
        keep.splits.set(s, { first: c, next: r.next });
      }
    }
    // spans of transactions that still have records at or above the cut
    for (const [id, span] of spansOf(b) ?? []) {
      for (const [s, first] of span.firstOffsets) {
        const c = cut.get(s);
        if (c !== undefined && first >= c) {
          keep.txns?.set(id, span);
          break;
        }
      }
    }
    let last: Position | undefined;
    for (const e of [...(out.truncate ? [out.truncate] : []), ...out.keyed.values(), ...out.keyless]) {
      if (last === undefined || e.event.position.ordering > last.ordering) last = e.event.position;
    }
    for (const p of out.lane?.positions() ?? []) if (last === undefined || p.ordering > last.ordering) last = p;
    out.lastPosition = last ?? null;
    this.total -= out.bytes;
    this.open.set(b.table, keep);
    return batchOf(out, rowsOf(keep));
  }

  /** A held batch may now be complete (its transaction's END arrived): make it due again. */
  wake(table: string): void {
    const b = this.open.get(table);
    if (b) b.waiting = false;
  }

  /**
   * Lowest offset of `split` still buffered by a table other than `exceptTable`: the
   * `floor` for `exceptTable`'s checkpoint is min(its next, this).
   */
  pendingFloor(split: SplitId, exceptTable: string): bigint | undefined {
    let min: bigint | undefined;
    for (const b of this.open.values()) {
      if (b.table === exceptTable) continue;
      const r = b.splits.get(split);
      if (r && (min === undefined || r.first < min)) min = r.first;
    }
    return min;
  }

  /** Tables with buffered records from any of these splits (flush or drop them on revocation). */
  tablesReading(splits: SplitId[]): string[] {
    const set = new Set(splits);
    return [...this.open.values()].filter((b) => [...b.splits.keys()].some((s) => set.has(s))).map((b) => b.table);
  }

  /** Per table: what is buffered and since when (metrics, /readyz). */
  stats(): Array<{ table: string; bytes: number; rows: number; openedAtMs: number }> {
    return [...this.open.values()].map((b) => ({ table: b.table, bytes: b.bytes, rows: rowsOf(b), openedAtMs: b.openedAtMs }));
  }

  /** Drops a table's batch without flushing (its splits were revoked; the new owner re-reads them). */
  discard(table: string): void {
    const b = this.open.get(table);
    if (!b) return;
    this.open.delete(table);
    this.total -= b.bytes;
  }

  /**
   * Back-pressure for the source. Over the budget every `active` split pauses until the
   * buffers are back at resumeRatio × budget. And a table whose batch reached its row or
   * byte limit but cannot be flushed now (`waiting`: its maintenance runs) pauses the
   * splits it reads, so it does not grow past its limits meanwhile. Returns only changes.
   */
  backpressure(active: Iterable<SplitId>, waiting: Iterable<string> = []): { pause: SplitId[]; resume: SplitId[] } {
    if (this.total > this.limits.memoryBudgetBytes) this.overBudget = true;
    else if (this.total <= this.limits.memoryBudgetBytes * this.resumeRatio) this.overBudget = false;
    const live = new Set(active);
    const want = new Set<SplitId>(this.overBudget ? live : []);
    for (const t of waiting) {
      const b = this.open.get(t);
      if (b === undefined || this.full(b) === undefined) continue;
      for (const s of b.splits.keys()) if (live.has(s)) want.add(s);
    }
    const pause = [...want].filter((s) => !this.paused.has(s));
    const resume = [...this.paused].filter((s) => !want.has(s));
    for (const s of pause) this.paused.add(s);
    for (const s of resume) this.paused.delete(s);
    return { pause, resume };
  }
}

/** Rows a batch holds: its newest event per key, its keyless events and a truncate. */
function rowsOf(b: OpenBatch): number {
  return b.keyed.size + (b.lane?.size ?? 0) + b.keyless.length + (b.truncate ? 1 : 0);
}

function batchOf(b: OpenBatch, held: number): TableBatch {
  const events: ChangeEvent[] = [];
  for (const e of b.keyed.values()) events.push(e.event);
  for (const e of b.keyless) events.push(e.event);
  return {
    table: b.table,
    truncate: b.truncate?.event ?? null,
    events,
    encoded: b.lane !== null && b.lane.size > 0 ? b.lane : null,
    splits: b.splits,
    rows: events.length + (b.lane?.size ?? 0) + (b.truncate ? 1 : 0),
    bytes: b.bytes,
    openedAtMs: b.openedAtMs,
    lastPosition: b.lastPosition?.text ?? null,
    held,
  };
}

/** The batch's transaction spans with every pending note folded in (null without tracking). */
function spansOf(b: OpenBatch): Map<string, TxnSpan> | null {
  const txns = b.txns;
  const n = b.notes;
  if (txns === null || n === null || n.length === 0) return txns;
  for (let i = 0; i < n.length; i++) {
    const txId = n.ids[i] as string;
    const split = n.splits[i] as SplitId;
    const offset = n.offset(i);
    let span = txns.get(txId);
    if (span === undefined) txns.set(txId, (span = { seen: 0, firstOffsets: new Map(), lastOffsets: new Map(), firstSeenMs: n.msAt(i) }));
    span.seen++;
    const first = span.firstOffsets.get(split);
    if (first === undefined || offset < first) span.firstOffsets.set(split, offset);
    const last = span.lastOffsets.get(split);
    if (last === undefined || offset > last) span.lastOffsets.set(split, offset);
  }
  b.notes = new TxnNotes();
  return txns;
}

/** The source transaction an event belongs to; snapshot reads belong to none (no END ever names them). */
function txOf(e: ChangeEvent): string | null {
  return e.op === 'r' ? null : e.txId;
}

function ownTx(e: Entry): string[] {
  const tx = txOf(e.event);
  return tx === null ? [] : [tx];
}

/** The entry's transactions plus `incoming`; grows the entry's own list in place (one array per merged entry). */
function mergedTxIds(cur: Entry, incoming: string | null): string[] {
  const ids = cur.txIds ?? ownTx(cur);
  if (incoming !== null && !ids.includes(incoming)) ids.push(incoming);
  return ids;
}

function alignEntries(b: OpenBatch): AlignEntry[] {
  const out: AlignEntry[] = [];
  const push = (e: Entry): void => {
    out.push({ split: splitId(e.event.origin.topic, e.event.origin.partition), offset: e.event.origin.offset, txIds: e.txIds ?? ownTx(e) });
  };
  if (b.truncate) push(b.truncate);
  for (const e of b.keyed.values()) push(e);
  for (const e of b.keyless) push(e);
  for (const o of b.lane?.origins().values() ?? []) out.push({ split: o.split, offset: o.offset, txIds: o.txIds });
  return out;
}
