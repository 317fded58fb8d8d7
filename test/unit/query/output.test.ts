import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, Type, type Table } from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { arrowToRows, readParquetMetadata } from '../../../src/table/parquet.js';
import type { AvroType, Row, TableSchema } from '../../../src/table/schema.js';
import {
  createWriter,
  writeOutput,
  memorySink,
  fileSink,
  formatValueJson,
  parseOutputFormat,
  defaultOutputFormat,
  OutputFormatError,
} from '../../../src/query/output/index.js';
import { tempDirSync } from '../../support/temp.js';

// ---- A table schema with every type of the shared type contract, and rows exercising them.

const n = (type: AvroType): AvroType => ['null', type];
const sem = (type: string, semantic: string): AvroType => ({ type, 'cdc.semantic': semantic }) as AvroType;

const ALL_TYPES: TableSchema = {
  type: 'record',
  name: 'all_types',
  namespace: 'public',
  fields: [
    ['id', 'int'],
    ['i8', 'int'],
    ['big', 'long'],
    ['f', 'float'],
    ['d', 'double'],
    ['ok', 'boolean'],
    ['s', 'string'],
    ['raw', 'bytes'],
    ['price', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }],
    ['vdec', sem('string', 'variable-decimal')],
    ['day', { type: 'int', logicalType: 'date' }],
    ['t_ms', { type: 'int', logicalType: 'time-millis' }],
    ['t_us', { type: 'long', logicalType: 'time-micros' }],
    ['t_ns', sem('long', 'nano-time')],
    ['ts_ms', { type: 'long', logicalType: 'timestamp-millis' }],
    ['ts_us', { type: 'long', logicalType: 'timestamp-micros' }],
    ['ts_ns', sem('long', 'nano-timestamp')],
    ['zts', sem('string', 'zoned-timestamp')],
    ['zt', sem('string', 'zoned-time')],
    ['doc', sem('string', 'json')],
    ['uid', sem('string', 'uuid')],
    ['xml', sem('string', 'xml')],
    ['color', sem('string', 'enum')],
    ['colors', sem('string', 'enumset')],
    ['span', sem('string', 'interval')],
    ['dur', sem('long', 'micro-duration')],
    ['bits', sem('bytes', 'bits')],
    ['yr', sem('int', 'year')],
    [
      'geo',
      {
        type: 'record',
        name: 'geometry',
        fields: [
          { name: 'wkb', type: ['null', 'bytes'], default: null },
          { name: 'srid', type: ['null', 'int'], default: null },
        ],
        'cdc.semantic': 'geometry',
      } as AvroType,
    ],
    ['tags', { type: 'array', items: ['null', 'string'] }],
    ['nums', { type: 'array', items: ['null', 'long'] }],
    ['_cdc_op', 'string'],
    ['_cdc_source_ts_ms', 'long'],
    ['_cdc_position', 'long'],
    ['_cdc_tx_id', 'string'],
  ].map(([name, type]) => ({ name: name as string, type: n(type as AvroType), default: null })),
};

