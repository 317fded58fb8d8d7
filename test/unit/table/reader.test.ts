import { strict as assert } from 'node:assert';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { outputSchema, readSnapshot } from '../../../src/table/reader.js';
import type { TableSchema } from '../../../src/table/schema.js';
import { joinFields } from '../../../src/table/slice-reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { BASE, CONFIG, TMP, schema, up } from '../../support/table-fixtures.js';

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
  const t = await HudiTable.create(new LocalStore(await mkdtemp(join(TMP, 'cdc-lake-reader-'))), BASE, { ...CONFIG, buckets: 1 });
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
