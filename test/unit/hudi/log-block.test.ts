import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import {
  HEADER_KEYS, LogBlockError, LogContentError, avroDataBlock, decodeAvroDataContent, decodeDeleteContent, decodeParquetDataContent,
  deleteBlock, encodeAvroDataContent, encodeDeleteContent, encodeLogBlock, readLogBlocks, rollbackCommandBlock,
  type BlockType, type LogBlockHeaders,
} from '../../../src/hudi/log-block.js';
import { bytesToDecimal, decimalToBytes } from '../../../src/hudi/avro-value.js';
import type { Row, TableSchema } from '../../../src/table/schema.js';
import { allZips, dataLogFiles, fixtureTable, standaloneLogFiles } from './fixture-files.js';

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

/** Decodes every block's content; returns the number of records/deletes seen. */
function decodeAll(bytes: Uint8Array, file: string): { blocks: ReturnType<typeof readLogBlocks>; records: number } {
  const blocks = readLogBlocks(bytes, file);
  let records = 0;
  for (const b of blocks) {
    if (b.type === 'AVRO_DATA') records += decodeAvroDataContent(b.content, b.headers.SCHEMA ?? '', file).length;
    else if (b.type === 'DELETE') records += decodeDeleteContent(b.content, file).length;
    else if (b.type === 'PARQUET_DATA') records += decodeParquetDataContent(b.content, file).length;
  }
  return { blocks, records };
}

test('every fixture log file decodes and re-encodes byte-identically', async () => {
  const files: string[] = [...standaloneLogFiles()];
  for (const zip of allZips()) {
    const t = await fixtureTable(zip);
    files.push(...dataLogFiles(t).map((f) => join(t.base, f)));
  }
  assert.ok(files.length >= 20, `found ${files.length} log files`);
  for (const f of files) {
    const bytes = readFileSync(f);
    const { blocks, records } = decodeAll(bytes, f);
    assert.ok(blocks.length >= 1, f);
    for (const b of blocks) assert.match(b.headers.INSTANT_TIME ?? '', /^\d{17}$/, `${f} INSTANT_TIME`);
    if (blocks.some((b) => b.type !== 'COMMAND')) assert.ok(records >= 1, `${f} has records`);
    assert.deepEqual(Buffer.from(concat(blocks.map((b) => encodeLogBlock(b)))), bytes, `${basename(f)} re-encodes identically`);
  }
});

test('standalone Avro data block: headers and first record', () => {
  const f = standaloneLogFiles().find((x) => x.includes('valid_log_avro_data'))!;
  const [b, ...rest] = readLogBlocks(readFileSync(f), f);
  assert.equal(rest.length, 0);
  assert.equal(b!.type, 'AVRO_DATA');
  assert.equal(b!.formatVersion, 1);
  assert.deepEqual(Object.keys(b!.headers), ['INSTANT_TIME', 'SCHEMA']);
  assert.equal(b!.headers.INSTANT_TIME, '20250316025828811');
  const rows = decodeAvroDataContent(b!.content, b!.headers.SCHEMA!);
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0], {
    _hoodie_commit_time: '20250316025828811',
    _hoodie_commit_seqno: '20250316025828811_0_2',
    _hoodie_record_key: '334e26e9-8355-45cc-97c6-c31daf0df330',
    _hoodie_partition_path: 'city=san_francisco',
    _hoodie_file_name: 'ff32ab89-5ad0-4968-83b4-89a34c95d32f-0',
    ts: 1695159649088,
    uuid: '334e26e9-8355-45cc-97c6-c31daf0df330',
    rider: 'rider-A',
    driver: 'driver-K',
    fare: 29.1,
    city: 'san_francisco',
  });
  // Re-encoding the decoded rows with the header schema gives Spark's content bytes.
  assert.deepEqual(Buffer.from(encodeAvroDataContent(b!.headers.SCHEMA!, rows)), Buffer.from(b!.content));
});

