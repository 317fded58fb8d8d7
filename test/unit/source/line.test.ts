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

test('values with a Connect schema: the schema seen last is skipped by comparing bytes, with the same result as scanning it', () => {
  const schemaA = '{"type":"struct","fields":[{"type":"int32","field":"id"},{"type":"string","field":"n","parameters":{"x":"]}"}}]}';
  const schemaB = '{"type":"struct","fields":[{"type":"int64","field":"id"}]}';
  const values = [
    `{"schema":${schemaA},"payload":{"id":1,"n":"a"}}`,
    `{"schema":${schemaA},"payload":{"id":2,"n":"]}{"}}`,
    `{"schema":${schemaA},"payload":{"id":3},"extra":[1]}`, // more after the payload: scanned
    `{"schema":${schemaA},"payload":{"id":4`, // cut short: not a line
    `{"schema":${schemaA},"payload":{"id":5}}}`, // one brace too many: not a line
    `{"schema":${schemaB},"payload":{"id":6}}`,
    `{"schema":${schemaA},"payload":null}`,
    `{"schema":${schemaA.slice(0, -2)},"payload":{"id":7}}`, // an unbalanced "schema" is never learned
    `{"schema":${schemaA.slice(0, -2)},"payload":{"id":8}}`,
  ];
  const head = '{"topic":"t","partition":0,"offset":1,"key":null,"value":';
  for (const v of [...values, ...values]) {
    const b = bytes(`${head}${v}}`);
    const fast = parseLineFast(b, 0, b.length);
    // what scanning the whole value gives: a line when the value ends right before the line's closing brace
    const expected = skipJsonValue(b, head.length, b.length) === b.length - 1 ? v : undefined;
    assert.equal(fast === undefined ? undefined : new TextDecoder().decode(fast.value ?? new Uint8Array()), expected, v);
  }
});
