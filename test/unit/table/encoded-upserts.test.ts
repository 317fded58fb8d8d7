// Upserts that arrive Avro-encoded (the fast path's rows) leave the table as the same rows
// given as values would: spliced into log blocks when the schema allows, decoded for new
// base files and for a commit whose schema moved on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeAvroDataContent } from '../../../src/hudi/log-content.js';
import { LocalStore } from '../../../src/storage/local-store.js';
import type { EncodedUpserts } from '../../../src/table/encoded-upserts.js';
import { readChanges, readSnapshot } from '../../../src/table/reader.js';
import type { TableSchema } from '../../../src/table/schema.js';
import { HudiTable, type CommitRequest } from '../../../src/table/table.js';
import type { Mutation } from '../../../src/table/write-plan.js';
import { CONFIG, del, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

/** The upserts among `ms` as encoded upserts; `reads` counts the keys the writer read from them. */
function encodedOf(ms: Mutation[], s: TableSchema, reads = { keys: 0 }): EncodedUpserts {
  const ups = ms.filter((m) => m.kind === 'upsert');
  const datums = ups.map((m) => Buffer.from(encodeAvroDataContent(s, [m.row])).subarray(12));
  return {
    schema: s,
    count: ups.length,
    keyField: 'id',
    key: (i) => {
      reads.keys++;
      return String(ups[i]?.row['id']);
    },
    ordering: (i) => ups[i]?.ordering as bigint,
    datum: (i) => datums[i] as Uint8Array,
  };
}

/** What a reader sees of a table: every change (without the instant- and file-named meta fields) and the snapshot. */
async function contents(t: HudiTable): Promise<unknown> {
  const { changes } = await readChanges(t, { since: '00000000000000000', meta: true });
  const strip = (r: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(r).filter(([k]) => !['_hoodie_commit_time', '_hoodie_commit_seqno', '_hoodie_file_name'].includes(k)));
  const snapshot = await readSnapshot(t);
  return {
    changes: changes.map((c) => ({ op: c.op, key: c.key, row: strip(c.row) })).sort((a, b) => `${a.key}${a.row['_cdc_position']}`.localeCompare(`${b.key}${b.row['_cdc_position']}`)),
    snapshot: snapshot.rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort(),
  };
}

const evolved: TableSchema = { ...schema, fields: [...schema.fields.slice(0, 2), { name: 'tier', type: ['null', 'string'], default: null }, ...schema.fields.slice(2)] };

test('encoded upserts write what the same upserts as rows write: base files, spliced logs, a schema change', async () => {
  const byRows = await HudiTable.create(new LocalStore(await tempDir('cdc-lake-rows-')), 'shop/customers', CONFIG);
  const byBytes = await HudiTable.create(new LocalStore(await tempDir('cdc-lake-bytes-')), 'shop/customers', CONFIG);
  const steps: { schema: TableSchema; objects: Mutation[]; encoded: Mutation[] }[] = [
    // a new table: its base files are written from the decoded rows
    { schema, objects: [], encoded: [up(1, 'a', 10, 'c'), up(2, 'b', 11, 'c'), up(3, 'c', 12, 'c')] },
    // log appends: spliced; a stale one skipped by the source-order guard; a delete beside them
    { schema, objects: [del(3, 22)], encoded: [up(1, 'a2', 20), up(2, 'stale', 5), up(4, 'd', 21, 'c')] },
    // the same key both ways: the newer wins
    { schema, objects: [up(1, 'row wins', 31)], encoded: [up(1, 'bytes lose', 30), up(4, 'd2', 32)] },
    // the commit's schema moved on (a column added): the encoded rows are decoded and written in it
    { schema: evolved, objects: [up(5, 'e', 40, 'c')], encoded: [up(2, 'b3', 41)] },
  ];
  for (const [i, s] of steps.entries()) {
    const reads = { keys: 0 };
    const req: CommitRequest = { schema: s.schema, mutations: s.objects };
    const a = await byRows.commit({ ...req, mutations: [...s.objects, ...s.encoded] });
    const b = await byBytes.commit({ ...req, encoded: encodedOf(s.encoded, schema, reads) });
    assert.deepEqual([b.upserts, b.deletes, b.skipped], [a.upserts, a.deletes, a.skipped], `step ${i}: counts`);
    if (i === 1 || i === 2) assert.ok(reads.keys > 0, `step ${i}: spliced`);
    if (i === 3) assert.equal(reads.keys, 0, `step ${i}: decoded`);
    assert.deepEqual(await contents(byBytes), await contents(byRows), `step ${i}`);
  }
});