const ROWS: Row[] = [
  {
    id: 1,
    i8: -128,
    big: 9007199254740993n,
    f: Math.fround(0.1),
    d: 3.141592653589793,
    ok: true,
    s: 'a "quoted", line\nnext',
    raw: new Uint8Array([0, 1, 2, 255]),
    price: '19.90',
    vdec: '3.14159',
    day: 19723,
    t_ms: 45296789,
    t_us: 45296789012,
    t_ns: 45296789012345n,
    ts_ms: 1704112496789,
    ts_us: 1704112496789012,
    ts_ns: 1704112496789012345n,
    zts: '2024-01-01T12:34:56.789+02:00',
    zt: '12:34:56Z',
    doc: '{"a": [1, 2]}',
    uid: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    xml: '<a/>',
    color: 'red',
    colors: 'red,blue',
    span: 'P1Y2M3DT4H5M6.78S',
    dur: 90061000001,
    bits: new Uint8Array([5]),
    yr: 2024,
    geo: { wkb: new Uint8Array([1, 1, 0, 0, 0]), srid: 4326 },
    tags: ['x', null],
    nums: [1152921504606846976n, 2],
    _cdc_op: 'u',
    _cdc_source_ts_ms: 1704112496789,
    _cdc_position: 123456789012345678n,
    _cdc_tx_id: '571:1234',
  },
  {
    id: 2,
    i8: null,
    big: null,
    f: null,
    d: null,
    ok: null,
    s: null,
    raw: null,
    price: null,
    vdec: null,
    day: null,
    t_ms: null,
    t_us: null,
    t_ns: null,
    ts_ms: null,
    ts_us: null,
    ts_ns: null,
    zts: null,
    zt: null,
    doc: null,
    uid: null,
    xml: null,
    color: null,
    colors: null,
    span: null,
    dur: null,
    bits: null,
    yr: null,
    geo: null,
    tags: null,
    nums: null,
    _cdc_op: 'c',
    _cdc_source_ts_ms: 0,
    _cdc_position: 1,
    _cdc_tx_id: null,
  },
  {
    id: 3,
    i8: 0,
    big: -9223372036854775808n,
    f: -1.5,
    d: -0.5,
    ok: false,
    s: '',
    raw: new Uint8Array([]),
    price: '-0.05',
    vdec: '-12345678901234567890.123456789',
    day: -1,
    t_ms: 0,
    t_us: 86399999999,
    t_ns: 1n,
    ts_ms: -1,
    ts_us: -1,
    ts_ns: -1n,
    zts: '1969-12-31T23:59:59Z',
    zt: '00:00:00+01:00',
    doc: '[]',
    uid: '00000000-0000-0000-0000-000000000000',
    xml: '<a>b</a>',
    color: 'green',
    colors: '',
    span: 'PT0S',
    dur: -1,
    bits: new Uint8Array([0, 128]),
    yr: 1901,
    geo: { wkb: new Uint8Array([0]), srid: null },
    tags: [],
    nums: [null],
    _cdc_op: 'r',
    _cdc_source_ts_ms: 1,
    _cdc_position: 9223372036854775807n,
    _cdc_tx_id: '',
  },
];

/** The JSONL of ROWS, written by hand from design.md §5 and the type contract. */
const GOLDEN_JSONL = [
  '{"id":1,"i8":-128,"big":9007199254740993,"f":0.1,"d":3.141592653589793,"ok":true,"s":"a \\"quoted\\", line\\nnext","raw":"AAEC/w==","price":"19.90","vdec":"3.14159","day":"2024-01-01","t_ms":"12:34:56.789","t_us":"12:34:56.789012","t_ns":"12:34:56.789012345","ts_ms":"2024-01-01T12:34:56.789Z","ts_us":"2024-01-01T12:34:56.789012Z","ts_ns":"2024-01-01T12:34:56.789012345Z","zts":"2024-01-01T12:34:56.789+02:00","zt":"12:34:56Z","doc":"{\\"a\\": [1, 2]}","uid":"f81d4fae-7dec-11d0-a765-00a0c91e6bf6","xml":"<a/>","color":"red","colors":"red,blue","span":"P1Y2M3DT4H5M6.78S","dur":90061000001,"bits":"BQ==","yr":2024,"geo":{"wkb":"AQEAAAA=","srid":4326},"tags":["x",null],"nums":[1152921504606846976,2],"_cdc_op":"u","_cdc_source_ts_ms":1704112496789,"_cdc_position":123456789012345678,"_cdc_tx_id":"571:1234"}',
  '{"id":2,"i8":null,"big":null,"f":null,"d":null,"ok":null,"s":null,"raw":null,"price":null,"vdec":null,"day":null,"t_ms":null,"t_us":null,"t_ns":null,"ts_ms":null,"ts_us":null,"ts_ns":null,"zts":null,"zt":null,"doc":null,"uid":null,"xml":null,"color":null,"colors":null,"span":null,"dur":null,"bits":null,"yr":null,"geo":null,"tags":null,"nums":null,"_cdc_op":"c","_cdc_source_ts_ms":0,"_cdc_position":1,"_cdc_tx_id":null}',
  '{"id":3,"i8":0,"big":-9223372036854775808,"f":-1.5,"d":-0.5,"ok":false,"s":"","raw":"","price":"-0.05","vdec":"-12345678901234567890.123456789","day":"1969-12-31","t_ms":"00:00:00.000","t_us":"23:59:59.999999","t_ns":"00:00:00.000000001","ts_ms":"1969-12-31T23:59:59.999Z","ts_us":"1969-12-31T23:59:59.999999Z","ts_ns":"1969-12-31T23:59:59.999999999Z","zts":"1969-12-31T23:59:59Z","zt":"00:00:00+01:00","doc":"[]","uid":"00000000-0000-0000-0000-000000000000","xml":"<a>b</a>","color":"green","colors":"","span":"PT0S","dur":-1,"bits":"AIA=","yr":1901,"geo":{"wkb":"AA==","srid":null},"tags":[],"nums":[null],"_cdc_op":"r","_cdc_source_ts_ms":1,"_cdc_position":9223372036854775807,"_cdc_tx_id":""}',
].join('\n') + '\n';

