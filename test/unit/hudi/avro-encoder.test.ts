import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeAvroDataContent, decodeAvroDataProjected, encodeAvroDataContent } from '../../../src/hudi/log-content.js';
import { decodeDatum, encodeDatum } from '../../../src/hudi/avro-value.js';
import { schemaType } from '../../../src/hudi/log-content.js';
import { withMetaFields } from '../../../src/table/meta-fields.js';
import type { Row, TableSchema } from '../../../src/table/schema.js';

const opt = <T>(t: T) => ['null', t] as never;

const SCHEMA: TableSchema = withMetaFields({
  type: 'record',
  name: 'enc_test',
  namespace: 'cdc',
  fields: [
    { name: 'id', type: opt('long'), default: null },
    { name: 'i', type: opt('int'), default: null },
    { name: 's', type: opt('string'), default: null },
    { name: 'f', type: opt('float'), default: null },
    { name: 'd', type: opt('double'), default: null },
    { name: 'b', type: opt('boolean'), default: null },
    { name: 'raw', type: opt('bytes'), default: null },
    { name: 'price', type: opt({ type: 'bytes', logicalType: 'decimal', precision: 30, scale: 3 }), default: null },
    { name: 'ts', type: opt({ type: 'long', logicalType: 'timestamp-micros' }), default: null },
    { name: 'fx', type: opt({ type: 'fixed', name: 'fx_dec', size: 9, logicalType: 'decimal', precision: 20, scale: 2 }), default: null },
    { name: 'day', type: opt({ type: 'int', logicalType: 'date' }), default: null },
    { name: 'tags', type: opt({ type: 'array', items: 'string' }), default: null },
    { name: 'addr', type: opt({ type: 'record', name: 'addr', fields: [{ name: 'zip', type: opt('string'), default: null }, { name: 'n', type: opt('long'), default: null }] }), default: null },
  ],
});

const orNull = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const decimal = fc.tuple(fc.bigInt({ min: -(10n ** 27n) + 1n, max: 10n ** 27n - 1n }), fc.integer({ min: 0, max: 3 })).map(([n, digits]) => {
  const neg = n < 0n;
  const s = (neg ? -n : n).toString().padStart(4, '0');
  const frac = s.slice(s.length - 3, s.length - 3 + digits);
  return `${neg ? '-' : ''}${s.slice(0, s.length - 3)}${digits > 0 ? '.' + frac : ''}`;
});
const long = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.constantFrom(2 ** 52, -(2 ** 52), 2 ** 52 - 1, 0x40000000, -0x40000000, -0x40000001));
const row: fc.Arbitrary<Row> = fc.record({
  id: orNull(long),
  i: orNull(fc.integer({ min: -2147483648, max: 2147483647 })),
  s: orNull(fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 100 }), fc.string({ minLength: 60, maxLength: 200 }))),
  f: orNull(fc.float({ noNaN: true })),
  d: orNull(fc.double()),
  b: orNull(fc.boolean()),
  raw: orNull(fc.uint8Array({ maxLength: 40 })),
  price: orNull(decimal),
  ts: orNull(long),
  fx: orNull(fc.bigInt({ min: -(10n ** 20n) + 1n, max: 10n ** 20n - 1n }).map((n) => (n < 0n ? '-' : '') + (n < 0n ? -n : n).toString().padStart(3, '0').replace(/(\d\d)$/, '.$1'))),
  day: orNull(fc.integer({ min: -100000, max: 100000 })),
  tags: orNull(fc.array(fc.string(), { maxLength: 4 })),
  addr: orNull(fc.record({ zip: orNull(fc.string()), n: orNull(long) })),
}) as fc.Arbitrary<Row>;

const meta = (i: number): Row => ({
  _hoodie_commit_time: '20261129160000000',
  _hoodie_commit_seqno: `20261129160000000_0_${i}`,
  _hoodie_record_key: String(i),
  _hoodie_partition_path: '',
  _hoodie_file_name: 'f1',
});

