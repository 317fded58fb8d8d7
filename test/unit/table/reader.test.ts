import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { outputSchema, readSnapshot } from '../../../src/table/reader.js';
import { avroDataBlock, deleteBlock } from '../../../src/hudi/log-content.js';
import { encodeLogBlock } from '../../../src/hudi/log-block.js';
import { writeBaseFile } from '../../../src/table/base-file.js';
import type { FileSlice } from '../../../src/table/fs-view.js';
import { writeParquet } from '../../../src/table/parquet.js';
import { withMetaFields } from '../../../src/table/meta-fields.js';
import type { Row, TableSchema } from '../../../src/table/schema.js';
import { joinFields, readLatestRows } from '../../../src/table/slice-reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { BASE, CONFIG, TMP, del, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

test('joinFields: equal field lists stay, any difference or unknown source is mixed', () => {
  assert.deepEqual(joinFields(undefined, ['a', 'b']), ['a', 'b']);
  assert.deepEqual(joinFields(['a', 'b'], undefined), ['a', 'b']);
  assert.deepEqual(joinFields(['a', 'b'], ['a', 'b']), ['a', 'b']);
  assert.equal(joinFields(['a', 'b'], ['b', 'a']), 'mixed');
  assert.equal(joinFields(['a', 'b'], ['a']), 'mixed');
  assert.equal(joinFields(['a'], 'mixed'), 'mixed');
  assert.equal(joinFields('mixed', ['a']), 'mixed');
});

test('time travel to before an added column: base and older log rows all get exactly the output fields, in order', async () => {
  const t = await HudiTable.create(new LocalStore(await tempDir('cdc-lake-reader-', TMP)), BASE, { ...CONFIG, buckets: 1 });
  await t.commit({ schema, mutations: [up(1, 'a', 10, 'c'), up(2, 'b', 11, 'c')] });
  // Logged with the old schema (one bucket: the second commit appends a log block).
  const before = await t.commit({ schema, mutations: [up(3, 'c', 12, 'c'), up(1, 'a2', 13)] });
  const wider: TableSchema = { ...schema, fields: [...schema.fields.slice(0, 2), { name: 'tier', type: ['null', 'string'], default: null }, ...schema.fields.slice(2)] };
  const m = up(4, 'd', 14, 'c');
  m.row.tier = 'gold';
  await t.commit({ schema: wider, mutations: [m] });
  for (const opts of [{ asOf: before.instant as string, meta: true }, { asOf: before.instant as string }, {}]) {
    const snap = await readSnapshot(t, opts);
    const names = outputSchema(wider, opts).fields.map((f) => f.name);
    assert.deepEqual(snap.schema.fields.map((f) => f.name), names);
    for (const row of snap.rows) assert.deepEqual(Object.keys(row), names, `row ${String(row.id)} of ${JSON.stringify(opts)}`);
    const expected = opts.asOf === undefined ? ['1:a2:null', '2:b:null', '3:c:null', '4:d:gold'] : ['1:a2:null', '2:b:null', '3:c:null'];
    assert.deepEqual(snap.rows.map((r) => `${r.id}:${r.name}:${r.tier}`), expected);
  }
});

test('a snapshot of some columns equals whole rows cut to them: updates, a stale update, a delete and a log-only key applied', async () => {
  const t = await HudiTable.create(new LocalStore(await tempDir('cdc-lake-reader-', TMP)), BASE, { ...CONFIG, buckets: 1 });
  const first = await t.commit({ schema, mutations: [1, 2, 3, 4, 5, 6].map((id) => up(id, `n${id}`, 10 + id, 'c')) });
  // One bucket: these land in log blocks over the base file (the stale update of 3 loses to its base row).
  await t.commit({ schema, mutations: [up(2, 'n2b', 30), up(3, 'stale', 1), del(4, 31), up(7, 'n7', 32, 'c')] });
  await t.commit({ schema, mutations: [up(5, 'n5b', 40), up(2, 'n2c', 41)] });
  const cut = (rows: Record<string, unknown>[], cols: string[]): Record<string, unknown>[] => rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null])));
  for (const asOf of [undefined, first.instant]) {
    for (const readOptimized of [false, true]) {
      const whole = (await readSnapshot(t, { meta: true, readOptimized, ...(asOf ? { asOf } : {}) })).rows;
      for (const columns of [['name'], ['name', 'id'], ['_cdc_op', '_cdc_position', 'name'], ['_hoodie_commit_seqno', 'name'], ['_hoodie_record_key']]) {
        const got = (await readSnapshot(t, { columns, readOptimized, ...(asOf ? { asOf } : {}) })).rows;
        assert.deepEqual(got, cut(whole, columns), `columns ${columns.join(',')}, as of ${asOf ?? 'latest'}, read-optimized ${readOptimized}`);
        for (const r of got) assert.deepEqual(Object.keys(r), columns);
      }
    }
  }
  assert.deepEqual((await readSnapshot(t, { columns: ['id', 'name'] })).rows, [
    { id: 1, name: 'n1' }, { id: 2, name: 'n2c' }, { id: 3, name: 'n3' }, { id: 5, name: 'n5b' }, { id: 6, name: 'n6' }, { id: 7, name: 'n7' },
  ]);
});

