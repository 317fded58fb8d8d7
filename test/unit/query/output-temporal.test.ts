import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDate, formatTime, formatTimestamp, formatDecimal, formatFloat32 } from '../../../src/query/output/index.js';

// Date covers ±100,000,000 days around the epoch; that is the oracle here.
const DAY_MS = 86_400_000;

test('formatDate agrees with Date#toISOString over its whole range', () => {
  fc.assert(
    fc.property(fc.integer({ min: -100_000_000, max: 100_000_000 }), (days) => {
      const iso = new Date(days * DAY_MS).toISOString();
      assert.equal(formatDate(days), iso.slice(0, iso.indexOf('T')));
    }),
    { numRuns: 20000 },
  );
  for (const [d, text] of [
    [0, '1970-01-01'],
    [-1, '1969-12-31'],
    [11016, '2000-02-29'],
    [-719162, '0001-01-01'],
    [2932896, '9999-12-31'],
    [2932897, '+010000-01-01'],
  ] as const) {
    assert.equal(formatDate(d), text);
  }
});

test('formatTimestamp (ms) agrees with Date; micros and nanos extend it exactly, also as bigint', () => {
  fc.assert(
    fc.property(fc.integer({ min: -8_640_000_000_000, max: 8_640_000_000_000 }), fc.integer({ min: 0, max: 999_999 }), (ms, sub) => {
      const iso = new Date(ms).toISOString();
      assert.equal(formatTimestamp(ms, 1000, 3), iso);
      const micros = BigInt(ms) * 1000n + BigInt(sub % 1000);
      const expectMicros = `${iso.slice(0, -1)}${String(sub % 1000).padStart(3, '0')}Z`;
      assert.equal(formatTimestamp(micros, 1_000_000, 6), expectMicros);
      if (Number.isSafeInteger(Number(micros))) assert.equal(formatTimestamp(Number(micros), 1_000_000, 6), expectMicros);
      const nanos = BigInt(ms) * 1_000_000n + BigInt(sub);
      assert.equal(formatTimestamp(nanos, 1_000_000_000, 9), `${iso.slice(0, -1)}${String(sub).padStart(6, '0')}Z`);
    }),
    { numRuns: 20000 },
  );
});

test('number inputs near 2^53 split exactly (no float rounding across a second)', () => {
  const v = 2 ** 53 - 1; // 9007199254.740991 s after the epoch, in nanos
  assert.equal(formatTimestamp(v, 1_000_000_000, 9), formatTimestamp(BigInt(v), 1_000_000_000, 9));
  assert.equal(formatTimestamp(v, 1_000_000_000, 9).slice(-11), '.254740991Z');
});

test('formatTime at the edges of a day', () => {
  assert.equal(formatTime(0, 1000, 3), '00:00:00.000');
  assert.equal(formatTime(86_399_999, 1000, 3), '23:59:59.999');
  assert.equal(formatTime(86_400_000_000, 1_000_000, 6), '24:00:00.000000');
  assert.equal(formatTime(1n, 1_000_000_000, 9), '00:00:00.000000001');
});

test('formatDecimal pads to the scale and never rounds', () => {
  assert.equal(formatDecimal('19.9', 2), '19.90');
  assert.equal(formatDecimal('-0.5', 3), '-0.500');
  assert.equal(formatDecimal('12345678901234567890123456789.12', 2), '12345678901234567890123456789.12');
  assert.equal(formatDecimal(5n, 2), '5.00');
});

test('formatFloat32 round-trips through float32', () => {
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
      assert.equal(Math.fround(Number(formatFloat32(f))), Object.is(f, -0) ? 0 : f);
    }),
  );
});
