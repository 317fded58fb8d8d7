/**
 * Transaction-aligned commits (issue 5): with Debezium transaction metadata, a table
 * commit never holds part of a source transaction. Two pure pieces:
 *
 * - `alignCut`: given what a table's batch buffered and which transactions are complete
 *   for that table, the offset per split from which records are held back. Everything
 *   at or above the cut stays buffered for the next flush; everything below it is
 *   committed and the checkpoint's `next` stops at the cut, so after a crash exactly the
 *   held records are read again (nothing lost, nothing applied twice).
 * - `TransactionLog`: the END events' per-table event counts, the evidence that a
 *   transaction's events for a table are all in.
 *
 * Why a cut per split rather than a set of held records: the checkpoint is one offset per
 * split, so a held record forces every later record of its split to be held too, and a
 * record held that way drags its own transaction along (a fixpoint). Debezium emits a
 * transaction's events contiguously in commit order, so in practice the cut is the first
 * offset of the open transaction at the tail of each split.
 */
import type { SplitId } from '../source/record.js';
import { tableIdentity } from './router.js';

/** Where one transaction's events for one table were read: first offset per split, and how many. */
export interface TxnSpan {
  /** Records of the transaction consumed by this table (buffered, replaced, stale or duplicate). */
  seen: number;
  /** First offset per split. */
  firstOffsets: Map<SplitId, bigint>;
  /** Last offset per split (a record replaced in the batch still counts: its offset is above a cut or not). */
  lastOffsets: Map<SplitId, bigint>;
  /** When the batch first saw it (for `maxHoldMs`). */
  firstSeenMs: number;
}

/** A buffered row as alignment sees it. */
export interface AlignEntry {
  split: SplitId;
  offset: bigint;
  /**
   * Transactions whose change of this row's key the entry carries: its own and those of
   * events it replaced in the batch. If any is held, the entry is held (committing it
   * would show a held transaction's change, or hide a committed one's).
   */
  txIds: readonly string[];
}

/**
 * The cut per split (records at offset >= cut are held). Splits without a cut commit
 * everything. Empty map = nothing held.
 */
export function alignCut(entries: readonly AlignEntry[], spans: ReadonlyMap<string, TxnSpan>, isComplete: (txId: string, span: TxnSpan) => boolean): Map<SplitId, bigint> {
  const held = new Set<string>();
  for (const [id, span] of spans) if (!isComplete(id, span)) held.add(id);
  const cut = new Map<SplitId, bigint>();
  if (held.size === 0) return cut;
  const lower = (split: SplitId, offset: bigint): boolean => {
    const c = cut.get(split);
    if (c !== undefined && c <= offset) return false;
    cut.set(split, offset);
    return true;
  };
  const hold = (id: string): boolean => {
    let moved = false;
    for (const [split, first] of spans.get(id)?.firstOffsets ?? []) moved = lower(split, first) || moved;
    return moved;
  };
  for (const id of held) hold(id);
  let changed = true;
  while (changed) {
    changed = false;
    for (const e of entries) {
      const c = cut.get(e.split);
      const byOffset = c !== undefined && e.offset >= c;
      const byKey = !byOffset && e.txIds.some((t) => held.has(t));
      if (!byOffset && !byKey) continue;
      if (byKey) changed = lower(e.split, e.offset) || changed;
      for (const t of e.txIds) {
        if (held.has(t)) continue;
        held.add(t);
        hold(t);
        // entries already passed may carry `t`: look at them again
        changed = true;
      }
    }
    // A transaction with any record at or above a cut (also one a newer change replaced in
    // the batch, so no entry shows it) would be half re-read after a crash: hold all of it.
    for (const [id, span] of spans) {
      if (held.has(id)) continue;
      for (const [split, last] of span.lastOffsets) {
        const c = cut.get(split);
        if (c === undefined || last < c) continue;
        held.add(id);
        changed = hold(id) || changed;
        break;
      }
    }
  }
  return cut;
}

/**
 * END events' per-table counts, by transaction id. Bounded: the oldest entries go first
 * (a transaction held longer than `maxHoldMs` is released anyway, see `Pipeline`).
 */
export class TransactionLog {
  private readonly counts = new Map<string, Map<string, number>>();
  /** Set once any BEGIN/END record was read: transaction metadata is on. */
  seenMetadata = false;

  constructor(private readonly capacity = 100_000) {}

  /** Records an END event's counts; `perTable` names tables as Debezium's data_collection. */
  end(txId: string, perTable: ReadonlyArray<{ table: string; eventCount: number }>): void {
    this.seenMetadata = true;
    const m = new Map<string, number>();
    for (const t of perTable) {
      let id: string;
      try {
        id = tableIdentity(t.table).id;
      } catch {
        continue; // a name no table can have: nothing waits for it
      }
      m.set(id, (m.get(id) ?? 0) + t.eventCount);
    }
    this.counts.delete(txId);
    this.counts.set(txId, m);
    if (this.counts.size > this.capacity) {
      const oldest = this.counts.keys().next().value;
      if (oldest !== undefined) this.counts.delete(oldest);
    }
  }

  /**
   * Expected event count of `txId` for `table` (routed id): a number once its END was
   * read (0 when the transaction did not touch the table), undefined before.
   */
  expected(txId: string, table: string): number | undefined {
    const m = this.counts.get(txId);
    return m === undefined ? undefined : (m.get(table) ?? 0);
  }

  /** Tables that the END of `txId` names (to wake their held batches). */
  tablesOf(txId: string): string[] {
    return [...(this.counts.get(txId)?.keys() ?? [])];
  }

  get size(): number {
    return this.counts.size;
  }
}
