// inlineNamedTypes (pure): Confluent schema references become definitions at their first
// use, wherever that use sits (field, union, array items, map values), resolving short
// names in the enclosing namespace; later uses and locally defined names stay names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { avroType, inlineNamedTypes } from '../../../src/debezium/avro.js';

const SOURCE = { type: 'record', name: 'Source', namespace: 'io.debezium', fields: [{ name: 'db', type: 'string' }] };
const refs = new Map<string, unknown>([['io.debezium.Source', SOURCE]]);

const record = (fields: { name: string; type: unknown }[], namespace = 'io.debezium'): Record<string, unknown> => ({ type: 'record', name: 'Envelope', namespace, fields });

describe('inlineNamedTypes', () => {
  it('a short name in the enclosing namespace resolves to the referenced full name', () => {
    const out = inlineNamedTypes(record([{ name: 'source', type: 'Source' }]), refs) as { fields: { type: unknown }[] };
    assert.deepEqual(out.fields[0]?.type, SOURCE);
    avroType(out);
  });

  it('the same short name in another namespace is not the reference', () => {
    const schema = record([{ name: 'source', type: 'Source' }], 'other');
    assert.deepEqual(inlineNamedTypes(schema, refs), schema);
  });

  it('defines at the first use only, inside unions, array items and map values', () => {
    const out = inlineNamedTypes(
      record([
        { name: 'a', type: ['null', { type: 'array', items: 'io.debezium.Source' }] },
        { name: 'b', type: { type: 'map', values: 'io.debezium.Source' } },
        { name: 'c', type: ['null', 'io.debezium.Source'] },
      ]),
      refs,
    ) as { fields: { type: unknown }[] };
    assert.deepEqual(out.fields[0]?.type, ['null', { type: 'array', items: SOURCE }]);
    assert.deepEqual(out.fields[1]?.type, { type: 'map', values: 'io.debezium.Source' });
    assert.deepEqual(out.fields[2]?.type, ['null', 'io.debezium.Source']);
    const type = avroType(out);
    const v = { a: [{ db: 'x' }], b: { k: { db: 'y' } }, c: null };
    assert.deepEqual(JSON.parse(JSON.stringify(type.fromBuffer(type.toBuffer(v)))), v);
  });

  it('a name the schema defines itself is not replaced by the reference', () => {
    const local = { type: 'record', name: 'Source', fields: [{ name: 'mine', type: 'int' }] };
    const schema = record([
      { name: 'x', type: local },
      { name: 'y', type: 'Source' },
    ]);
    assert.deepEqual(inlineNamedTypes(schema, refs), schema);
  });

  it('leaves the input untouched and schemas without references equal', () => {
    const schema = record([{ name: 'source', type: 'io.debezium.Source' }]);
    const before = JSON.stringify(schema);
    inlineNamedTypes(schema, refs);
    assert.equal(JSON.stringify(schema), before);
    assert.deepEqual(inlineNamedTypes(schema, new Map()), schema);
  });
});