test('standalone delete block: Java writes orderingVal as union index 2 with 0', () => {
  const f = standaloneLogFiles().find((x) => x.includes('valid_log_delete'))!;
  const [b] = readLogBlocks(readFileSync(f), f);
  assert.equal(b!.type, 'DELETE');
  assert.equal(b!.headers.INSTANT_TIME, '20250618054714114');
  const dels = decodeDeleteContent(b!.content);
  assert.deepEqual(dels.map((d) => d.recordKey), [
    'e96c4396-3fad-413a-a942-4cb36106d721', '9909a8b1-2d15-4d3d-8ec9-efc48c536a00', '334e26e9-8355-45cc-97c6-c31daf0df330',
  ]);
  assert.ok(dels.every((d) => d.partitionPath === 'city=san_francisco' && d.orderingVal === 0));
  // Our default encoding reproduces Java's bytes exactly.
  assert.deepEqual(Buffer.from(encodeDeleteContent(dels)), Buffer.from(b!.content));
  const rebuilt = deleteBlock({ instantTime: b!.headers.INSTANT_TIME!, schema: b!.headers.SCHEMA!, records: dels });
  assert.deepEqual(Buffer.from(encodeLogBlock({ ...rebuilt, headers: b!.headers })), readFileSync(f));
});

test('standalone rollback command block', () => {
  const f = standaloneLogFiles().find((x) => x.includes('valid_log_rollback'))!;
  const bytes = readFileSync(f);
  const [b] = readLogBlocks(bytes, f);
  assert.equal(b!.type, 'COMMAND');
  assert.deepEqual(b!.headers, { INSTANT_TIME: '20250126040936578', COMMAND_BLOCK_TYPE: '0', TARGET_INSTANT_TIME: '20250126040826878' });
  assert.equal(b!.content.length, 0);
  const ours = encodeLogBlock(rollbackCommandBlock('20250126040936578', '20250126040826878'));
  assert.equal(ours.length, bytes.length);
  assert.deepEqual(readLogBlocks(ours)[0]!.headers, { INSTANT_TIME: '20250126040936578', TARGET_INSTANT_TIME: '20250126040826878', COMMAND_BLOCK_TYPE: '0' });
});

test('standalone Parquet data block decodes through parquet-wasm', () => {
  const f = standaloneLogFiles().find((x) => x.includes('valid_log_parquet_data'))!;
  const [b] = readLogBlocks(readFileSync(f), f);
  assert.equal(b!.type, 'PARQUET_DATA');
  const rows = decodeParquetDataContent(b!.content);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!._hoodie_record_key, '334e26e9-8355-45cc-97c6-c31daf0df330');
  assert.equal(rows[0]!.ts, 1695159649088);
  assert.equal(rows[0]!.fare, 29.1);
});

test('Spark Parquet block with decimal/date/timestamp columns keeps exact values', async () => {
  const t = await fixtureTable('sample_table__mor__parquet__v6_nonpartitioned_rollback.zip');
  const f = join(t.base, '.0712b9f9-d2d5-4cae-bcf4-8fd7146af503-0_20250126040823628.log.3_0-13-9');
  const [b] = readLogBlocks(readFileSync(f), f);
  const row = decodeParquetDataContent(b!.content)[0]!;
  assert.equal(row.decimalField, '67890.12345');
  assert.equal(row.dateField, 19449); // days since epoch (2023-04-02)
  assert.equal(row.timestampField, 1680440520000000); // micros
  assert.equal(row.longField, 9876543210);
  assert.deepEqual(row.structField, { field1: 'Bob', field2: 40, child_struct: { child_field1: 789.012, child_field2: false } });
});

test('rollback fixture: the command block targets the failed instant', async () => {
  const t = await fixtureTable('sample_table__mor__parquet__v6_nonpartitioned_rollback.zip');
  const logs = dataLogFiles(t).sort();
  const heads = logs.map((f) => readLogBlocks(readFileSync(join(t.base, f)), f).map((b) => [b.type, b.headers.INSTANT_TIME, b.headers.TARGET_INSTANT_TIME]));
  assert.deepEqual(heads, [
    [['PARQUET_DATA', '20250126040826878', undefined]],
    [['COMMAND', '20250126040936578', '20250126040826878']],
    [['PARQUET_DATA', '20250126060846931', undefined]],
  ]);
});