const GOLDEN_CSV = [
  'id,i8,big,f,d,ok,s,raw,price,vdec,day,t_ms,t_us,t_ns,ts_ms,ts_us,ts_ns,zts,zt,doc,uid,xml,color,colors,span,dur,bits,yr,geo,tags,nums,_cdc_op,_cdc_source_ts_ms,_cdc_position,_cdc_tx_id',
  '1,-128,9007199254740993,0.1,3.141592653589793,true,"a ""quoted"", line\nnext",AAEC/w==,19.90,3.14159,2024-01-01,12:34:56.789,12:34:56.789012,12:34:56.789012345,2024-01-01T12:34:56.789Z,2024-01-01T12:34:56.789012Z,2024-01-01T12:34:56.789012345Z,2024-01-01T12:34:56.789+02:00,12:34:56Z,"{""a"": [1, 2]}",f81d4fae-7dec-11d0-a765-00a0c91e6bf6,<a/>,red,"red,blue",P1Y2M3DT4H5M6.78S,90061000001,BQ==,2024,"{""wkb"":""AQEAAAA="",""srid"":4326}","[""x"",null]","[1152921504606846976,2]",u,1704112496789,123456789012345678,571:1234',
  '2,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,c,0,1,',
  '3,0,-9223372036854775808,-1.5,-0.5,false,"","",-0.05,-12345678901234567890.123456789,1969-12-31,00:00:00.000,23:59:59.999999,00:00:00.000000001,1969-12-31T23:59:59.999Z,1969-12-31T23:59:59.999999Z,1969-12-31T23:59:59.999999999Z,1969-12-31T23:59:59Z,00:00:00+01:00,[],00000000-0000-0000-0000-000000000000,<a>b</a>,green,"",PT0S,-1,AIA=,1901,"{""wkb"":""AA=="",""srid"":null}",[],[null],r,1,9223372036854775807,""',
].join('\r\n') + '\r\n';

// ---- Tests

async function render(format: 'jsonl' | 'csv' | 'table' | 'arrow' | 'parquet', input: Parameters<typeof writeOutput>[2]): Promise<ReturnType<typeof memorySink>> {
  const sink = memorySink();
  await writeOutput(format, ALL_TYPES, input, sink);
  return sink;
}

async function* asyncRows(rows: Row[]): AsyncIterable<Row> {
  for (const r of rows) yield r;
}

function jsonlOf(rows: Row[]): Promise<string> {
  return render('jsonl', rows).then((s) => s.text());
}

test('JSONL golden output for every contract type', async () => {
  assert.equal((await render('jsonl', ROWS)).text(), GOLDEN_JSONL);
});

test('JSONL from an async iterable equals JSONL from an array; lines parse as JSON', async () => {
  const text = (await render('jsonl', asyncRows(ROWS))).text();
  assert.equal(text, GOLDEN_JSONL);
  for (const line of text.trimEnd().split('\n')) JSON.parse(line);
});

