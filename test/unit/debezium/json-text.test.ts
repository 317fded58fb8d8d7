import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flatIntKey, hasUnsafeInteger, parseJson, splitEnvelope } from '../../../src/debezium/json-text.js';

describe('json-text', () => {
  it('takes the lossless path only for integers JSON.parse would round', () => {
    const cases: [string, boolean][] = [
      ['{"a":1749546927654321}', false], // a MicroTimestamp: 16 digits but below 2^53
      ['{"a":9007199254740991}', false],
      ['{"a":9007199254740993}', true],
      ['{"a":-9007199254740993}', true],
      ['{"ts_ns":1749546928240917311}', false],
      ['{"a":0.12345678901234567890}', false],
      ['{"a":12345678901234567}', true],
      ['[12345678901234567]', true],
      ['12345678901234567', true],
      ['{"s":"12345678901234567890","t":["9007199254740993"]}', false], // digits in strings survive JSON.parse
      ['{"source":{"ts_us":1749546928240917,"ts_ns":1749546928240917311},"after":{"n":1e300}}', true], // 1e300 is an integer beyond 2^53
      ['{"a":{"b":[{"c":9007199254740992}]}}', true],
      ['{"a":1.5e300}', true],
      ['{"a":-0.5,"b":null,"c":true}', false],
    ];
    for (const [text, expected] of cases) assert.equal(hasUnsafeInteger(JSON.parse(text)), expected, text);
  });
  it('parses big integers exactly and small ones as numbers', () => {
    assert.deepEqual(parseJson('{"a":9007199254740993,"b":[1,-12345678901234567890],"c":1.5}'), { a: 9007199254740993n, b: [1, -12345678901234567890n], c: 1.5 });
    assert.deepEqual(parseJson('{"ts_ns":1749546928240917311,"id":7}'), { ts_ns: Number('1749546928240917311'), id: 7 }, 'ts_ns alone keeps the fast parse');
    assert.deepEqual(parseJson('{"ts_ns":1749546928240917311,"id":12345678901234567}'), { ts_ns: 1749546928240917311n, id: 12345678901234567n });
  });
  it('splits the JsonConverter envelope without parsing the schema', () => {
    const s = splitEnvelope(Buffer.from('{"schema":{"type":"struct","fields":[]},"payload":{"payload":1}}\n'));
    assert.equal(s?.schema.toString(), '{"type":"struct","fields":[]}');
    assert.equal(s?.payload, '{"payload":1}');
    assert.equal(splitEnvelope(Buffer.from('{"payload":1,"schema":{}}')), null);
  });
  it('reads a one-integer-column key from its bytes, exactly as JSON.parse would', () => {
    for (const text of ['{"id":1}', '{"id":-42}', '{"order_id":0}', '{"Id2":999999999999999}']) {
      assert.deepEqual(flatIntKey(Buffer.from(text)), JSON.parse(text), text);
    }
    for (const text of ['{"id":1,"b":2}', '{"id":"1"}', '{"id":1.5}', '{"id":01}', '{"id":1e3}', '{ "id":1}', '{"id":1 }', '{"i\\d":1}', '{"id":1234567890123456}', '{"id":}', '{"":1}', '{"id":-}', 'null']) {
      assert.equal(flatIntKey(Buffer.from(text)), undefined, text);
    }
    assert.deepEqual([flatIntKey(Buffer.from('{"a":1}')), flatIntKey(Buffer.from('{"b":2}')), flatIntKey(Buffer.from('{"a":3}'))], [{ a: 1 }, { b: 2 }, { a: 3 }], 'the name cache follows the bytes');
  });
});