const schema: TableSchema = {
  type: 'record',
  name: 'orders_record',
  namespace: 'hoodie.orders',
  fields: [
    { name: '_hoodie_commit_time', type: ['null', 'string'], default: null },
    { name: 'id', type: ['null', 'long'], default: null },
    { name: 'price', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 2 }], default: null },
    { name: 'day', type: ['null', { type: 'int', logicalType: 'date' }], default: null },
    { name: 'at', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null },
    { name: 'blob', type: ['null', 'bytes'], default: null },
    { name: 'ok', type: ['null', 'boolean'], default: null },
    { name: 'score', type: ['null', 'double'], default: null },
    { name: 'tags', type: ['null', { type: 'array', items: 'string' }], default: null },
  ],
};

test('Avro data: longs beyond 2^53 and decimals survive exactly', () => {
  const rows: Row[] = [
    { _hoodie_commit_time: '20250101000000000', id: 9007199254740993n, price: '19.90', day: 19449, at: 1680440520000001n, blob: new Uint8Array([0, 255]), ok: true, score: 0.5, tags: ['a'] },
    { _hoodie_commit_time: null, id: -9223372036854775808n, price: '-0.01', day: null, at: 12, blob: null, ok: null, score: null, tags: null },
    { _hoodie_commit_time: 'x', id: 42, price: '123456789012345678901234567890123456.78', day: 0, at: -1, blob: new Uint8Array(), ok: false, score: -1e300, tags: [] },
  ];
  const block = avroDataBlock({ instantTime: '20250101000000000', schema, rows });
  const bytes = encodeLogBlock(block);
  const [b] = readLogBlocks(bytes);
  assert.equal(b!.headers.SCHEMA, JSON.stringify(schema));
  const back = decodeAvroDataContent(b!.content, b!.headers.SCHEMA!);
  assert.deepEqual(back, rows.map((r) => ({ ...r, at: typeof r.at === 'bigint' && r.at <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r.at) : r.at })));
  assert.throws(() => encodeAvroDataContent(schema, [{ ...rows[0]!, id: 'x' }]), /record 0.*id/);
  assert.throws(() => encodeAvroDataContent(schema, [{ ...rows[0]!, price: '1.234' }]), /record 0.*price/);
});

test('decimal two\'s complement matches Java BigInteger.toByteArray', () => {
  assert.deepEqual([...decimalToBytes('19.90', 2)], [0x07, 0xc6]); // 1990
  assert.deepEqual([...decimalToBytes('-0.01', 2)], [0xff]);
  assert.deepEqual([...decimalToBytes('1.28', 2)], [0x00, 0x80]);
  assert.deepEqual([...decimalToBytes('0', 3)], [0x00]);
  assert.equal(bytesToDecimal(new Uint8Array([0x07, 0xc6]), 2), '19.90');
  assert.equal(bytesToDecimal(new Uint8Array([0xff, 0x7f]), 3), '-0.129');
  // Unscaled values of up to 6 bytes decode as numbers, longer ones as BigInt: both ranges, and their edges.
  const unscaled = fc.oneof(
    fc.bigInt({ min: -(10n ** 38n), max: 10n ** 38n }),
    fc.bigInt({ min: -(1n << 48n), max: 1n << 48n }),
    fc.constantFrom(-(1n << 47n), (1n << 47n) - 1n, 1n << 47n, -(1n << 47n) - 1n, -1n, 0n, 1n),
  );
  fc.assert(
    fc.property(unscaled, fc.integer({ min: 0, max: 20 }), (u, scale) => {
      const neg = u < 0n;
      const digits = (neg ? -u : u).toString().padStart(scale + 1, '0');
      const text = (neg ? '-' : '') + digits.slice(0, digits.length - scale) + (scale ? '.' + digits.slice(digits.length - scale) : '');
      assert.equal(bytesToDecimal(decimalToBytes(text, scale), scale), text);
    }),
  );
});

