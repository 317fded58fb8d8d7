import { compareKeys, inKeyOrder } from './record-key.js';
import type { Row, Value } from './schema.js';

/**
 * Merging one file slice (base rows + log records + log deletes) into the latest
 * record per key, with the rules hudi-rs applies for an ordering field
 * (event-time ordering, `DefaultHoodieRecordPayload`):
 * - records: the highest (ordering value, `_hoodie_commit_seqno`) wins;
 * - a delete with ordering value 0 ("natural order") removes the key when it was
 *   written at or after the winning record's commit; any other delete removes it
 *   when its ordering value is at least the record's.
 * Pure: values in, values out.
 */

export interface SliceRecord {
  key: string;
  ordering: Value;
  commitTime: string;
  seqno: string;
  row: Row;
}

/** What a merge compares: a record without its row (base rows are built only for the winners). */
export type RecordVersion = Omit<SliceRecord, 'row'>;

export interface SliceDelete {
  key: string;
  ordering: Value;
  instant: string;
}

/** Total order over ordering values: numbers and bigints numerically, strings lexically, null lowest. */
export function compareOrdering(a: Value | undefined, b: Value | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
    const x = typeof a === 'bigint' ? a : BigInt(Math.trunc(a));
    const y = typeof b === 'bigint' ? b : BigInt(Math.trunc(b));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function isNaturalOrder(ordering: Value): boolean {
  return ordering === 0 || ordering === 0n || ordering === null;
}

/** Whether `candidate` replaces `current` as the latest version of a key. */
export function supersedes(candidate: RecordVersion, current: RecordVersion): boolean {
  const c = compareOrdering(candidate.ordering, current.ordering);
  if (c !== 0) return c > 0;
  return candidate.seqno > current.seqno || (candidate.seqno === current.seqno && candidate.commitTime >= current.commitTime);
}

export function deleteApplies(del: SliceDelete, record: RecordVersion): boolean {
  if (isNaturalOrder(del.ordering)) return del.instant >= record.commitTime;
  return compareOrdering(del.ordering, record.ordering) >= 0;
}

export interface MergedSlice {
  records: Map<string, SliceRecord>;
  /** Keys whose latest event is a delete, with that delete (a watermark for later writes). */
  deletes: Map<string, SliceDelete>;
}

/** Later deletes of the same key win; among equals the later instant. */
function laterDelete(a: SliceDelete, b: SliceDelete): SliceDelete {
  const c = compareOrdering(a.ordering, b.ordering);
  if (c !== 0) return c > 0 ? a : b;
  return a.instant >= b.instant ? a : b;
}

/** A slice's latest record per key, with the deletes applied. */
export function mergeSlice(records: Iterable<SliceRecord>, deletes: Iterable<SliceDelete>): MergedSlice {
  return applyDeletes(latestRecords(records), deletes);
}

/**
 * The deletes applied to already-folded latest records (`latest` is updated in place): a
 * caller that folds records as they are decoded (compaction) gathers the deletes meanwhile
 * and applies them once the records are all in.
 */
export function applyDeletes(latest: Map<string, SliceRecord>, deletes: Iterable<SliceDelete>): MergedSlice {
  const remaining = new Map<string, SliceDelete>();
  for (const [key, del] of latestDeletes(deletes)) {
    const rec = latest.get(key);
    if (rec === undefined) remaining.set(key, del);
    else if (deleteApplies(del, rec)) {
      latest.delete(key);
      remaining.set(key, del);
    }
  }
  return { records: latest, deletes: remaining };
}

/**
 * How a base file (unique keys) and its logs merge into the latest rows of a slice, decided
 * before any base row is built: `sources[j]` is output row j's base row index, or the log
 * record that wins it, and `keys[j]` its key. Only keys that also occur in the logs pay for a
 * version and a map entry. Same winner as `mergeSlice` over base-then-log records: folding the
 * logs first and comparing the result with the base version picks the same last maximum.
 * Order: base keys in file order, then keys only in the logs.
 */
export interface BaseLogMerge {
  sources: (number | SliceRecord)[];
  keys: string[];
}

export function mergeBaseWithLogs(
  baseKeys: readonly string[],
  baseVersion: (index: number) => RecordVersion,
  logRecords: Iterable<SliceRecord>,
  logDeletes: Iterable<SliceDelete>,
): BaseLogMerge {
  const logLatest = latestRecords(logRecords);
  const lastDelete = latestDeletes(logDeletes);
  const sources: (number | SliceRecord)[] = [];
  const keys: string[] = [];
  // Base files cdc-lake writes hold their rows in key order: then walking them beside the sorted
  // keys the logs touch costs a string comparison per base row, where a map lookup hashed every
  // key (~1 s at 1M rows). Base files in another order (Spark's) look every key up.
  const touched = inKeyOrder(baseKeys) ? touchedKeys(logLatest, lastDelete) : undefined;
  let next = 0;
  // Most slices have no deletes: then a base row costs one map lookup, not two.
  const anyDelete = lastDelete.size > 0;
  for (let i = 0; i < baseKeys.length; i++) {
    const k = baseKeys[i] as string;
    if (touched !== undefined) {
      while (next < touched.length && (touched[next] as string) < k) next++;
      if (touched[next] !== k) {
        sources.push(i);
        keys.push(k);
        continue;
      }
    }
    const log = logLatest.get(k);
    const del = anyDelete ? lastDelete.get(k) : undefined;
    if (log === undefined && del === undefined) {
      sources.push(i);
      keys.push(k);
      continue;
    }
    const base = baseVersion(i);
    const winner = log !== undefined && supersedes(log, base) ? log : base;
    logLatest.delete(k);
    if (del === undefined || !deleteApplies(del, winner)) {
      sources.push(winner === base ? i : (log as SliceRecord));
      keys.push(k);
    }
  }
  for (const [k, rec] of logLatest) {
    const del = lastDelete.get(k);
    if (del === undefined || !deleteApplies(del, rec)) {
      sources.push(rec);
      keys.push(k);
    }
  }
  return { sources, keys };
}

/** Every key a log record or delete names, sorted. */
function touchedKeys(records: ReadonlyMap<string, SliceRecord>, deletes: ReadonlyMap<string, SliceDelete>): string[] {
  const out = [...records.keys()];
  for (const k of deletes.keys()) if (!records.has(k)) out.push(k);
  return out.sort(compareKeys);
}

/** The latest record per key (`supersedes`). */
export function latestRecords(records: Iterable<SliceRecord>): Map<string, SliceRecord> {
  const latest = new Map<string, SliceRecord>();
  for (const r of records) {
    const cur = latest.get(r.key);
    if (cur === undefined || supersedes(r, cur)) latest.set(r.key, r);
  }
  return latest;
}

function latestDeletes(deletes: Iterable<SliceDelete>): Map<string, SliceDelete> {
  const lastDelete = new Map<string, SliceDelete>();
  for (const d of deletes) {
    const cur = lastDelete.get(d.key);
    lastDelete.set(d.key, cur === undefined ? d : laterDelete(d, cur));
  }
  return lastDelete;
}
