import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeEvent } from '../../../src/debezium/change-event.js';
import { toMutation, withCdcColumns } from '../../../src/pipeline/rows.js';
import type { TableSchema } from '../../../src/table/schema.js';

const schema: TableSchema = { type: 'record', name: 't_record', fields: [{ name: 'id', type: 'long' }] };

function event(over: Partial<ChangeEvent>): ChangeEvent {
  return {
    table: 'public.t', op: 'u', key: { id: 1 }, row: { id: 1, name: 'a' }, position: { ordering: 7n, text: 'pg:1/null/7' },
    sourceTsMs: 1000, txId: '55', schema, keyFields: ['id'], unavailable: [], origin: { topic: 't', partition: 0, offset: 3n }, ...over,
  };
}

test('an upsert row is the source row plus the CDC columns, added to the handed-over row (no copy per flushed row)', () => {
  const e = event({});
  const m = toMutation(e);
  assert.deepEqual(m, { kind: 'upsert', ordering: 7n, row: { id: 1, name: 'a', _cdc_op: 'u', _cdc_source_ts_ms: 1000, _cdc_position: 7, _cdc_tx_id: '55' } });
  assert.equal(m.row, e.row);
});

test('a delete row is a new object: the key columns over the before image, which stays as it was', () => {
  const e = event({ op: 'd', key: { id: 2 }, row: { id: 2, name: 'fallback' } });
  const m = toMutation(e);
  assert.notEqual(m.row, e.row);
  assert.deepEqual(e.row, { id: 2, name: 'fallback' });
  assert.deepEqual(e.key, { id: 2 });
});

test('a delete keeps the key over the before image; unordered and unavailable are carried', () => {
  const d = toMutation(event({ op: 'd', key: { id: 2 }, row: { id: 2 }, position: { ordering: 0n, text: 'pg:incremental', unordered: true } }));
  assert.deepEqual(d, { kind: 'delete', ordering: 0n, row: { id: 2, _cdc_op: 'd', _cdc_source_ts_ms: 1000, _cdc_position: 0, _cdc_tx_id: '55' }, unordered: true });
  const big = 1n << 62n;
  const u = toMutation(event({ unavailable: ['doc'], position: { ordering: big, text: 'x' } }));
  assert.equal(u.kind, 'upsert');
  if (u.kind === 'upsert') assert.deepEqual(u.unavailable, ['doc']);
  assert.equal(u.row._cdc_position, big, 'an ordering beyond 2^53 stays a bigint');
});

test('withCdcColumns appends the CDC columns once', () => {
  const s = withCdcColumns(withCdcColumns(schema));
  assert.deepEqual(s.fields.map((f) => f.name), ['id', '_cdc_op', '_cdc_source_ts_ms', '_cdc_position', '_cdc_tx_id']);
});