test('delete orderingVal encodings: int-zero is Java\'s bytes; java-wrapper keeps the value', () => {
  const recs = [{ recordKey: 'k1', partitionPath: 'dt=2025-01-01', orderingVal: 9007199254740993n }, { recordKey: 'k2', partitionPath: '', orderingVal: 7 }];
  const zero = decodeDeleteContent(encodeDeleteContent(recs));
  assert.deepEqual(zero.map((d) => d.orderingVal), [0, 0]);
  const wrapped = decodeDeleteContent(encodeDeleteContent(recs, { orderingEncoding: 'java-wrapper' }));
  assert.deepEqual(wrapped, recs);
  const other = decodeDeleteContent(encodeDeleteContent([
    { recordKey: 'a', partitionPath: null, orderingVal: 'z' }, { recordKey: 'b', partitionPath: 'p', orderingVal: 1.5 },
    { recordKey: 'c', partitionPath: 'p', orderingVal: true }, { recordKey: null, partitionPath: 'p', orderingVal: null },
  ], { orderingEncoding: 'java-wrapper' }));
  assert.deepEqual(other.map((d) => d.orderingVal), ['z', 1.5, true, null]);
  assert.throws(() => decodeDeleteContent(new Uint8Array([0, 0, 0, 2, 0, 0, 0, 0])), /content version 2/);
});

test('corruption is detected and names the file offset', () => {
  const one = encodeLogBlock(rollbackCommandBlock('20250101000000001', '20250101000000000'));
  const two = concat([one, encodeLogBlock(avroDataBlock({ instantTime: '20250101000000002', schema, rows: [{ _hoodie_commit_time: 'a', id: 1, price: null, day: null, at: null, blob: null, ok: null, score: null, tags: null }] }))]);
  assert.equal(readLogBlocks(two).length, 2);
  assert.equal(readLogBlocks(two)[1]!.offset, one.length);
  // truncated second block
  assert.throws(() => readLogBlocks(two.subarray(0, two.length - 3), 'x.log'), (e: unknown) => e instanceof LogBlockError && e.offset === one.length && /x\.log: corrupt log block at byte 105/.test(e.message));
  // wrong trailing length
  const bad = Buffer.from(two);
  bad.writeUInt8(bad.readUInt8(one.length - 1) ^ 1, one.length - 1);
  assert.throws(() => readLogBlocks(bad, 'y.log'), (e: unknown) => e instanceof LogBlockError && e.offset === 0 && /trailing length/.test(e.message));
  // garbage after a valid block
  assert.throws(() => readLogBlocks(concat([one, new Uint8Array([1, 2, 3])]), 'z.log'), /z\.log: corrupt log block at byte 105/);
  // bad magic
  assert.throws(() => readLogBlocks(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /magic/);
  // unknown header key
  const hdr = Buffer.from(one);
  hdr.writeInt32BE(99, 6 + 8 + 4 + 4 + 4);
  assert.throws(() => readLogBlocks(hdr), /key ordinal 99/);
  // corrupted Avro record content
  const b = readLogBlocks(two)[1]!;
  assert.throws(() => decodeAvroDataContent(b.content.subarray(0, b.content.length - 1), b.headers.SCHEMA!, 'f.log block 2'), LogContentError);
  assert.deepEqual(readLogBlocks(new Uint8Array(0)), []);
});

const blockTypes: BlockType[] = ['COMMAND', 'DELETE', 'AVRO_DATA', 'PARQUET_DATA', 'HFILE_DATA', 'CDC_DATA'];
const headersArb: fc.Arbitrary<LogBlockHeaders> = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...HEADER_KEYS), fc.string({ unit: 'grapheme' })), { selector: (t) => t[0], maxLength: 5 })
  .map((entries) => Object.fromEntries(entries) as LogBlockHeaders);

test('block framing round trip (property): any headers/content, many blocks per file', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ type: fc.constantFrom(...blockTypes), headers: headersArb, footers: headersArb, content: fc.uint8Array({ maxLength: 300 }) }, { noNullPrototype: true }), { minLength: 1, maxLength: 6 }),
      (inputs) => {
        const bytes = concat(inputs.map((i) => encodeLogBlock(i)));
        const out = readLogBlocks(bytes);
        assert.equal(out.length, inputs.length);
        out.forEach((b, i) => {
          const inp = inputs[i]!;
          assert.equal(b.type, inp.type);
          assert.deepEqual(b.headers, inp.headers);
          assert.deepEqual(b.footers, inp.footers);
          assert.deepEqual(Buffer.from(b.content), Buffer.from(inp.content));
          assert.deepEqual(Buffer.from(encodeLogBlock(b)), Buffer.from(bytes.subarray(b.offset, b.offset + b.length)));
        });
      },
    ),
    { numRuns: 200 },
  );
});

