/**
 * Tables ordered by a column (`tables.overrides.<table>.ordering`): which change of a row wins
 * is decided by that column's value — a version counter, a timestamp every update sets — as
 * with Hudi's precombine field, instead of by the source position. The value goes to the
 * `_cdc_ordering` column (long), the table's precombine field, so every Hudi engine merges
 * the same way. Deletes apply in source order: their column value is not trustworthy (a
 * DEFAULT replica identity sends only the key), so they enter with 0 and the writer gives
 * them the value of the row they remove (table/write-plan.ts). No I/O; `orderByColumn` and
 * `foldByColumn` set the event's `order` and `afterDelete`.
 */
import type { ChangeEvent } from '../debezium/change-event.js';
import type { AvroField, Value } from '../table/schema.js';
import { foldPrecombine, PRECOMBINE_FLOOR, type OrderedChange } from '../table/write-plan.js';

export const COLUMN_ORDERING_FIELD = '_cdc_ordering';

export const COLUMN_ORDERING: AvroField = { name: COLUMN_ORDERING_FIELD, type: ['null', 'long'], default: null };

const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * A column value as a 64-bit ordering: integers as they are; ISO-8601 timestamps with a
 * zone (Debezium's ZonedTimestamp for `timestamptz`) as epoch microseconds. Not negative: a
 * delete of nothing is written at 0, below every value. Otherwise a description of what
 * the value is, for the dead letter.
 */
export function orderingValue(v: Value | undefined): bigint | string {
  if (typeof v === 'bigint') return v >= 0n ? v : `a negative value (${v})`;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? (v >= 0 ? BigInt(v) : `a negative value (${v})`) : `a number that is not a safe integer (${v})`;
  if (typeof v === 'string') {
    const m = ISO.exec(v);
    const ms = m === null ? Number.NaN : Date.parse(`${m[1]}${m[3]}`);
    if (m === null || Number.isNaN(ms)) return `a string that is not an ISO-8601 timestamp with a zone (${JSON.stringify(v.slice(0, 40))})`;
    const micros = BigInt(ms) * 1000n + BigInt((m[2] ?? '').padEnd(6, '0').slice(0, 6));
    return micros >= 0n ? micros : `a timestamp before 1970 (${v})`;
  }
  if (v === undefined) return 'no such column';
  if (v === null) return 'a null value';
  return `a value of type ${v instanceof Uint8Array ? 'bytes' : Array.isArray(v) ? 'array' : typeof v}`;
}

/**
 * Sets `event.order` for a table ordered by `column`: the column's value for inserts,
 * updates and reads, `PRECOMBINE_FLOOR` for deletes. Returns why not when the change has no
 * usable value (the caller dead-letters it).
 */
export function orderByColumn(event: ChangeEvent, column: string): string | undefined {
  if (event.op === 't') return undefined;
  if (event.op === 'd') {
    event.order = PRECOMBINE_FLOOR;
    return undefined;
  }
  const v = orderingValue(event.row?.[column]);
  if (typeof v === 'bigint') {
    event.order = v;
    return undefined;
  }
  return v;
}

/** Folds the next change of a key into the buffered one (`foldPrecombine`); returns the one to keep. */
export function foldByColumn(kept: ChangeEvent, next: ChangeEvent): ChangeEvent {
  const f = foldPrecombine(orderedChange(kept), orderedChange(next));
  if (f.keep === 'kept') return kept;
  next.order = f.ordering;
  if (f.afterDelete === undefined) delete next.afterDelete;
  else next.afterDelete = f.afterDelete;
  return next;
}

function orderedChange(e: ChangeEvent): OrderedChange {
  return { deleted: e.op === 'd', ordering: e.order as bigint, afterDelete: e.afterDelete };
}
