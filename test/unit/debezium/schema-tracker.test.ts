import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDecodeContext, decodeRecord, SchemaTracker, tableSchemaOf } from '../../../src/debezium/index.js';
import type { AvroType } from '../../../src/table/schema.js';
import { loadRecords } from './fixtures.js';

const s = (...f: [string, AvroType][]) => tableSchemaOf('public.t', f.map(([name, t]) => ({ name, type: ['null', t], default: null })));

describe('SchemaTracker', () => {
  it('widens int→long and float→double, unions new fields at their position', () => {
    const t = new SchemaTracker();
    assert.ok(t.observe('public.t', s(['id', 'int'], ['x', 'float']), ['id']).ok);
    const r = t.observe('public.t', s(['id', 'int'], ['a', 'string'], ['x', 'double']), ['id']);
    assert.ok(r.ok && r.evolved);
    assert.deepEqual(t.schemaOf('public.t')?.fields.map((f) => [f.name, f.type]), [
      ['id', ['null', 'int']],
      ['a', ['null', 'string']],
      ['x', ['null', 'double']],
    ]);
    const w = t.observe('public.t', s(['id', 'long']), ['id']);
    assert.ok(w.ok);
    assert.deepEqual(t.schemaOf('public.t')?.fields[0]?.type, ['null', 'long']);
  });
  it('an older, narrower event keeps the wider type (the table reads it by Avro promotion)', () => {
    const t = new SchemaTracker();
    t.observe('public.t', s(['id', 'long'], ['x', 'double']), ['id']);
    const narrowed = t.observe('public.t', s(['id', 'int'], ['x', 'long']), ['id']);
    assert.ok(narrowed.ok);
    if (narrowed.ok) assert.equal(narrowed.evolved, false);
    assert.deepEqual(t.schemaOf('public.t')?.fields.map((f) => f.type), [['null', 'long'], ['null', 'double']]);
  });
  it('type changes and key changes quarantine only that table', () => {
    const t = new SchemaTracker();
    t.observe('public.t', s(['id', 'long'], ['x', 'string']), ['id']);
    t.observe('public.u', s(['id', 'long']), ['id']);
    const changed = t.observe('public.t', s(['id', 'long'], ['x', 'boolean']), ['id']);
    assert.equal(changed.ok, false);
    if (!changed.ok) {
      assert.equal(changed.error.table, 'public.t');
      assert.equal(changed.error.field, 'x');
      assert.match(changed.error.message, /quarantined/);
    }
    assert.equal(t.observe('public.t', s(['id', 'long']), ['id']).ok, false, 'stays quarantined');
    assert.ok(t.observe('public.u', s(['id', 'long'], ['y', 'boolean']), ['id']).ok, 'other tables keep flowing');
    const k = new SchemaTracker();
    k.observe('public.t', s(['id', 'long'], ['x', 'string']), ['id']);
    assert.equal(k.observe('public.t', s(['id', 'long'], ['x', 'string']), ['id', 'x']).ok, false);
    const c = new SchemaTracker();
    c.observe('public.t', s(['x', 'string']), []);
    assert.equal(c.observe('public.t', s(['x', 'long']), []).ok, false);
  });
  it('through the decoder: an incompatible event is invalid with the table named', () => {
    const tracker = new SchemaTracker();
    const ctx = createDecodeContext({ tracker });
    const [rec] = loadRecords('pg-create.json');
    assert.equal(decodeRecord(rec!, ctx).kind, 'change');
    const text = Buffer.from(rec!.value!).toString().replaceAll('{"type":"string","optional":false,"field":"email"}', '{"type":"int32","optional":true,"field":"email"}').replace(/"email":"[^"]*"/, '"email":5');
    assert.notEqual(text, Buffer.from(rec!.value!).toString());
    const d = decodeRecord({ ...rec!, value: Buffer.from(text) }, ctx);
    assert.equal(d.kind, 'invalid');
    if (d.kind === 'invalid') {
      assert.equal(d.error.reason, 'incompatible-schema-change');
      assert.equal(d.error.table, 'inventory.customers');
    }
  });
  it('schemaless null-only columns take the first real type', () => {
    const t = new SchemaTracker();
    t.observe('public.t', s(['n', { type: 'string', 'cdc.semantic': 'untyped' }]), []);
    assert.ok(t.observe('public.t', s(['n', 'long']), []).ok);
    assert.ok(t.observe('public.t', s(['n', { type: 'string', 'cdc.semantic': 'untyped' }]), []).ok);
    assert.deepEqual(t.schemaOf('public.t')?.fields[0]?.type, ['null', 'long']);
  });
  it('a schema object seen before is folded by identity, and still answers with the current table schema', () => {
    const t = new SchemaTracker();
    const a = s(['id', 'int'], ['x', 'string']);
    const b = s(['id', 'long'], ['x', 'string'], ['y', 'boolean']);
    assert.ok(t.observe('public.t', a, ['id']).ok);
    const wide = t.observe('public.t', b, ['id']);
    assert.ok(wide.ok && wide.evolved);
    const again = t.observe('public.t', a, ['id']);
    assert.ok(again.ok);
    if (again.ok) {
      assert.equal(again.evolved, false);
      assert.equal(again.schema, t.schemaOf('public.t'), 'the evolved schema, not the event\'s own');
      assert.deepEqual(again.schema.fields.map((f) => f.name), ['id', 'x', 'y']);
    }
    assert.equal(t.observe('public.t', a, ['x']).ok, false, 'a known schema object with other key fields is still a key change');
    const seeded = new SchemaTracker();
    const stored = s(['id', 'long']);
    seeded.seed('public.t', stored, ['id']);
    const r = seeded.observe('public.t', s(['id', 'string']), ['id']);
    assert.equal(r.ok, false, 'a seeded table rejects an incompatible first event');
  });
});
