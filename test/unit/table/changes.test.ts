import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { readChanges } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { CONFIG, del, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

test('a delete in the changes carries its source position (from the delete block)', async () => {
  const t = await HudiTable.create(new LocalStore(await tempDir('cdc-lake-changes-')), 'shop/customers', CONFIG);
  await t.commit({ schema, mutations: [up(1, 'a', 10, 'c'), up(2, 'b', 11, 'c')] });
  await t.commit({ schema, mutations: [del(2, 42), up(1, 'a2', 43)] });
  const { changes } = await readChanges(t, { since: '00000000000000000', meta: true });
  const d = changes.find((c) => c.op === 'd');
  assert.ok(d, 'the delete is a change');
  assert.equal(d.key, '2');
  assert.equal(d.row._cdc_op, 'd');
  assert.equal(BigInt(d.row._cdc_position as number | bigint), 42n);
  // Upserts keep theirs from the data block.
  assert.equal(BigInt(changes.find((c) => c.op === 'u')!.row._cdc_position as number | bigint), 43n);
});
