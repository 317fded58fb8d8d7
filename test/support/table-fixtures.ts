// Shared by the table unit tests: a small customers table with the CDC columns.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { TableSchema } from '../../src/table/schema.js';
import type { Mutation } from '../../src/table/write-plan.js';

/** tmpfs when there is one: LocalStore fsyncs every put, and the table tests make thousands. */
export const TMP = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export const BASE = 'shop/customers';
export const CONFIG = { tableName: 'shop_customers', database: 'shop', recordKeyFields: ['id'], orderingField: '_cdc_position', buckets: 2 };

export const schema: TableSchema = {
  type: 'record',
  name: 'customers',
  namespace: 'shop',
  fields: [
    { name: 'id', type: ['null', 'int'], default: null },
    { name: 'name', type: ['null', 'string'], default: null },
    { name: '_cdc_op', type: ['null', 'string'], default: null },
    { name: '_cdc_source_ts_ms', type: ['null', 'long'], default: null },
    { name: '_cdc_position', type: ['null', 'long'], default: null },
    { name: '_cdc_tx_id', type: ['null', 'string'], default: null },
  ],
};

export function up(id: number, name: string, pos: number, op = 'u'): Mutation {
  return { kind: 'upsert', ordering: BigInt(pos), row: { id, name, _cdc_op: op, _cdc_source_ts_ms: 1, _cdc_position: pos, _cdc_tx_id: null } };
}

export function del(id: number, pos: number): Mutation {
  return { kind: 'delete', ordering: BigInt(pos), row: { id } };
}

/** Rows as sorted `id:name` strings. */
export const names = (rows: Record<string, unknown>[]): string[] => rows.map((r) => `${r.id}:${r.name}`).sort();