test('Avro data and delete content round trip (property)', () => {
  const rowArb = fc.record({
    _hoodie_commit_time: fc.option(fc.stringMatching(/^\d{17}$/), { nil: null }),
    id: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v)), { nil: null }),
    price: fc.option(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((u) => { const s = (u < 0n ? -u : u).toString().padStart(3, '0'); return (u < 0n ? '-' : '') + s.slice(0, -2) + '.' + s.slice(-2); }), { nil: null }),
    day: fc.option(fc.integer({ min: -100000, max: 100000 }), { nil: null }),
    at: fc.option(fc.maxSafeInteger(), { nil: null }),
    blob: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
    ok: fc.option(fc.boolean(), { nil: null }),
    score: fc.option(fc.double({ noNaN: true }), { nil: null }),
    tags: fc.option(fc.array(fc.string()), { nil: null }),
  }, { noNullPrototype: true });
  fc.assert(
    fc.property(fc.array(rowArb, { maxLength: 20 }), (rows) => {
      const b = readLogBlocks(encodeLogBlock(avroDataBlock({ instantTime: '20250101000000000', schema, rows })))[0]!;
      assert.deepEqual(decodeAvroDataContent(b.content, b.headers.SCHEMA!), rows);
    }),
    { numRuns: 150 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.record({ recordKey: fc.option(fc.string(), { nil: null }), partitionPath: fc.option(fc.string(), { nil: null }), orderingVal: fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: 2n ** 60n, max: 2n ** 63n - 1n }), fc.string()) }, { noNullPrototype: true })),
      (recs) => {
        const b = readLogBlocks(encodeLogBlock(deleteBlock({ instantTime: '20250101000000000', schema, records: recs, orderingEncoding: 'java-wrapper' })))[0]!;
        assert.equal(b.type, 'DELETE');
        assert.deepEqual(decodeDeleteContent(b.content), recs);
      },
    ),
    { numRuns: 150 },
  );
});

/** Per fixture log file: [block type, INSTANT_TIME, records] of each block (deletes count keys). */
const EXPECTED_BLOCKS: Record<string, [BlockType, string, number][]> = {
  '.ff32ab89-5ad0-4968-83b4-89a34c95d32f-0_20250316025816068.log.1_0-54-122': [['AVRO_DATA', '20250316025828811', 1]],
  '.6d3d1d6e-2298-4080-a0c1-494877d6f40a-0_20250618054711154.log.1_0-26-85': [['DELETE', '20250618054714114', 3]],
  '.ee2ace10-7667-40f5-9848-0a144b5ea064-0_20250113230302428.log.1_0-188-387': [['PARQUET_DATA', '20250113230424191', 1]],
  '.d0304c53-6fd2-4b7a-a9d6-5ff632f79224-0_20250331030642808.log.1_0-26-85': [['AVRO_DATA', '20250331030645735', 1]],
  '.6e1d5cc4-c487-487d-abbe-fe9b30b1c0cc-0_20251220210127080.log.1_0-1072-3078': [['AVRO_DATA', '20251220210127080', 1]],
  '.6e1d5cc4-c487-487d-abbe-fe9b30b1c0cc-0_20251220210128625.log.1_0-1097-3150': [['DELETE', '20251220210128625', 1]],
  '.036ded81-9ed4-479f-bcea-7145dfa0079b-0_20251220210123755.log.1_0-1022-2928': [['AVRO_DATA', '20251220210123755', 1]],
  '.8aa68f7e-afd6-4c94-b86c-8a886552e08d-0_20251220210125441.log.1_0-1047-3000': [['DELETE', '20251220210125441', 1]],
  '.8aa68f7e-afd6-4c94-b86c-8a886552e08d-0_20251220210130911.log.1_0-1139-3316': [['AVRO_DATA', '20251220210130911', 1]],
  '.9c6ed25b-6c9d-4793-ad27-1c8518086b6a-0_20260307135835748.log.1_0-38-83': [['AVRO_DATA', '20260307135835748', 1]],
  '.c06fe141-9f11-46fb-aa70-d7f9d2dcca2f-0_20260307135833781.log.1_0-24-53': [['AVRO_DATA', '20260307135833781', 1]],
  '.c06fe141-9f11-46fb-aa70-d7f9d2dcca2f-0_20260307135834808.log.1_0-31-68': [['DELETE', '20260307135834808', 1]],
  '.db2fca8f-03b7-4da7-b042-4b617ab79b9d-0_20260307135830801.log.1_0-10-23': [['AVRO_DATA', '20260307135830801', 1]],
  '.db2fca8f-03b7-4da7-b042-4b617ab79b9d-0_20260307135832616.log.1_0-17-38': [['DELETE', '20260307135832616', 1]],
  '.238de231-c807-4c22-8a6c-ca5619abe374-0_20250118044623136.log.1_0-33-47': [['PARQUET_DATA', '20250118044632401', 1]],
  '.d206069c-22c8-4532-b9ea-3cf4282342c4-0_20250117083125837.log.1_0-33-43': [['PARQUET_DATA', '20250117083136333', 1]],
  '.0712b9f9-d2d5-4cae-bcf4-8fd7146af503-0_20250126040823628.log.1_0-33-43': [['PARQUET_DATA', '20250126040826878', 1]],
  '.0712b9f9-d2d5-4cae-bcf4-8fd7146af503-0_20250126040823628.log.2_1-0-1': [['COMMAND', '20250126040936578', 0]],
  '.0712b9f9-d2d5-4cae-bcf4-8fd7146af503-0_20250126040823628.log.3_0-13-9': [['PARQUET_DATA', '20250126060846931', 1]],
  '.26e33b7b-aa9f-4f2e-b683-a90ef0d5861d-0_20250121000547796.log.1_0-33-47': [['PARQUET_DATA', '20250121000557095', 1]],
};

