import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseLine, parseLineFast, skipJsonValue } from '../../../src/source/line.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('skipJsonValue finds the end of any JSON value, escapes included', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const text = JSON.stringify(v);
      const b = bytes(`${text},"next":1}`);
      assert.equal(skipJsonValue(b, 0, b.length), bytes(text).length, text);
    }),
    { numRuns: 2000 },
  );
  for (const s of ['"a\\\\"', '"a\\"b"', '"\\\\\\""', '{"k":"}\\"{"}', '["\\\\",1]']) {
    const b = bytes(`${s},`);
    assert.equal(skipJsonValue(b, 0, b.length), b.length - 1, s);
  }
  assert.equal(skipJsonValue(bytes('"open'), 0, 5), -1);
  assert.equal(skipJsonValue(bytes('{"a":"b}'), 0, 8), -1);
});

test('the fast path reads key and value text, and agrees with the general parse', () => {
  fc.assert(
    fc.property(fc.nat(100), fc.nat(1_000_000), fc.jsonValue(), fc.jsonValue(), (p, o, k, v) => {
      const line = `{"topic":"db.public.t","partition":${p},"offset":${o},"key":${JSON.stringify(k)},"value":${JSON.stringify(v)}}`;
      const b = bytes(line);
      const fast = parseLineFast(b, 0, b.length);
      assert.ok(fast, line);
      const general = parseLine(b, 0, b.length);
      assert.equal(fast.offset, BigInt(o));
      assert.equal(fast.partition, p);
      const text = (x: Uint8Array | null): unknown => (x === null ? null : JSON.parse(new TextDecoder().decode(x)));
      assert.deepEqual(text(fast.value), v === null ? null : JSON.parse(JSON.stringify(v)));
      assert.deepEqual(text(general.key), text(fast.key));
    }),
    { numRuns: 500 },
  );
});
