import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferRow } from '../../../src/debezium/schemaless.js';

describe('inferRow', () => {
  it('infers types per column and keeps values as they arrived', () => {
    const r = inferRow({ id: 1, score: 1.5, name: 'a', ok: true, tags: ['x'], doc: { a: 1 }, gone: null }, 'public.t.after');
    assert.deepEqual(r.row, { id: 1, score: 1.5, name: 'a', ok: true, tags: ['x'], doc: '{"a":1}', gone: null });
    assert.deepEqual(
      r.fields.map((f) => [f.name, f.type]),
      [
        ['id', ['null', 'long']],
        ['score', ['null', 'double']],
        ['name', ['null', 'string']],
        ['ok', ['null', 'boolean']],
        ['tags', ['null', { type: 'array', items: ['null', 'string'] }]],
        ['doc', ['null', { type: 'string', 'cdc.semantic': 'json' }]],
        ['gone', ['null', { type: 'string', 'cdc.semantic': 'untyped' }]],
      ],
    );
  });
  it('returns the previous field array itself while values fit it (nulls and whole doubles fit)', () => {
    const first = inferRow({ id: 1, score: 1.5, note: 'x' }, 'w');
    const again = inferRow({ id: 2, score: 3, note: null }, 'w', first.fields);
    assert.equal(again.fields, first.fields);
    assert.deepEqual(again.row, { id: 2, score: 3, note: null });
  });
  it('a misfit, a new column or another order builds new fields', () => {
    const first = inferRow({ id: 1, note: 'x' }, 'w');
    const misfit = inferRow({ id: 1.5, note: 'x' }, 'w', first.fields);
    assert.notEqual(misfit.fields, first.fields);
    assert.deepEqual(misfit.fields.map((f) => f.type), [['null', 'double'], ['null', 'string']]);
    assert.deepEqual(misfit.fields[1], first.fields[1], 'columns after a misfit are inferred again');
    const late = inferRow({ id: 1, note: 5 }, 'w', first.fields);
    assert.equal(late.fields[0], first.fields[0], 'fitting columns before a misfit keep their field');
    const wider = inferRow({ id: 1, note: 'x', extra: true }, 'w', first.fields);
    assert.deepEqual(wider.fields.map((f) => f.name), ['id', 'note', 'extra']);
    const fewer = inferRow({ id: 1 }, 'w', first.fields);
    assert.deepEqual(fewer.fields.map((f) => f.name), ['id']);
    const swapped = inferRow({ note: 'x', id: 1 }, 'w', first.fields);
    assert.deepEqual(swapped.fields.map((f) => f.name), ['note', 'id']);
    const untyped = inferRow({ id: null, note: 'x' }, 'w');
    assert.notEqual(inferRow({ id: 5, note: 'x' }, 'w', untyped.fields).fields, untyped.fields, 'a value does not fit an untyped column');
  });
  it('owned: converts the parsed object in place instead of copying it', () => {
    const obj = { id: 1, doc: { a: [1, 2] }, big: 1234567890123456789n };
    const r = inferRow(obj, 'w', undefined, true);
    assert.equal(r.row, obj);
    assert.deepEqual(obj, { id: 1, doc: '{"a":[1,2]}', big: 1234567890123456789n });
    assert.deepEqual(r.fields[1]?.type, ['null', { type: 'string', 'cdc.semantic': 'json' }], 'typed from the value before it became text');
    const notOwned = { id: 1, doc: { a: 1 } };
    inferRow(notOwned, 'w');
    assert.deepEqual(notOwned, { id: 1, doc: { a: 1 } });
  });
});
