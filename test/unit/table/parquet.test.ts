import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Type } from 'apache-arrow';
import {
  arrowToRows,
  decimalToUnscaled,
  ParquetFileError,
  ParquetValueError,
  readParquet,
  readParquetColumns,
  readParquetMetadata,
  rowsToArrow,
  unscaledToDecimal,
  writeParquet,
} from '../../../src/table/parquet.js';
import type { AvroType, Row, TableSchema } from '../../../src/table/schema.js';
import { tempDir } from '../../support/temp.js';

const META = ['_hoodie_commit_time', '_hoodie_commit_seqno', '_hoodie_record_key', '_hoodie_partition_path', '_hoodie_file_name'];
const opt = (type: AvroType) => ['null', type] as AvroType;

/** Every type of the shared contract, meta columns first. */
const schema: TableSchema = {
  type: 'record',
  name: 'inventory_orders',
  namespace: 'hoodie.inventory',
  fields: [
    ...META.map((name) => ({ name, type: opt('string'), default: null })),
    { name: 'id', type: opt('long'), default: null },
    { name: 'qty', type: opt('int'), default: null },
    { name: 'price', type: opt({ type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }), default: null },
    { name: 'wide', type: opt({ type: 'bytes', logicalType: 'decimal', precision: 38, scale: 6 }), default: null },
    { name: 'vdec', type: opt({ type: 'string', 'cdc.semantic': 'variable-decimal' }), default: null },
    { name: 'ratio', type: opt('float'), default: null },
    { name: 'score', type: opt('double'), default: null },
    { name: 'active', type: opt('boolean'), default: null },
    { name: 'name', type: opt('string'), default: null },
    { name: 'payload', type: opt('bytes'), default: null },
    { name: 'day', type: opt({ type: 'int', logicalType: 'date' }), default: null },
    { name: 't_ms', type: opt({ type: 'int', logicalType: 'time-millis' }), default: null },
    { name: 't_us', type: opt({ type: 'long', logicalType: 'time-micros' }), default: null },
    { name: 't_ns', type: opt({ type: 'long', 'cdc.semantic': 'nano-time' }), default: null },
    { name: 'ts_ms', type: opt({ type: 'long', logicalType: 'timestamp-millis' }), default: null },
    { name: 'ts_us', type: opt({ type: 'long', logicalType: 'timestamp-micros' }), default: null },
    { name: 'ts_ns', type: opt({ type: 'long', 'cdc.semantic': 'nano-timestamp' }), default: null },
    { name: 'year', type: opt({ type: 'int', 'cdc.semantic': 'year' }), default: null },
    { name: 'uuid', type: opt({ type: 'string', logicalType: 'uuid' }), default: null },
    { name: 'tags', type: opt({ type: 'array', items: opt('string') }), default: null },
    { name: 'nums', type: opt({ type: 'array', items: opt('long') }), default: null },
    {
      name: 'geom',
      type: opt({ type: 'record', name: 'geometry', fields: [{ name: 'wkb', type: opt('bytes'), default: null }, { name: 'srid', type: opt('int'), default: null }] }),
      default: null,
    },
    { name: '_cdc_op', type: opt('string'), default: null },
    { name: '_cdc_source_ts_ms', type: opt('long'), default: null },
    { name: '_cdc_position', type: opt('long'), default: null },
    { name: '_cdc_tx_id', type: opt('string'), default: null },
  ],
};

function fullRow(i: number): Row {
  return {
    _hoodie_commit_time: '20260101000000000',
    _hoodie_commit_seqno: `20260101000000000_0_${i}`,
    _hoodie_record_key: `id:${i}`,
    _hoodie_partition_path: '',
    _hoodie_file_name: 'f-0_0-1-1_20260101000000000.parquet',
    id: 2n ** 53n + BigInt(i) + 1n,
    qty: -7 * i,
    price: `${i}.90`,
    wide: '-12345678901234567890123456789012.000001',
    vdec: '3.14159265358979323846',
    ratio: 0.5,
    score: -1.25e300,
    active: i % 2 === 0,
    name: `naïve ☃ 名前 ${i}`,
    payload: new Uint8Array([0, 255, i & 255]),
    day: -719162 + i,
    t_ms: 86399999,
    t_us: 86399999999,
    t_ns: 86399999999999n,
    ts_ms: 1767225600123,
    ts_us: -1234567,
    ts_ns: 1767225600123456789n,
    year: 2026,
    uuid: '6f1c0a1e-9a40-4c55-9f6c-2f4c1d8f0b3a',
    tags: ['a', null, '', 'd'],
    nums: [1, null, -(2n ** 62n)],
    geom: { wkb: new Uint8Array([1, 1, 0, 0, 0]), srid: 4326 },
    _cdc_op: 'u',
    _cdc_source_ts_ms: 1767225600000,
    _cdc_position: 9007199254740993n,
    _cdc_tx_id: null,
  };
}