/** The reference: avsc, record by record, length-prefixed as the block layout says. */
function reference(rows: Row[]): Buffer {
  const type = schemaType(SCHEMA);
  const parts: Buffer[] = [Buffer.from([0, 0, 0, 3]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(rows.length);
  for (const r of rows) {
    const d = encodeDatum(type, r, 'ref');
    const len = Buffer.alloc(4);
    len.writeInt32BE(d.length);
    parts.push(len, d);
  }
  return Buffer.concat(parts);
}

test('compiled encoder writes the same bytes as avsc, with meta fields as side columns', () => {
  fc.assert(
    fc.property(fc.array(row, { maxLength: 20 }), (rows) => {
      const full = rows.map((r, i) => ({ ...meta(i), ...r }));
      const columns: Record<string, string[]> = {};
      for (const k of Object.keys(meta(0))) columns[k] = rows.map((_r, i) => meta(i)[k] as string);
      const ours = encodeAvroDataContent(SCHEMA, rows, columns);
      assert.deepEqual(Buffer.from(ours), reference(full));
      // The compiled decoder gives what avsc + toPlain give.
      const type = schemaType(SCHEMA);
      assert.deepStrictEqual(decodeAvroDataContent(ours, JSON.stringify(SCHEMA)), full.map((r) => decodeDatum(type, encodeDatum(type, r, 'ref'))));
    }),
    { numRuns: 300 },
  );
});

test('a projected decode equals the whole decode cut to the asked fields, with the side fields beside (property)', () => {
  const names = [...SCHEMA.fields.map((f) => f.name), 'absent', 'constructor', '__proto__'];
  // Both decoders: the compiled one, and avsc's for a schema it does not cover (a union of two types).
  const wide: TableSchema = { ...SCHEMA, fields: [...SCHEMA.fields, { name: 'either', type: ['null', 'string', 'long'] as never, default: null }] };
  fc.assert(
    fc.property(
      fc.array(row, { maxLength: 8 }),
      fc.shuffledSubarray(names),
      fc.shuffledSubarray(names),
      fc.boolean(),
      (rows, fields, side, covered) => {
        const schema = covered ? SCHEMA : wide;
        const full = rows.map((r, i) => ({ ...meta(i), ...r, ...(covered ? {} : { either: i % 2 === 0 ? 'x' : i }) }));
        const bytes = encodeAvroDataContent(schema, full);
        const text = JSON.stringify(schema);
        const whole = decodeAvroDataContent(bytes, text);
        const got = decodeAvroDataProjected(bytes, text, { fields, side }, (r, s) => ({ r, s: [...s] }));
        assert.deepStrictEqual(
          got,
          whole.map((w) => ({ r: Object.fromEntries(fields.map((n) => [n, Object.hasOwn(w, n) ? w[n] : null])), s: side.map((n) => (Object.hasOwn(w, n) ? w[n] : null)) })),
        );
        for (const g of got) assert.deepEqual(Object.keys(g.r), fields);
      },
    ),
    { numRuns: 300 },
  );
});

test('a value outside the fast path still encodes through avsc (Buffer-less bytes, number decimals)', () => {
  const r: Row = { ...meta(0), price: 12.5 as never, id: 5n };
  assert.deepEqual(Buffer.from(encodeAvroDataContent(SCHEMA, [r])), reference([r]));
});

test('a value that does not fit the schema names the record and field', () => {
  const bad: Row = { ...meta(0), i: 'x' };
  assert.throws(() => encodeAvroDataContent(SCHEMA, [bad]), /record 0 of an Avro data block.*\bi\b/);
  assert.throws(() => encodeAvroDataContent(SCHEMA, [{ ...meta(0), price: '1.23456' }]), /record 0.*price/);
});

test('a truncated or padded datum is reported with the record number', () => {
  const bytes = Buffer.from(encodeAvroDataContent(SCHEMA, [{ ...meta(0), s: 'hello' }]));
  const cut = Buffer.concat([bytes.subarray(0, 8), Buffer.from([0, 0, 0, 3]), bytes.subarray(12, 15)]);
  assert.throws(() => decodeAvroDataContent(cut, JSON.stringify(SCHEMA)), /record 0 does not decode/);
  const len = bytes.readInt32BE(8);
  const padded = Buffer.concat([bytes.subarray(0, 8), Buffer.from([0, 0, 0, 0]), bytes.subarray(12), Buffer.from([0])]);
  padded.writeInt32BE(len + 1, 8);
  assert.throws(() => decodeAvroDataContent(padded, JSON.stringify(SCHEMA)), /record 0 does not decode.*trailing/);
});

test('fields named like Object.prototype members are read from the row or side columns only when their own (else their default)', () => {
  const schema: TableSchema = {
    type: 'record',
    name: 'p',
    fields: [{ name: '__proto__', type: opt('long'), default: null }, { name: 'constructor', type: opt('string'), default: null }, { name: 'toString', type: opt('string'), default: null }, { name: 'a', type: 'string' }],
  };
  const own: Row = { constructor: 'c1', a: 'x' };
  Object.defineProperty(own, '__proto__', { value: 21, enumerable: true, writable: true, configurable: true });
  const text = JSON.stringify(schema);
  const values = (rows: Row[]) => rows.map((r) => [Object.getOwnPropertyDescriptor(r, '__proto__')?.value, r.constructor, r.toString, r.a]);
  assert.deepEqual(values(decodeAvroDataContent(encodeAvroDataContent(schema, [own, { a: 'y' }]), text)), [[21, 'c1', null, 'x'], [null, null, null, 'y']]);
  // In a nested record too.
  const nested: TableSchema = { type: 'record', name: 'n', fields: [{ name: 'inner', type: { type: 'record', name: 'inner_t', fields: [{ name: 'constructor', type: opt('string'), default: null }, { name: 'b', type: 'long' }] } }] };
  const nestedBack = decodeAvroDataContent(encodeAvroDataContent(nested, [{ inner: { b: 1 } }, { inner: { constructor: 'c2', b: 2 } }]), JSON.stringify(nested));
  assert.deepEqual(nestedBack, [{ inner: { constructor: null, b: 1 } }, { inner: { constructor: 'c2', b: 2 } }]);
  // As side columns (how the writer passes the _hoodie_* fields), with no such columns given.
  assert.deepEqual(values(decodeAvroDataContent(encodeAvroDataContent(schema, [{ a: 'z' }], { toString: ['t'] }), text)), [[null, null, 't', 'z']]);
});
