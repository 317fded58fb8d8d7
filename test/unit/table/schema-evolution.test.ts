import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { evolveSchema, IncompatibleSchema, isUntyped, widerType } from '../../../src/table/schema-evolution.js';
import type { AvroType, TableSchema } from '../../../src/table/schema.js';

const UNTYPED: AvroType = ['null', { type: 'string', 'cdc.semantic': 'untyped' }];
const n = (t: AvroType): AvroType => ['null', t];
const table = (...f: [string, AvroType][]): TableSchema => ({ type: 'record', name: 't_record', fields: f.map(([name, type]) => ({ name, type, default: null })) });

describe('widerType', () => {
  it('promotes numbers the Avro way, in either arrival order', () => {
    assert.deepEqual(widerType(n('int'), n('long')), n('long'));
    assert.deepEqual(widerType(n('long'), n('int')), n('long'), 'an older narrower event keeps the wider type');
    assert.deepEqual(widerType(n('float'), n('double')), n('double'));
    assert.deepEqual(widerType(n('long'), n('double')), n('double'));
    assert.deepEqual(widerType(n('double'), n('long')), n('double'));
    assert.deepEqual(widerType('int', n('int')), 'int', 'nullability alone is not a change');
  });
  it('untyped (null-only schemaless) columns take the first real type and never narrow it', () => {
    assert.ok(isUntyped(UNTYPED));
    assert.deepEqual(widerType(UNTYPED, n('string')), n('string'));
    assert.deepEqual(widerType(n('boolean'), UNTYPED), n('boolean'));
  });
  it('refuses type changes and logical-type widening', () => {
    assert.equal(widerType(n('string'), n('long')), undefined);
    assert.equal(widerType(n('boolean'), n('int')), undefined);
    assert.equal(widerType(n({ type: 'int', logicalType: 'date' }), n('long')), undefined);
    assert.equal(widerType(n('double'), n('float')) !== undefined, true);
  });
  it('is a join: commutative up to the result, idempotent, and the result holds both sides', () => {
    const types: AvroType[] = [n('int'), n('long'), n('float'), n('double'), n('string'), n('boolean'), UNTYPED];
    const pick = fc.constantFrom(...types);
    fc.assert(
      fc.property(pick, pick, (a, b) => {
        const w = widerType(a, b);
        const v = widerType(b, a);
        assert.equal(JSON.stringify(w), JSON.stringify(v));
        if (w === undefined) return;
        assert.equal(JSON.stringify(widerType(w, a)), JSON.stringify(w));
        assert.equal(JSON.stringify(widerType(w, b)), JSON.stringify(w));
      }),
    );
  });
});

describe('evolveSchema', () => {
  it('adds new columns after the preceding known one and widens in place', () => {
    const stored = table(['id', n('int')], ['b', n('string')]);
    const e = evolveSchema(stored, table(['id', n('long')], ['a', n('string')], ['b', n('string')]), 'public.t');
    assert.equal(e.changed, true);
    assert.deepEqual(e.schema.fields.map((f) => [f.name, f.type]), [['id', n('long')], ['a', n('string')], ['b', n('string')]]);
    assert.equal(evolveSchema(e.schema, table(['id', n('int')]), 'public.t').changed, false);
  });
  it('names the table and column of an incompatible change', () => {
    assert.throws(() => evolveSchema(table(['x', n('string')]), table(['x', n('long')]), 'public.t'), (e: unknown) => e instanceof IncompatibleSchema && /public\.t: column x/.test(e.message));
  });
});
