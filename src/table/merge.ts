import { compareKeys, inKeyOrder } from './record-key.js';
import type { Row, Value } from './schema.js';

/**
 * Merging one file slice (base rows + log records + log deletes) into the latest record per
 * key, as hudi-rs 0.5 and Spark 0.15 read a table with an ordering field
 * (`DefaultHoodieRecordPayload`; measured in docs/table-format.md):
 * - the logs are folded first, in log order: a record or a delete replaces what a key holds
 *   unless that has a larger ordering value (an equal value goes to the later one); a delete
 *   with ordering value 0 ("natural order") replaces whatever the key holds, and whatever
 *   comes after it replaces it;
 * - then the base row stays only if its ordering value is larger than that of the logs'
 *   record or delete for its key (a natural-order delete always removes it).
 * Pure: values in, values out.
 */

export interface SliceRecord {
  key: string;
  ordering: Value;
  commitTime: string;
  seqno: string;
  row: Row;
}

export interface SliceDelete {
  key: string;
  ordering: Value;
  instant: string;
}

/** What a key's log folds to: its winning record, or the delete that stands. */
export type LogState = SliceRecord | SliceDelete;

const isRecord = (s: LogState): s is SliceRecord => 'row' in s;

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

/** Whether a later record or delete with this ordering value replaces what a key holds. */
function replaces(ordering: Value, held: LogState): boolean {
  return (!isRecord(held) && isNaturalOrder(held.ordering)) || compareOrdering(ordering, held.ordering) >= 0;
}

/** Whether a key's base row stays over what its logs fold to. */
export function baseStays(baseOrdering: Value, log: LogState): boolean {
  if (!isRecord(log) && isNaturalOrder(log.ordering)) return false;
  return compareOrdering(baseOrdering, log.ordering) > 0;
}

/** A slice's log records and deletes, folded per key in the order they are added (log order). */
export class LogFold {
  readonly states = new Map<string, LogState>();

  record(r: SliceRecord): void {
    const held = this.states.get(r.key);
    if (held === undefined || replaces(r.ordering, held)) this.states.set(r.key, r);
  }

  delete(d: SliceDelete): void {
    const held = this.states.get(d.key);
    if (held === undefined || isNaturalOrder(d.ordering) || replaces(d.ordering, held)) this.states.set(d.key, d);
  }
}

export interface MergedSlice {
  records: Map<string, SliceRecord>;
  /** Keys whose latest event is a delete, with that delete (a watermark for later writes). */
  deletes: Map<string, SliceDelete>;
}

/** A slice's latest record per key: base keys in base order, then keys only in the logs. */
export function mergeSlice(base: Iterable<SliceRecord>, log: ReadonlyMap<string, LogState>): MergedSlice {
  const records = new Map<string, SliceRecord>();
  const deletes = new Map<string, SliceDelete>();
  for (const b of base) {
    const s = log.get(b.key);
    if (s === undefined || baseStays(b.ordering, s)) records.set(b.key, b);
    else if (isRecord(s)) records.set(b.key, s);
    else deletes.set(b.key, s);
  }
  // Every base key is in one of the two maps by now: what is in neither is only in the logs.
  for (const [key, s] of log) {
    if (records.has(key) || deletes.has(key)) continue;
    if (isRecord(s)) records.set(key, s);
    else deletes.set(key, s);
  }
  return { records, deletes };
}

/**
 * How a base file (unique keys) and its folded logs merge into the latest rows of a slice,
 * decided before any base row is built: `sources[j]` is output row j's base row index, or the
 * log record that wins it, and `keys[j]` its key. Only keys the logs touch read a base
 * ordering value. Same result as `mergeSlice`. Order: base keys in file order, then keys only
 * in the logs.
 */
export interface BaseLogMerge {
  sources: (number | SliceRecord)[];
  keys: string[];
}

export function mergeBaseWithLogs(baseKeys: readonly string[], baseOrdering: (index: number) => Value, log: ReadonlyMap<string, LogState>): BaseLogMerge {
  const sources: (number | SliceRecord)[] = [];
  const keys: string[] = [];
  const logOnly = new Map(log);
  // Base files cdc-lake writes hold their rows in key order: then walking them beside the sorted
  // keys the logs touch costs a string comparison per base row, where a map lookup hashed every
  // key (~1 s at 1M rows). Base files in another order (Spark's) look every key up.
  const touched = inKeyOrder(baseKeys) ? [...log.keys()].sort(compareKeys) : undefined;
  let next = 0;
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
    const s = log.get(k);
    if (s === undefined) {
      sources.push(i);
      keys.push(k);
      continue;
    }
    logOnly.delete(k);
    if (baseStays(baseOrdering(i), s)) sources.push(i);
    else if (isRecord(s)) sources.push(s);
    else continue;
    keys.push(k);
  }
  for (const [k, s] of logOnly) {
    if (!isRecord(s)) continue;
    sources.push(s);
    keys.push(k);
  }
  return { sources, keys };
}
