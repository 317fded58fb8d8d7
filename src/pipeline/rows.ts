import type { ChangeEvent } from '../debezium/change-event.js';
import type { AvroSink } from '../hudi/avro-encoder.js';
import type { Mutation } from '../table/write-plan.js';
import type { AvroField, Row, TableSchema } from '../table/schema.js';
import { COLUMN_ORDERING, COLUMN_ORDERING_FIELD } from './ordering.js';

/**
 * Change events → table mutations: the source row plus the CDC columns every
 * row carries (design brief §4). Pure.
 */

export const CDC_COLUMNS: AvroField[] = [
  { name: '_cdc_op', type: ['null', 'string'], default: null },
  { name: '_cdc_source_ts_ms', type: ['null', 'long'], default: null },
  { name: '_cdc_position', type: ['null', 'long'], default: null },
  { name: '_cdc_tx_id', type: ['null', 'string'], default: null },
];

const CDC_NAMES = new Set([...CDC_COLUMNS.map((f) => f.name), COLUMN_ORDERING_FIELD]);

/** Whether a column is one the pipeline adds (CDC columns, a column-ordered table's `_cdc_ordering`). */
export function isCdcColumn(name: string): boolean {
  return CDC_NAMES.has(name);
}

/** The table's data schema: the source columns, then the CDC columns (and `_cdc_ordering` for a table ordered by a column). */
export function withCdcColumns(schema: TableSchema, orderedByColumn = false): TableSchema {
  const cdc = orderedByColumn ? [...CDC_COLUMNS, COLUMN_ORDERING] : CDC_COLUMNS;
  return { ...schema, fields: [...schema.fields.filter((f) => !CDC_NAMES.has(f.name)), ...cdc] };
}

/**
 * Appends the CDC columns' Avro encoding (`CDC_COLUMNS`, in order) to a row the fast path
 * encoded: the same bytes `toMutation`'s row gets from the table writer's encoder.
 */
export function encodeCdcColumns(sink: AvroSink, op: string, sourceTsMs: number | null, ordering: bigint, txId: string | null): void {
  sink.byte(2);
  sink.string(op);
  if (sourceTsMs === null) sink.byte(0);
  else {
    sink.byte(2);
    sink.long(sourceTsMs);
  }
  sink.byte(2);
  sink.bigLong(ordering);
  if (txId === null) sink.byte(0);
  else {
    sink.byte(2);
    sink.string(txId);
  }
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function longValue(v: bigint): number | bigint {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

/** Copies `from`'s columns into `to` (one loop instead of spreads: this runs once per row written). */
function copyInto(to: Row, from: Row | null): void {
  if (from === null) return;
  for (const k in from) to[k] = from[k] as Row[string];
}

/**
 * The event's mutation. An upsert takes over the event's row object and adds the CDC
 * columns to it (no copy of every buffered row at each flush): call it once per event,
 * on events the buffer has handed over.
 */
export function toMutation(e: ChangeEvent): Mutation {
  let row: Row;
  if (e.op !== 'd' && e.row !== null) row = e.row;
  else {
    row = {};
    // Only the key is reliable in a delete's `before` (REPLICA IDENTITY DEFAULT fills the rest with fallbacks).
    if (e.op === 'd') copyInto(row, e.key);
    copyInto(row, e.row);
  }
  row._cdc_op = e.op;
  row._cdc_source_ts_ms = e.sourceTsMs;
  row._cdc_position = longValue(e.position.ordering);
  row._cdc_tx_id = e.txId;
  // A column-ordered table's changes all have an order (incremental-snapshot reads too).
  const ordering = e.order ?? e.position.ordering;
  const unordered = e.order === undefined && e.position.unordered === true;
  if (e.op === 'd') return unordered ? { kind: 'delete', ordering, row, unordered: true } : { kind: 'delete', ordering, row };
  const m: Mutation = { kind: 'upsert', ordering, row };
  if (e.afterDelete !== undefined) m.afterDelete = e.afterDelete;
  if (e.unavailable.length > 0) m.unavailable = e.unavailable;
  if (unordered) m.unordered = true;
  return m;
}