test('block types, instants and record counts of every fixture log file', async () => {
  const files: string[] = [...standaloneLogFiles()];
  for (const zip of allZips()) {
    const t = await fixtureTable(zip);
    files.push(...dataLogFiles(t).map((f) => join(t.base, f)));
  }
  const seen = new Set<string>();
  for (const f of files) {
    const name = basename(f);
    seen.add(name);
    const blocks = readLogBlocks(readFileSync(f), f).map((b): [BlockType, string, number] => [
      b.type,
      b.headers.INSTANT_TIME ?? '',
      b.type === 'AVRO_DATA' ? decodeAvroDataContent(b.content, b.headers.SCHEMA ?? '').length
        : b.type === 'DELETE' ? decodeDeleteContent(b.content).length
        : b.type === 'PARQUET_DATA' ? decodeParquetDataContent(b.content).length : 0,
    ]);
    assert.deepEqual(blocks, EXPECTED_BLOCKS[name], name);
  }
  assert.deepEqual([...seen].sort(), Object.keys(EXPECTED_BLOCKS).sort());
});

test('Avro data blocks larger than the writer\'s initial buffer (growth path)', () => {
  const big: Row = { _hoodie_commit_time: 'x'.repeat(200_000), id: 1, price: '1.00', day: 1, at: 1, blob: new Uint8Array(70_000).fill(7), ok: true, score: 1, tags: ['y'.repeat(100_000)] };
  const many: Row[] = Array.from({ length: 3000 }, (_, i) => ({ _hoodie_commit_time: `r${i}`.padEnd(60, '.'), id: i, price: `${i}.5`.padEnd(1, '0') + '0', day: i, at: i, blob: null, ok: null, score: null, tags: ['a', 'b'] }));
  for (const rows of [[big], many, [...many, big, ...many]]) {
    const content = encodeAvroDataContent(schema, rows);
    assert.deepEqual(decodeAvroDataContent(content, JSON.stringify(schema)), rows);
  }
});

test('a block of huge rows does not size the next block of many small rows by its row size', () => {
  const s = { type: 'record', name: 'r', fields: [{ name: 'id', type: 'long' }, { name: 'text', type: ['null', 'string'], default: null }] } as unknown as TableSchema;
  encodeAvroDataContent(s, [{ id: 1, text: 'x'.repeat(8 * 1024 * 1024) }]);
  const small = Array.from({ length: 10_000 }, (_x, i): Row => ({ id: i, text: null }));
  const content = encodeAvroDataContent(s, small);
  assert.ok(content.buffer.byteLength <= 64 * 1024 * 1024, `buffer of ${content.buffer.byteLength} bytes for ${content.length} bytes of content`);
  assert.deepEqual(decodeAvroDataContent(content, JSON.stringify(s)), small);
});
