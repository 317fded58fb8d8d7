import type { ChangeEvent } from '../debezium/change-event.js';
import type { Mutation } from '../table/write-plan.js';
import type { AvroField, Row, TableSchema } from '../table/schema.js';

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

const CDC_NAMES = new Set(CDC_COLUMNS.map((f) => f.name));

/** The table's data schema: the source columns, then the CDC columns. */
export function withCdcColumns(schema: TableSchema): TableSchema {
  return { ...schema, fields: [...schema.fields.filter((f) => !CDC_NAMES.has(f.name)), ...CDC_COLUMNS] };
}

function ordering(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function toMutation(e: ChangeEvent): Mutation {
  const cdc: Row = {
    _cdc_op: e.op,
    _cdc_source_ts_ms: e.sourceTsMs,
    _cdc_position: ordering(e.position.ordering),
    _cdc_tx_id: e.txId,
  };
  const unordered = e.position.unordered === true ? { unordered: true } : {};
  if (e.op === 'd') {
    // Only the key is reliable in a delete's `before` (REPLICA IDENTITY DEFAULT fills the rest with fallbacks).
    return { kind: 'delete', ordering: e.position.ordering, row: { ...(e.key ?? {}), ...(e.row ?? {}), ...cdc }, ...unordered };
  }
  return {
    kind: 'upsert',
    ordering: e.position.ordering,
    row: { ...(e.row ?? {}), ...cdc },
    ...(e.unavailable.length > 0 ? { unavailable: e.unavailable } : {}),
    ...unordered,
  };
}