function nullRow(): Row {
  return Object.fromEntries(schema.fields.map((f) => [f.name, null]));
}

let python: string | undefined;

describe('parquet', () => {
  before(() => {
    // pyarrow is optional for the unit suite: the schema assertions below use it when present.
    const stackFile = path.resolve('.stack/env');
    const fromStack = existsSync(stackFile) ? /^(?:export\s+)?HUDI_PYTHON=(.*)$/m.exec(readFileSync(stackFile, 'utf8'))?.[1] : undefined;
    for (const p of [process.env.CDC_LAKE_PYTHON, process.env.HUDI_PYTHON, fromStack, 'python3']) {
      if (!p) continue;
      try {
        execFileSync(p, ['-c', 'import pyarrow'], { stdio: 'ignore' });
        python = p;
        break;
      } catch {
        /* try the next */
      }
    }
  });

  it('round-trips every contract type, nulls, int64 beyond 2^53, decimals with scale, arrays with null elements', () => {
    const rows: Row[] = [fullRow(1), nullRow(), fullRow(2), { ...nullRow(), tags: [], nums: [null], geom: { wkb: null, srid: null } }];
    for (const price of ['-0.05', '-1.00', '-99999999.99', '99999999.99', '0.00']) rows.push({ ...nullRow(), price, wide: price, id: -Number.MAX_SAFE_INTEGER });
    const bytes = writeParquet(schema, rows, { metaColumns: true });
    const back = arrowToRows(readParquet(bytes), schema);
    // nano-time below 2^53 comes back as a number (long contract: bigint only beyond 2^53).
    assert.deepEqual(back, rows.map((r) => (r.t_ns === null ? { ...r, wide: typeof r.wide === 'string' && !r.wide.includes('-1234') ? `${r.wide}0000` : r.wide } : { ...r, t_ns: Number(r.t_ns) })));
    assert.equal(typeof back[0]!.id, 'bigint');
    // With `only`, the other rows are holes and the built ones the same.
    const only = Uint8Array.from(rows, (_r, i) => i % 3 === 1 ? 1 : 0);
    const some = arrowToRows(readParquet(bytes), schema, only);
    assert.equal(some.length, rows.length);
    rows.forEach((_r, i) => assert.deepEqual(some[i], only[i] === 1 ? back[i] : undefined, `row ${i}`));
    assert.equal(Object.keys(some).length, rows.filter((_r, i) => i % 3 === 1).length);
    assert.equal(typeof back[0]!._cdc_source_ts_ms, 'number');
    assert.equal(back[0]!.price, '1.90');
    assert.equal(typeof back[0]!.ts_ns, 'bigint');
  });

  it('rowsToArrow builds plain Utf8/Binary/Int64 columns in schema order', () => {
    const t = rowsToArrow(schema, [fullRow(1)]);
    assert.deepEqual(t.schema.fields.map((f) => f.name), schema.fields.map((f) => f.name));
    const byName = new Map(t.schema.fields.map((f) => [f.name, f.type]));
    assert.equal(byName.get('name')!.typeId, Type.Utf8);
    assert.equal(byName.get('payload')!.typeId, Type.Binary);
    assert.equal(byName.get('id')!.typeId, Type.Int);
    assert.ok(t.schema.fields.every((f) => f.nullable));
  });

  it('reads back plain Utf8 through arrow-rs (ARROW:schema carries Utf8, not LargeUtf8/Utf8View)', () => {
    const t = readParquet(writeParquet(schema, [fullRow(1)], { metaColumns: true }));
    for (const name of [...META, 'name', 'vdec', 'uuid', '_cdc_op']) assert.equal(t.schema.fields.find((f) => f.name === name)!.type.typeId, Type.Utf8, name);
    assert.equal(t.schema.fields.find((f) => f.name === 'payload')!.type.typeId, Type.Binary);
  });

  it('writes footer key-value metadata incl. parquet.avro.schema', async () => {
    const bytes = writeParquet(schema, [fullRow(1)], {
      metaColumns: true,
      keyValueMetadata: { hoodie_min_record_key: 'id:1', hoodie_max_record_key: 'id:1' },
      compression: 'gzip',
    });
    const meta = await readParquetMetadata(bytes);
    assert.equal(meta.numRows, 1);
    assert.equal(meta.keyValueMetadata.hoodie_min_record_key, 'id:1');
    assert.equal(meta.keyValueMetadata.hoodie_max_record_key, 'id:1');
    assert.deepEqual(JSON.parse(meta.keyValueMetadata['parquet.avro.schema']!), schema);
    assert.match(meta.createdBy ?? '', /parquet-rs/);
  });

  it('projects columns (sync and async readers)', async () => {
    const bytes = writeParquet(schema, [fullRow(1), fullRow(2)], { metaColumns: true });
    const sync = readParquet(bytes, { columns: ['_hoodie_record_key', 'id', 'not_there'] });
    assert.deepEqual(sync.schema.fields.map((f) => f.name), ['_hoodie_record_key', 'id']);
    const proj = await readParquetColumns(bytes, { columns: ['id', '_hoodie_record_key'] });
    assert.deepEqual(proj.schema.fields.map((f) => f.name).sort(), ['_hoodie_record_key', 'id']);
    assert.deepEqual(arrowToRows(proj).map((r) => r._hoodie_record_key), ['id:1', 'id:2']);
  });

  it('reads columns missing from the file as null (added columns)', () => {
    const old: TableSchema = { ...schema, fields: schema.fields.filter((f) => f.name !== 'score') };
    const bytes = writeParquet(old, [fullRow(1)], { metaColumns: true });
    const rows = arrowToRows(readParquet(bytes), schema);
    assert.equal(rows[0]!.score, null);
    assert.deepEqual(Object.keys(rows[0]!), schema.fields.map((f) => f.name));
  });

  it('has the expected Parquet physical/logical types (pyarrow)', async (t) => {
    if (!python) {
      t.skip('pyarrow not found (set CDC_LAKE_PYTHON or run npm run stack:up)');
      return;
    }
    const dir = await tempDir('cdc-lake-pq-');
    const file = path.join(dir, 'x.parquet');
    await fs.writeFile(file, writeParquet(schema, [fullRow(1)], { metaColumns: true }));
    const out = execFileSync(python, ['-c', 'import sys, pyarrow.parquet as pq; print(pq.ParquetFile(sys.argv[1]).schema)', file], { encoding: 'utf8' });
    const line = (name: string) => out.split('\n').find((l) => new RegExp(` ${name}( |;)`).test(l))?.trim() ?? `(no ${name})`;
    for (const m of META) assert.match(line(m), /^optional binary .*\(String\);$/);
    assert.match(line('id'), /^optional int64 [^(]*;$/);
    assert.match(line('qty'), /^optional int32 [^(]*;$/);
    assert.match(line('price'), /^optional (int64|fixed_len_byte_array\(\d+\)|binary) .*\(Decimal\(precision=10, scale=2\)\);$/);
    assert.match(line('wide'), /^optional fixed_len_byte_array\(16\) .*\(Decimal\(precision=38, scale=6\)\);$/);
    assert.match(line('ratio'), /^optional float /);
    assert.match(line('score'), /^optional double /);
    assert.match(line('active'), /^optional boolean /);
    assert.match(line('payload'), /^optional binary [^(]*;$/);
    assert.match(line('day'), /^optional int32 .*\(Date\);$/);
    assert.match(line('t_ms'), /^optional int32 .*\(Time\(isAdjustedToUTC=false, timeUnit=milliseconds\)\);$/);
    assert.match(line('t_us'), /^optional int64 .*\(Time\(isAdjustedToUTC=false, timeUnit=microseconds\)\);$/);
    assert.match(line('ts_ms'), /^optional int64 .*\(Timestamp\(isAdjustedToUTC=true, timeUnit=milliseconds/);
    assert.match(line('ts_us'), /^optional int64 .*\(Timestamp\(isAdjustedToUTC=true, timeUnit=microseconds/);
    assert.match(line('ts_ns'), /^optional int64 [^(]*;$/);
    assert.match(line('tags'), /^optional group .*\(List\) \{$/);
    assert.match(line('element'), /^optional binary .*\(String\);$/);
    assert.match(line('geom'), /^optional group [^(]*\{$/);
  });

  it('turns dictionary encoding off for mostly-unique columns', async (t) => {
    if (!python) {
      t.skip('pyarrow not found');
      return;
    }
    const rows = Array.from({ length: 2000 }, (_, i) => ({ ...fullRow(i), _cdc_op: i % 3 === 0 ? 'c' : 'u' }));
    const dir = await tempDir('cdc-lake-pq-');
    const file = path.join(dir, 'x.parquet');
    await fs.writeFile(file, writeParquet(schema, rows, { metaColumns: true }));
    const out = execFileSync(
      python,
      ['-c', 'import sys, json, pyarrow.parquet as pq; rg=pq.ParquetFile(sys.argv[1]).metadata.row_group(0); print(json.dumps({rg.column(i).path_in_schema: rg.column(i).encodings for i in range(rg.num_columns)}))', file],
      { encoding: 'utf8' },
    );
    const enc = JSON.parse(out) as Record<string, string[]>;
    assert.ok(!enc._hoodie_record_key!.includes('RLE_DICTIONARY'), `record key: ${enc._hoodie_record_key}`);
    assert.ok(!enc._hoodie_commit_seqno!.includes('RLE_DICTIONARY'));
    assert.ok(enc._cdc_op!.includes('RLE_DICTIONARY'));
    assert.ok(enc._hoodie_commit_time!.includes('RLE_DICTIONARY'));
  });

  it('rejects values that do not fit the column, naming column and row', () => {
    const bad = (patch: Row, re: RegExp) =>
      assert.throws(() => writeParquet(schema, [fullRow(0), { ...fullRow(1), ...patch }], { metaColumns: true }), (e: unknown) => {
        assert.ok(e instanceof ParquetValueError, String(e));
        assert.match(e.message, re);
        return true;
      });
    bad({ qty: 2 ** 31 }, /column qty, row 1/);
    bad({ price: '1.234' }, /column price, row 1: "1.234" is not a valid decimal\(10,2\)/);
    bad({ price: '123456789.00' }, /column price/);
    bad({ name: 5 }, /column name, row 1: 5 is not a valid string/);
    bad({ id: 1.5 }, /column id/);
    bad({ id: 2n ** 63n }, /column id/);
    bad({ tags: 'x' }, /column tags/);
  });

  it('requires the meta columns first for base files', () => {
    const noMeta: TableSchema = { ...schema, fields: schema.fields.slice(5) };
    assert.throws(() => writeParquet(noMeta, [], { metaColumns: true }), ParquetFileError);
    const bytes = writeParquet(noMeta, [], { metaColumns: false });
    assert.equal(readParquet(bytes).numRows, 0);
  });

  it('names the file when it is not Parquet', () => {
    assert.throws(() => readParquet(new Uint8Array([1, 2, 3]), { fileName: 'x.parquet' }), /Parquet file x\.parquet/);
  });

  it('decimal text ⇄ unscaled (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }), fc.integer({ min: 0, max: 38 }), (n, scale) => {
        assert.equal(decimalToUnscaled(unscaledToDecimal(n, scale), scale), n);
      }),
    );
    assert.equal(decimalToUnscaled('19.9', 2), 1990n);
    assert.equal(decimalToUnscaled('-.5', 1), -5n);
    assert.equal(decimalToUnscaled('1.2300', 2), 123n);
    assert.equal(decimalToUnscaled('1.234', 2), undefined);
    assert.equal(unscaledToDecimal(-5n, 3), '-0.005');
  });

  it('reads each column from rows of several shapes, whatever its name, and prefers given side columns', () => {
    // Column names become string literals of a generated loop: quotes, backslashes and names of
    // Object.prototype members must read the row's own property, never code or the prototype.
    const odd: TableSchema = {
      type: 'record',
      name: 'odd',
      fields: ['plain', 'a"b\\c', "it's", 'constructor', 'toString', 'x y\u2028z'].map((name) => ({ name, type: opt('string'), default: null })),
    };
    const shaped: Row = { plain: 'p0', 'a"b\\c': 'q0', "it's": 'r0', constructor: 's0', toString: 't0', 'x y\u2028z': 'u0' };
    const reordered: Row = { 'x y\u2028z': 'u1', toString: 't1', constructor: 's1', "it's": 'r1', 'a"b\\c': 'q1', plain: 'p1', extra: 'ignored' };
    const sparse: Row = { plain: 'p2', constructor: null, toString: 't2', "it's": 'r2', 'a"b\\c': 'q2', 'x y\u2028z': 'u2' };
    const rows = [shaped, reordered, sparse];
    const back = arrowToRows(readParquet(writeParquet(odd, rows, { metaColumns: false, columns: { plain: ['c0', 'c1', 'c2'] } })), odd);
    const expected: Row[] = [
      { ...shaped, plain: 'c0' },
      { plain: 'c1', 'a"b\\c': 'q1', "it's": 'r1', constructor: 's1', toString: 't1', 'x y\u2028z': 'u1' },
      { ...sparse, plain: 'c2' },
    ];
    assert.deepEqual(back, expected);
    const again = arrowToRows(readParquet(writeParquet(odd, rows.slice(0, 2), { metaColumns: false })), odd);
    assert.deepEqual(again.map((r) => r.constructor), ['s0', 's1']);
  });

  it('round-trips random rows (property)', () => {
    const small: TableSchema = {
      type: 'record',
      name: 'r',
      fields: [
        { name: 'l', type: opt('long'), default: null },
        { name: 's', type: opt('string'), default: null },
        { name: 'd', type: opt({ type: 'bytes', logicalType: 'decimal', precision: 20, scale: 4 }), default: null },
        { name: 'a', type: opt({ type: 'array', items: opt('int') }), default: null },
      ],
    };
    const long = fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => (b >= -(2n ** 53n) && b <= 2n ** 53n ? Number(b) : b)));
    const row = fc.record({
      l: fc.option(long),
      s: fc.option(fc.string({ unit: 'grapheme' })),
      d: fc.option(fc.bigInt({ min: -(10n ** 20n) + 1n, max: 10n ** 20n - 1n }).map((n) => unscaledToDecimal(n, 4))),
      a: fc.option(fc.array(fc.option(fc.integer()))),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        const back = arrowToRows(readParquet(writeParquet(small, rows, { metaColumns: false })), small);
        assert.deepEqual(back, rows.map((r) => ({ ...r }))); // fast-check records have a null prototype
      }),
      { numRuns: 60 },
    );
  });
});

describe('parquet: Spark-written Hudi base files', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('cdc-lake-fixture-');
    const zip = '/work/shared/fixtures/hudi/sample_table__mor__parquet__v6_nonpartitioned.zip';
    execFileSync('python3', ['-m', 'zipfile', '-e', zip, dir]);
  });

  it('reads the meta columns and every data type of sample_table v6 (GZIP, parquet-mr)', async () => {
    const base = path.join(dir, 'v6_nonpartitioned');
    const files = (await fs.readdir(base)).filter((f) => f.endsWith('.parquet')).sort();
    assert.ok(files.length >= 1);
    const name = 'd206069c-22c8-4532-b9ea-3cf4282342c4-0_0-13-23_20250117083125837.parquet';
    const bytes = new Uint8Array(await fs.readFile(path.join(base, name)));
    const meta = await readParquetMetadata(bytes);
    assert.match(meta.createdBy ?? '', /parquet-mr/);
    assert.equal(meta.keyValueMetadata.hoodie_min_record_key, '1');
    const rows = arrowToRows(readParquet(bytes, { fileName: name }));
    assert.equal(rows.length, 3);
    const bob = rows.find((r) => r._hoodie_record_key === '2')!;
    assert.equal(bob._hoodie_commit_time, '20250117083125837');
    assert.equal(bob._hoodie_commit_seqno, '20250117083125837_0_0');
    assert.equal(bob._hoodie_partition_path, '');
    assert.equal(bob._hoodie_file_name, name);
    assert.equal(bob.name, 'Bob');
    assert.equal(bob.longField, 9876543210);
    assert.equal(bob.decimalField, '67890.12345');
    assert.equal(bob.dateField, 19449); // 2023-04-02
    assert.equal(bob.timestampField, Date.UTC(2023, 3, 2, 13, 2) * 1000);
    assert.deepEqual(bob.binaryField, new TextEncoder().encode('more binary data'));
    assert.deepEqual(bob.arrayField, [
      { arr_struct_f1: 'yellow', arr_struct_f2: 400 },
      { arr_struct_f1: 'purple', arr_struct_f2: 500 },
    ]);
    assert.deepEqual((bob.structField as Record<string, unknown>).child_struct, { child_field1: 789.012, child_field2: false });
    // Without a schema every stored column comes back, meta columns first.
  });

  it('reads every base file of every v6 fixture table', async () => {
    const zips = (await fs.readdir('/work/shared/fixtures/hudi')).filter((f) => f.endsWith('.zip') && f.includes('parquet__v6'));
    let files = 0;
    for (const zip of zips) {
      const out = await tempDir('cdc-lake-fixture-');
      execFileSync('python3', ['-m', 'zipfile', '-e', path.join('/work/shared/fixtures/hudi', zip), out]);
      const all = await fs.readdir(out, { recursive: true });
      for (const f of all.filter((p) => p.endsWith('.parquet') && !p.includes('__MACOSX'))) {
        const bytes = new Uint8Array(await fs.readFile(path.join(out, f)));
        const rows = arrowToRows(readParquet(bytes, { fileName: f }));
        assert.ok(rows.every((r) => typeof r._hoodie_record_key === 'string'), f);
        files++;
      }
    }
    assert.ok(files >= 5, `only ${files} base files`);
  });
});
