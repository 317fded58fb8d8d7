import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needsLossless, parseJson, splitEnvelope } from '../../../src/debezium/json-text.js';

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
    ];
    for (const [text, expected] of cases) assert.equal(needsLossless(text), expected, text);
  });
  it('parses big integers exactly and small ones as numbers', () => {
    assert.deepEqual(parseJson('{"a":9007199254740993,"b":[1,-12345678901234567890],"c":1.5}'), { a: 9007199254740993n, b: [1, -12345678901234567890n], c: 1.5 });
  });
  it('splits the JsonConverter envelope without parsing the schema', () => {
    const s = splitEnvelope(Buffer.from('{"schema":{"type":"struct","fields":[]},"payload":{"payload":1}}\n'));
    assert.equal(s?.schema.toString(), '{"type":"struct","fields":[]}');
    assert.equal(s?.payload, '{"payload":1}');
    assert.equal(splitEnvelope(Buffer.from('{"payload":1,"schema":{}}')), null);
  });
});