test('CSV golden output (RFC 4180) for every contract type', async () => {
  assert.equal((await render('csv', ROWS)).text(), GOLDEN_CSV);
});

test('formatValueJson: exact int64, decimals keep their scale, float32 shortest form, non-finite as strings', () => {
  assert.equal(formatValueJson(2n ** 63n - 1n, ['null', 'long']), '9223372036854775807');
  assert.equal(formatValueJson(12, 'long'), '12');
  assert.equal(formatValueJson('19.9', { type: 'bytes', logicalType: 'decimal', precision: 5, scale: 2 }), '"19.90"');
  assert.equal(formatValueJson('7', { type: 'bytes', logicalType: 'decimal', precision: 5, scale: 0 }), '"7"');
  assert.equal(formatValueJson(Math.fround(3.3), 'float'), '3.3');
  assert.equal(formatValueJson(NaN, 'double'), '"NaN"');
  assert.equal(formatValueJson(-Infinity, 'double'), '"-Infinity"');
  assert.equal(formatValueJson(null, ['null', 'string']), 'null');
  assert.equal(formatValueJson(-719162, { type: 'int', logicalType: 'date' }), '"0001-01-01"');
  assert.equal(formatValueJson(0, { type: 'long', logicalType: 'timestamp-micros' }), '"1970-01-01T00:00:00.000000Z"');
  assert.equal(formatValueJson(1n, { type: 'long', logicalType: 'timestamp-millis' }), '"1970-01-01T00:00:00.001Z"');
  // Schemaless values keep the form they arrived in.
  assert.equal(formatValueJson({ a: 1n, b: [true, 'x'] }, 'string'), '{"a":1,"b":[true,"x"]}');
  assert.equal(formatValueJson('not-a-number', 'long'), '"not-a-number"');
});

test('table format: aligned, NULL shown, wide cells cut, one line per row', async () => {
  const text = (await render('table', ROWS)).text();
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 2 + ROWS.length + 1);
  assert.equal(lines.at(-1), '(3 rows)');
  assert.match(lines[0]!, /^id \| i8 {3}\| big/);
  assert.match(lines[2]!, /a "quoted", line\\nnext/);
  assert.match(lines[3]!, /NULL/);
  assert.ok(lines[4]!.includes('-12345678901234567890.123456789'));
  const sink = memorySink();
  await writeOutput('table', ALL_TYPES, [{ ...ROWS[0]!, s: 'x'.repeat(100) }], sink, { maxCellWidth: 10 });
  assert.match(sink.text(), / xxxxxxxxx… /);
  // Every data line has its column separators at the same offsets as the header.
  const sepAt = (l: string): number[] => [...l.matchAll(/ \| /g)].map((m) => m.index ?? -1);
  const t2 = (await render('table', [ROWS[1]!, ROWS[2]!])).text().split('\n');
  const h = sepAt(t2[0]!);
  assert.deepEqual(sepAt(t2[2]!).slice(0, 5), h.slice(0, 5));
});

function assertArrowTypes(t: Table): void {
  const typeOf = (name: string) => t.schema.fields.find((f) => f.name === name)?.type;
  assert.equal(typeOf('ts_ms')?.typeId, Type.Timestamp);
  assert.equal(typeOf('ts_us')?.typeId, Type.Timestamp);
  assert.equal(typeOf('ts_ns')?.typeId, Type.Timestamp, 'nano timestamps are Arrow timestamps in query output');
  assert.equal(typeOf('t_ns')?.typeId, Type.Time);
  assert.equal(typeOf('price')?.typeId, Type.Decimal);
  assert.equal(typeOf('day')?.typeId, Type.Date);
  assert.equal(typeOf('t_us')?.typeId, Type.Time);
  assert.equal(typeOf('big')?.typeId, Type.Int);
  assert.equal(typeOf('tags')?.typeId, Type.List);
  assert.equal(typeOf('geo')?.typeId, Type.Struct);
  assert.deepEqual(
    t.schema.fields.map((f) => f.name),
    ALL_TYPES.fields.map((f) => f.name),
  );
}

