import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { BaseFileColumnError, writeBaseFile, type WriteColumns } from '../../../src/table/base-file.js';
import { compact } from '../../../src/table/compaction.js';
import { withMetaFields } from '../../../src/table/meta-fields.js';
import { arrowToRows, readParquet, readParquetMetadata, writeParquet } from '../../../src/table/parquet.js';
import type { Row, TableSchema } from '../../../src/table/schema.js';
import { HudiTable } from '../../../src/table/table.js';
import { BASE, CONFIG, TMP, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

const full: TableSchema = withMetaFields(schema);
const FILE = 'f1-0_0-1-1_20261129200000000.parquet';
/** Arrival order; in string order `k10` and `k11` come before `k2`. */
const ARRIVAL = [7, 2, 11, 0, 9, 4, 10, 1, 5, 8, 3, 6];

const key = (id: number): string => `k${id}`;
const seqno = (id: number): string => `20261129200000000_0_${id}`;

function userRow(id: number): Row {
  return { id, name: `n${id}`, _cdc_op: 'c', _cdc_source_ts_ms: 1, _cdc_tx_id: null };
}

function fullRow(id: number): Row {
  return {
    _hoodie_commit_time: '20261129200000000',
    _hoodie_commit_seqno: seqno(id),
    _hoodie_record_key: key(id),
    _hoodie_partition_path: '',
    _hoodie_file_name: FILE,
    ...userRow(id),
    _cdc_position: id,
  };
}

/** The meta fields and the ordering as side columns, the way the table writer passes them. */
function sideColumns(ids: readonly number[]): WriteColumns {
  return {
    _hoodie_commit_time: ids.map(() => '20261129200000000'),
    _hoodie_commit_seqno: ids.map(seqno),
    _hoodie_record_key: ids.map(key),
    _hoodie_partition_path: ids.map(() => ''),
    _hoodie_file_name: ids.map(() => FILE),
    _cdc_position: ids.map((id) => BigInt(id)),
  };
}

const inKeyOrder = (ids: readonly number[]): number[] => [...ids].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

/** Each row read back is whole: its key, user values, ordering and seqno all belong to one id. */
function assertRowsOf(bytes: Uint8Array, ids: readonly number[]): void {
  const got = arrowToRows(readParquet(bytes), full);
  assert.deepEqual(got.map((r) => r._hoodie_record_key), ids.map(key));
  for (const r of got) {
    const id = Number(String(r._hoodie_record_key).slice(1));
    assert.equal(r.id, id);
    assert.equal(r.name, `n${id}`);
    assert.equal(Number(r._cdc_position), id);
    assert.equal(r._hoodie_commit_seqno, seqno(id));
  }
}

test('base file: rows given with their meta fields are written in record-key order, each row whole', async () => {
  const rows = ARRIVAL.map(fullRow);
  const bytes = writeBaseFile(full, rows);
  assertRowsOf(bytes, inKeyOrder(ARRIVAL));
  const meta = (await readParquetMetadata(bytes)).keyValueMetadata;
  assert.equal(meta.hoodie_min_record_key, 'k0');
  assert.equal(meta.hoodie_max_record_key, 'k9');
  assert.deepEqual(rows, ARRIVAL.map(fullRow), "the caller's rows are unchanged");
});

test('base file: side columns are permuted with their rows; the caller arrays are unchanged', () => {
  const rows = ARRIVAL.map(userRow);
  const columns = sideColumns(ARRIVAL);
  const bytes = writeBaseFile(full, rows, columns);
  assertRowsOf(bytes, inKeyOrder(ARRIVAL));
  assert.deepEqual(columns, sideColumns(ARRIVAL));
  assert.deepEqual(rows, ARRIVAL.map(userRow));
});

/**
 * What a reader sees of a file: every stored column of every row, in order, and the footer's
 * key-value metadata. Not the bytes: parquet-wasm writes the footer's key-value pairs in hash
 * order, which differs between two writes of the same file.
 */
async function contents(bytes: Uint8Array): Promise<{ rows: Row[]; footer: Record<string, string> }> {
  return { rows: arrowToRows(readParquet(bytes)), footer: (await readParquetMetadata(bytes)).keyValueMetadata };
}

test('base file: unordered input gives the same file as the same rows given in key order', async () => {
  const sorted = inKeyOrder(ARRIVAL);
  assert.deepEqual(
    await contents(writeBaseFile(full, ARRIVAL.map(userRow), sideColumns(ARRIVAL))),
    await contents(writeBaseFile(full, sorted.map(userRow), sideColumns(sorted))),
  );
  assert.deepEqual(await contents(writeBaseFile(full, ARRIVAL.map(fullRow))), await contents(writeBaseFile(full, sorted.map(fullRow))));
});

test('base file: input already in key order is written as given (a plain write with the footer)', async () => {
  const sorted = inKeyOrder(ARRIVAL);
  const columns = sideColumns(sorted);
  const plain = writeParquet(full, sorted.map(userRow), {
    metaColumns: true,
    columns,
    keyValueMetadata: { 'parquet.avro.schema': JSON.stringify(full), 'writer.model.name': 'avro', hoodie_min_record_key: 'k0', hoodie_max_record_key: 'k9' },
  });
  assert.deepEqual(await contents(writeBaseFile(full, sorted.map(userRow), columns)), await contents(plain));
});

test('base file: a side column without one value per row names the file and the column', () => {
  const columns = { ...sideColumns(ARRIVAL), _cdc_position: [1n, 2n] };
  assert.throws(
    () => writeBaseFile(full, ARRIVAL.map(userRow), columns),
    (e: unknown) => e instanceof BaseFileColumnError && e.column === '_cdc_position' && e.file === FILE && /2 values for 12 rows/.test(e.message),
  );
});

/** Every base file of the table, with its record keys in file order. */
async function baseFileKeys(store: LocalStore): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const o of await store.list(`${BASE}/`)) {
    if (!o.key.endsWith('.parquet')) continue;
    const table = readParquet(await store.get(o.key), { columns: ['_hoodie_record_key'] });
    out.set(o.key, arrowToRows(table).map((r) => String(r._hoodie_record_key)));
  }
  return out;
}

