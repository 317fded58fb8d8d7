import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { withMetaFields } from '../../../src/table/meta-fields.js';
import { readParquet, writeParquet } from '../../../src/table/parquet.js';
import type { Row, TableSchema } from '../../../src/table/schema.js';
import { baseFileRows } from '../../../src/table/slice-reader.js';
import { schema } from '../../support/table-fixtures.js';

const full: TableSchema = withMetaFields(schema);

function rows(n: number, fileName: (i: number) => string, partition: (i: number) => string): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    _hoodie_commit_time: '20261129200000000',
    _hoodie_commit_seqno: `20261129200000000_0_${i}`,
    _hoodie_record_key: String(i),
    _hoodie_partition_path: partition(i),
    _hoodie_file_name: fileName(i),
    id: i,
    name: `n${i}`,
    _cdc_op: 'c',
    _cdc_source_ts_ms: 1,
    _cdc_position: i,
    _cdc_tx_id: null,
  }));
}

/** Several row groups, so equal values must hold across Arrow batches too. */
const read = (written: Row[]): Row[] => baseFileRows(readParquet(writeParquet(full, written, { metaColumns: true, rowGroupSize: 7 })), full);

test('base file rows: per-file meta values read once still equal the stored ones, in schema order', () => {
  const written = rows(30, () => 'f1-0_0-1-1_20261129200000000.parquet', () => 'region=eu');
  const got = read(written);
  assert.deepEqual(got, written);
  for (const r of got) assert.deepEqual(Object.keys(r), full.fields.map((f) => f.name));
});

test('base file rows: a meta column whose values differ (in a later row group, or in length) is read cell by cell', () => {
  for (const odd of [
    rows(30, (i) => (i === 29 ? 'f2.parquet' : 'f1.parquet'), () => ''),
    rows(30, () => 'f1.parquet', (i) => (i === 3 ? 'a=1/b=2' : 'a=1')),
    rows(30, (i) => (i === 12 ? 'f1.parque' : 'f1.parquet'), () => ''),
    // Same length, different bytes: mid-batch, and in the first row of a later batch.
    rows(30, (i) => (i === 10 ? 'f9.parquet' : 'f1.parquet'), () => ''),
    rows(30, (i) => (i === 7 ? 'f1.parquex' : 'f1.parquet'), () => ''),
    // A short cell and a long one: the bytes add up to n equal cells, the cells are not equal.
    rows(30, (i) => (i === 3 ? 'f1.parque' : i === 4 ? 'tf1.parquet' : 'f1.parquet'), () => ''),
  ]) assert.deepEqual(read(odd), odd);
});
