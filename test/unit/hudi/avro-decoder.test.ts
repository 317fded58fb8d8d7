import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AvroSource, compileDecoder } from '../../../src/hudi/avro-decoder.js';
import { avroDataFields } from '../../../src/hudi/log-content.js';

/** Avro long: zigzag, then base-128 varint, low groups first. */
function encodeLong(v: bigint): Buffer {
  let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  do {
    const b = Number(z & 0x7fn);
    z >>= 7n;
    out.push(z === 0n ? b : b | 0x80);
  } while (z !== 0n);
  return Buffer.from(out);
}

const expected = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

function decodeLong(v: bigint): number | bigint {
  const bytes = encodeLong(v);
  const src = new AvroSource(bytes, 0, bytes.length);
  const out = src.long();
  assert.equal(src.pos, bytes.length, `all ${bytes.length} bytes of ${v} read`);
  return out;
}

test('longs decode exactly around the number/BigInt boundaries (7- and 8-byte varints, 2^53)', () => {
  const edges: bigint[] = [];
  for (const e of [48n, 49n, 52n, 53n, 55n, 56n, 62n, 63n]) {
    for (const d of [-2n, -1n, 0n, 1n]) edges.push((1n << e) + d, -((1n << e) + d));
  }
  edges.push(1767225600000000n, -1767225600000000n, (1n << 63n) - 1n, -(1n << 63n));
  for (const v of edges.filter((x) => x === BigInt.asIntN(64, x))) {
    const got = decodeLong(v);
    assert.equal(typeof got, typeof expected(v), `type of ${v}`);
    assert.equal(got, expected(v), `value of ${v}`);
  }
});

test('every int64 decodes to the number it is when exact, else the bigint (property)', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => decodeLong(v) === expected(v)), { numRuns: 2000 });
});

test('a long cut short is an overrun, not a wrong value', () => {
  const bytes = encodeLong(1n << 52n);
  assert.throws(() => new AvroSource(bytes, 0, bytes.length - 1).long(), /runs past/);
});

test('compiled record decoding keeps schema field order; avroDataFields says which', () => {
  const schema = { type: 'record', name: 'r', fields: [{ name: 'b', type: 'long' }, { name: 'a', type: ['null', 'string'] }] };
  const decode = compileDecoder(schema);
  assert.ok(decode);
  const bytes = Buffer.concat([encodeLong(1n << 51n), encodeLong(1n), Buffer.from([2, 0x78])]);
  const row = decode(new AvroSource(bytes, 0, bytes.length)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(row), ['b', 'a']);
  assert.deepEqual(row, { b: 2 ** 51, a: 'x' });
  assert.deepEqual(avroDataFields(JSON.stringify(schema)), ['b', 'a']);
  assert.equal(avroDataFields('"long"'), undefined);
});

test('a field named __proto__ is an own field of the row, not its prototype', () => {
  const schema = { type: 'record', name: 'r', fields: [{ name: '__proto__', type: 'long' }, { name: 'a', type: 'boolean' }] };
  const decode = compileDecoder(schema);
  assert.ok(decode);
  const bytes = Buffer.concat([encodeLong(21n), Buffer.from([1])]);
  const row = decode(new AvroSource(bytes, 0, bytes.length)) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(row), Object.prototype);
  assert.deepEqual(Object.keys(row), ['__proto__', 'a']);
  assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 21);
});