test('slice rows with some fields: the merge reads base orderings and seqnos from the file (a base row beating a later log record, as Spark tables may have, still wins)', async () => {
  const full = withMetaFields(schema);
  const [i1, i2] = ['20261129100000000', '20261129110000000'];
  const row = (id: number, name: string, pos: number, instant: string, n: number): Row => ({
    _hoodie_commit_time: instant, _hoodie_commit_seqno: `${instant}_0_${n}`, _hoodie_record_key: String(id), _hoodie_partition_path: '', _hoodie_file_name: 'f1',
    id, name, _cdc_op: 'u', _cdc_source_ts_ms: 1, _cdc_position: pos, _cdc_tx_id: null,
  });
  const baseRows = [row(1, 'base1', 50, i1, 0), row(2, 'base2', 5, i1, 1), row(3, 'base3', 7, i1, 2), row(4, 'base4', 1, i1, 3), row(6, 'base6', 2, i1, 4)];
  // Key 1: an older position than its base row; 2: newer; 3: the same position, a later seqno; 4: deleted; 0 and 5: only in the log.
  const log = [row(1, 'log1', 10, i2, 0), row(2, 'log2', 6, i2, 1), row(3, 'log3', 7, i2, 2), row(5, 'log5', 9, i2, 3), row(0, 'log0', 9, i2, 4)];
  const logBytes = Buffer.concat([
    encodeLogBlock(avroDataBlock({ instantTime: i2, schema: full, rows: log })),
    encodeLogBlock(deleteBlock({ instantTime: i2, schema: full, records: [{ recordKey: '4', partitionPath: '', orderingVal: 8 }], orderingEncoding: 'java-wrapper' })),
  ]);
  // Our base files hold rows in key order (merged by walking); Spark's in any order (merged by lookups).
  for (const [order, bytes] of [['key order', writeBaseFile(full, baseRows)], ['file order', writeParquet(full, [...baseRows].reverse(), { metaColumns: true })]] as const) {
    const store = new LocalStore(await tempDir('cdc-lake-slice-', TMP));
    await store.put('f1.parquet', bytes);
    await store.put('f1.log', logBytes);
    const slice: FileSlice = {
      partition: '', fileId: 'f1', baseInstant: i1,
      base: { path: 'f1.parquet', name: 'f1.parquet', fileId: 'f1', instant: i1, size: 0 },
      logs: [{ path: 'f1.log', name: 'f1.log', size: 0, fileId: 'f1', baseInstant: i1, version: 1, writeToken: '0-1-1' }],
    };
    const opts = { asOf: i2, completed: new Set([i1, i2]), orderingField: '_cdc_position', schema: full };
    const whole = await readLatestRows(store, slice, opts);
    const byKey = (r: { rows: Row[]; keys: string[] }): Record<string, Row> => Object.fromEntries(r.keys.map((k, i) => [k, r.rows[i] as Row]));
    assert.deepEqual(Object.fromEntries(Object.entries(byKey(whole)).map(([k, r]) => [k, r.name])), { 0: 'log0', 1: 'base1', 2: 'log2', 3: 'log3', 5: 'log5', 6: 'base6' }, order);
    for (const fields of [['name'], ['id', 'name']]) {
      const some = await readLatestRows(store, slice, { ...opts, fields });
      assert.deepEqual(byKey(some), Object.fromEntries(Object.entries(byKey(whole)).map(([k, r]) => [k, Object.fromEntries(fields.map((f) => [f, r[f]]))])), `${order}: ${fields.join()}`);
      assert.deepEqual(some.fields, fields);
    }
  }
});