test('table: base files of new file groups, schema rewrites and compactions hold their rows in record-key order', async () => {
  const store = new LocalStore(await tempDir('cdc-lake-base-file-', TMP));
  const t = await HudiTable.create(store, BASE, CONFIG);
  let pos = 0;
  await t.commit({ schema, mutations: ARRIVAL.map((id) => up(id, `a${id}`, ++pos, 'c')) });
  // Updates in place plus new keys that sort between the existing ones, in logs.
  await t.commit({ schema, mutations: [3, 105, 10, 21, 0, 13].map((id) => up(id, `b${id}`, ++pos)) });
  // A new column rewrites every file group's base file.
  const wider: TableSchema = { ...schema, fields: [...schema.fields, { name: 'email', type: ['null', 'string'], default: null }] };
  await t.commit({ schema: wider, mutations: [up(1, 'c1', ++pos), up(1000, 'c1000', ++pos)] });
  await t.commit({ schema: wider, mutations: [44, 2, 999, 6].map((id) => up(id, `d${id}`, ++pos)) });
  assert.ok((await compact(t)).instant, 'the logs were compacted');
  const files = await baseFileKeys(store);
  const instants = new Set([...files.keys()].map((k) => k.slice(k.lastIndexOf('_') + 1, -'.parquet'.length)));
  assert.ok(instants.size >= 3, `base files of new groups, rewrites and the compaction: ${[...instants].join(', ')}`);
  for (const [file, keys] of files) {
    assert.ok(keys.length > 0, file);
    assert.deepEqual(keys, [...keys].sort(), `${file} holds its rows in key order`);
  }
});