test('Arrow IPC stream reads back with apache-arrow to the same values', async () => {
  const bytes = (await render('arrow', asyncRows(ROWS))).bytes();
  const t = tableFromIPC(bytes);
  assert.equal(t.numRows, ROWS.length);
  assertArrowTypes(t);
  assert.equal(await jsonlOf(arrowToRows(t, ALL_TYPES)), GOLDEN_JSONL);
});

test('Arrow stream of several chunks is one stream with one schema', async () => {
  const sink = memorySink();
  const w = createWriter('arrow', ALL_TYPES, sink);
  for (const r of ROWS) await w.write([r]);
  assert.equal(await w.end(), 3);
  const t = tableFromIPC(sink.bytes());
  assert.equal(t.batches.length, 3);
  assert.equal(await jsonlOf(arrowToRows(t, ALL_TYPES)), GOLDEN_JSONL);
});

test('empty results: Arrow carries the schema, CSV the header, JSONL nothing', async () => {
  const t = tableFromIPC((await render('arrow', [])).bytes());
  assert.equal(t.numRows, 0);
  assert.equal(t.schema.fields.length, ALL_TYPES.fields.length);
  assert.equal((await render('csv', [])).text(), GOLDEN_CSV.split('\r\n')[0] + '\r\n');
  assert.equal((await render('jsonl', [])).text(), '');
  assert.match((await render('table', [])).text(), /\(0 rows\)\n$/);
});

test('Parquet output written to a file reads back with parquet-wasm to the same values', async () => {
  const dir = tempDirSync('cdc-out-');
  const path = join(dir, 'out.parquet');
  assert.equal(await writeOutput('parquet', ALL_TYPES, ROWS, fileSink(path)), 3);
  const bytes = new Uint8Array(readFileSync(path));
  assert.equal(Buffer.from(bytes.subarray(0, 4)).toString(), 'PAR1');
  const t = tableFromIPC(pq.readParquet(bytes).intoIPCStream());
  assertArrowTypes(t);
  assert.equal(await jsonlOf(arrowToRows(t, ALL_TYPES)), GOLDEN_JSONL);
});

test('Parquet output streams row groups and carries the Avro schema for Spark', async () => {
  const many: Row[] = [];
  for (let i = 0; i < 2500; i++) many.push({ ...ROWS[i % 3]!, id: i });
  const sink = memorySink();
  const w = createWriter('parquet', ALL_TYPES, sink, { rowGroupSize: 1000 });
  for (let i = 0; i < many.length; i += 700) await w.write(many.slice(i, i + 700));
  assert.equal(await w.end(), 2500);
  const bytes = sink.bytes();
  const meta = await readParquetMetadata(bytes);
  assert.equal(meta.numRows, 2500);
  assert.equal(meta.numRowGroups, 3);
  assert.deepEqual(JSON.parse(meta.keyValueMetadata['parquet.avro.schema'] ?? 'null'), ALL_TYPES);
  const back = arrowToRows(tableFromIPC(pq.readParquet(bytes).intoIPCStream()), ALL_TYPES);
  assert.equal(await jsonlOf(back), await jsonlOf(many));
});

test('an empty Parquet result is a valid file with the schema', async () => {
  const bytes = (await render('parquet', [])).bytes();
  const t = tableFromIPC(pq.readParquet(bytes).intoIPCStream());
  assert.equal(t.numRows, 0);
  assert.equal(t.schema.fields.length, ALL_TYPES.fields.length);
});

test('an Arrow table input is written in every text format', async () => {
  const t = tableFromIPC((await render('arrow', ROWS)).bytes());
  assert.equal((await render('jsonl', t)).text(), GOLDEN_JSONL);
  assert.equal((await render('csv', t)).text(), GOLDEN_CSV);
});

test('format names', () => {
  assert.equal(parseOutputFormat('csv'), 'csv');
  assert.throws(() => parseOutputFormat('xlsx'), (e: unknown) => e instanceof OutputFormatError && /use one of table, jsonl, csv, parquet, arrow/.test(e.message));
  assert.equal(defaultOutputFormat(true), 'table');
  assert.equal(defaultOutputFormat(false), 'jsonl');
});
