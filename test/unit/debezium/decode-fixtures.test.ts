import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDecodeContext, decodeRecord, SchemaTracker } from '../../../src/debezium/index.js';
import type { ChangeEvent, Decoded } from '../../../src/debezium/index.js';
import type { AvroRecord } from '../../../src/table/schema.js';
import { loadRecords } from './fixtures.js';

function decodeAll(name: string, opts = {}): Decoded[] {
  const ctx = createDecodeContext(opts);
  return loadRecords(name).map((r) => decodeRecord(r, ctx));
}

function change(d: Decoded | undefined): ChangeEvent {
  assert.ok(d, 'no record');
  if (d.kind !== 'change') assert.fail(`expected a change, got ${d.kind}${d.kind === 'invalid' ? `: ${d.error.message}` : ''}`);
  return d.event;
}

function fieldType(schema: AvroRecord, name: string): unknown {
  const f = schema.fields.find((x) => x.name === name);
  assert.ok(f, `field ${name} missing from schema`);
  return f.type;
}

describe('pg-many-types.json (JSON with schema)', () => {
  const ev = change(decodeAll('pg-many-types.json')[0]);
  it('decodes every column to its documented value', () => {
    const r = ev.row!;
    assert.equal(r['id'], 42);
    assert.equal(r['price'], '1234.50');
    assert.equal(r['ratio'], '3.14159');
    assert.equal(r['qty'], 7);
    assert.equal(r['big_counter'], 9007199254740993n);
    assert.equal(r['weight_kg'], 2.75);
    assert.equal(r['score'], 98.6);
    assert.equal(r['is_active'], false);
    assert.equal(new Date((r['ship_date'] as number) * 86_400_000).toISOString().slice(0, 10), '2025-06-12');
    assert.equal(r['pickup_time'], 52215123456);
    assert.equal(r['created_at'], 1749546927654321);
    assert.equal(new Date(Math.floor((r['created_at'] as number) / 1000)).toISOString(), '2025-06-10T09:15:27.654Z');
    assert.equal(new Date(r['created_at_ms'] as number).toISOString(), '2025-06-10T09:15:27.654Z');
    assert.equal(r['updated_at'], '2025-06-10T09:15:27.654321Z');
    assert.equal(r['attrs'], '{"dims": [10, 20], "gift": false, "color": "red"}');
    assert.equal(r['external_id'], '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f');
    assert.deepEqual(Buffer.from(r['payload'] as Uint8Array).toString('hex'), 'deadbeef00');
    assert.deepEqual(r['tags'], ['new', 'sale']);
    assert.deepEqual(r['scores'], [1, 2, null, 4]);
    assert.equal(r['status'], 'shipped');
    assert.equal(r['wait_time'], 95400000000);
    assert.equal(r['note'], null);
  });
  it('derives the table schema per the shared type contract', () => {
    const s = ev.schema;
    assert.equal(ev.table, 'inventory.type_showcase');
    assert.deepEqual(fieldType(s, 'price'), ['null', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }]);
    assert.deepEqual(fieldType(s, 'ratio'), ['null', { type: 'string', 'cdc.semantic': 'variable-decimal' }]);
    assert.deepEqual(fieldType(s, 'qty'), ['null', 'int']);
    assert.deepEqual(fieldType(s, 'big_counter'), ['null', 'long']);
    assert.deepEqual(fieldType(s, 'weight_kg'), ['null', 'float']);
    assert.deepEqual(fieldType(s, 'ship_date'), ['null', { type: 'int', logicalType: 'date' }]);
    assert.deepEqual(fieldType(s, 'pickup_time'), ['null', { type: 'long', logicalType: 'time-micros' }]);
    assert.deepEqual(fieldType(s, 'created_at'), ['null', { type: 'long', logicalType: 'timestamp-micros' }]);
    assert.deepEqual(fieldType(s, 'created_at_ms'), ['null', { type: 'long', logicalType: 'timestamp-millis' }]);
    assert.deepEqual(fieldType(s, 'updated_at'), ['null', { type: 'string', 'cdc.semantic': 'zoned-timestamp' }]);
    assert.deepEqual(fieldType(s, 'attrs'), ['null', { type: 'string', 'cdc.semantic': 'json' }]);
    assert.deepEqual(fieldType(s, 'external_id'), ['null', { type: 'string', 'cdc.semantic': 'uuid' }]);
    assert.deepEqual(fieldType(s, 'payload'), ['null', 'bytes']);
    assert.deepEqual(fieldType(s, 'scores'), ['null', { type: 'array', items: ['null', 'int'] }]);
    assert.deepEqual(fieldType(s, 'status'), ['null', { type: 'string', 'cdc.semantic': 'enum' }]);
    assert.deepEqual(fieldType(s, 'wait_time'), ['null', { type: 'long', 'cdc.semantic': 'micro-duration' }]);
    assert.ok(s.fields.every((f) => Array.isArray(f.type) && f.type[0] === 'null' && f.default === null));
    assert.ok(!s.fields.some((f) => f.name.startsWith('_cdc') || f.name.startsWith('_hoodie')));
    assert.deepEqual(ev.keyFields, ['id']);
    assert.deepEqual(ev.key, { id: 42 });
  });
  it('carries position, source time and transaction id', () => {
    assert.equal(ev.op, 'c');
    assert.equal(ev.position.ordering, (1n << 62n) + 34392480n);
    assert.equal(ev.sourceTsMs, 1749546928006);
    assert.equal(ev.txId, '799');
    assert.deepEqual(ev.origin, { topic: 'dbserver1.inventory.type_showcase', partition: 0, offset: 0n });
  });
});

describe('PostgreSQL envelopes', () => {
  it('create, default-identity update and full-identity update take `after`', () => {
    const c = change(decodeAll('pg-create.json')[0]);
    assert.equal(c.op, 'c');
    assert.equal(c.table, 'inventory.customers');
    assert.deepEqual(Object.keys(c.row!), ['id', 'first_name', 'last_name', 'email']);
    const u = change(decodeAll('pg-update-default-replica-identity.json')[0]);
    assert.equal(u.op, 'u');
    assert.ok(u.position.ordering > c.position.ordering);
    const f = change(decodeAll('pg-update-replica-identity-full.json')[0]);
    assert.equal(f.op, 'u');
    assert.equal(f.row!['id'], 1005);
  });
  it('delete keeps only the key columns (never the DEFAULT-identity fallbacks); tombstone carries nothing', () => {
    const [d, t] = decodeAll('pg-delete-and-tombstone.jsonl');
    const ev = change(d);
    assert.equal(ev.op, 'd');
    assert.deepEqual(ev.row, { id: 1005 });
    assert.deepEqual(ev.key, { id: 1005 });
    assert.equal(t?.kind, 'tombstone');
  });
  it('snapshot reads rank below streaming changes', () => {
    const reads = decodeAll('pg-snapshot-read.jsonl').map(change);
    assert.equal(reads.length, 4);
    for (const r of reads) {
      assert.equal(r.op, 'r');
      assert.equal(r.position.ordering, 34380800n);
    }
    const streamed = change(decodeAll('pg-create.json')[0]);
    assert.ok(streamed.position.ordering > reads[0]!.position.ordering);
  });
  it('incremental-snapshot reads are unordered', () => {
    const ev = change(decodeAll('pg-incremental-snapshot-read.json')[0]);
    assert.equal(ev.position.unordered, true);
    assert.equal(ev.txId, null);
  });
  it('truncate is a table-level event', () => {
    const d = decodeAll('pg-truncate.json')[0]!;
    assert.equal(d.kind, 'truncate');
    if (d.kind !== 'truncate') return;
    assert.equal(d.event.op, 't');
    assert.equal(d.event.table, 'inventory.customers');
    assert.equal(d.event.key, null);
    assert.equal(d.event.position.ordering, (1n << 62n) + 34391016n);
  });
  it('schemaless CRUD infers types from values', () => {
    const [c, u, d, t] = decodeAll('pg-schemaless-crud.jsonl');
    const ce = change(c);
    assert.deepEqual(ce.row, { id: 1006, first_name: 'Maria', last_name: 'Lopez', email: 'maria.lopez@example.com' });
    assert.deepEqual(fieldType(ce.schema, 'id'), ['null', 'long']);
    assert.equal(change(u).row!['last_name'], 'Lopez-Garcia');
    assert.deepEqual(change(d).row, { id: 1006 });
    assert.equal(t?.kind, 'tombstone');
  });
  it('TOAST placeholder → unavailable column, value not written', () => {
    const ev = change(decodeAll('pg-toasted-unavailable-value.json')[0]);
    assert.deepEqual(ev.unavailable, ['biography']);
    assert.equal(ev.row!['biography'], null);
    assert.equal(ev.row!['first_name'], 'Dana');
  });
  it('keyless tables: rejected by default, all-columns or declared columns on request', () => {
    const rejected = decodeAll('pg-no-primary-key.jsonl');
    assert.equal(rejected[0]?.kind, 'invalid');
    if (rejected[0]?.kind === 'invalid') assert.equal(rejected[0].error.reason, 'no-primary-key');
    assert.equal(rejected[3]?.kind, 'tombstone');
    const all = decodeAll('pg-no-primary-key.jsonl', { keyless: 'all-columns' });
    const del = change(all[2]);
    assert.equal(del.op, 'd');
    assert.deepEqual(del.keyFields, ['event_time', 'actor', 'action', 'detail']);
    assert.equal(del.row!['action'], 'invoice.voided');
    const cols = decodeAll('pg-no-primary-key.jsonl', { keyless: { columns: ['event_time', 'actor'] } });
    assert.deepEqual(change(cols[1]).key, { event_time: '2025-06-12T10:05:00.118472Z', actor: 'svc-billing' });
  });
  it('heartbeat, logical message and transaction metadata are recognised', () => {
    const hb = decodeAll('pg-heartbeat.json')[0]!;
    assert.equal(hb.kind, 'heartbeat');
    const m = decodeAll('pg-logical-message.json')[0]!;
    assert.equal(m.kind, 'message');
    const [begin, c1, c2, end] = decodeAll('pg-transaction-metadata.jsonl');
    assert.equal(begin?.kind, 'transaction');
    assert.equal(end?.kind, 'transaction');
    if (begin?.kind !== 'transaction' || end?.kind !== 'transaction') return;
    assert.equal(begin.status, 'BEGIN');
    assert.equal(end.status, 'END');
    assert.equal(end.eventCount, 2);
    assert.deepEqual(end.perTable, [
      { table: 'inventory.customers', eventCount: 1 },
      { table: 'inventory.orders', eventCount: 1 },
    ]);
    assert.equal(change(c1).txId, begin.txId);
    assert.equal(change(c2).txId, end.txId);
  });
});

describe('flattened ExtractNewRecordState (rewrite)', () => {
  const evs = decodeAll('pg-flattened-rewrite.jsonl').map(change);
  it('maps __op/__deleted/__lsn and strips meta fields', () => {
    assert.deepEqual(evs.map((e) => e.op), ['r', 'r', 'c', 'u', 'd', 'd']);
    assert.deepEqual(evs[3]!.row, { id: 1009, first_name: 'Olga', last_name: 'Petrova', email: 'olga.ivanova@example.com' });
    assert.deepEqual(evs[4]!.row, { id: 1002 });
    assert.equal(evs[0]!.table, 'inventory.customers');
    assert.equal(evs[3]!.sourceTsMs, 1749967412660);
    assert.ok(evs[0]!.position.ordering < evs[2]!.position.ordering);
    assert.equal(evs[5]!.position.ordering, (1n << 62n) + 39849440n);
    assert.ok(!evs[2]!.schema.fields.some((f) => f.name.startsWith('__')));
  });
});

describe('MySQL', () => {
  it('positions encode (phase, file, pos, row) and txId is the GTID', () => {
    const [c, u, d, t] = decodeAll('mysql-crud-with-schema.jsonl');
    const ce = change(c);
    assert.equal(ce.table, 'inventory.customers');
    assert.equal(ce.position.ordering, (1n << 62n) + (3n << 43n) + (2112n << 12n));
    assert.equal(ce.txId, '3e11fa47-71ca-11e1-9e33-c80aa9429562:24');
    assert.ok(change(u).position.ordering > ce.position.ordering);
    assert.equal(change(d).op, 'd');
    assert.deepEqual(change(d).row, { id: 1005 });
    assert.equal(t?.kind, 'tombstone');
  });
  it('schema-change topic record is recognised and the new column evolves the table schema in place', () => {
    const tracker = new SchemaTracker();
    const out = decodeAll('mysql-schema-change-add-column.jsonl', { tracker });
    assert.equal(out[1]?.kind, 'schema-change');
    if (out[1]?.kind === 'schema-change') {
      assert.equal(out[1].database, 'inventory');
      assert.match(out[1].ddl ?? '', /ADD COLUMN middle_name/);
      assert.deepEqual(out[1].tables[0]?.primaryKey, ['id']);
    }
    const last = change(out[3]);
    assert.deepEqual(last.schema.fields.map((f) => f.name), ['id', 'first_name', 'middle_name', 'last_name', 'email']);
    assert.deepEqual(tracker.schemaOf('inventory.customers')?.fields.map((f) => f.name), ['id', 'first_name', 'middle_name', 'last_name', 'email']);
  });
});

describe('PostgreSQL schema change mid-stream', () => {
  it('adds the new optional column; an older-schema event afterwards keeps the evolved schema', () => {
    const tracker = new SchemaTracker();
    const recs = loadRecords('pg-schema-change-add-column.jsonl');
    const ctx = createDecodeContext({ tracker });
    const evs = recs.map((r) => change(decodeRecord(r, ctx)));
    assert.ok(!evs[0]!.schema.fields.some((f) => f.name === 'phone'));
    assert.ok(evs[2]!.schema.fields.some((f) => f.name === 'phone'));
    const again = change(decodeRecord(recs[0]!, ctx));
    assert.ok(again.schema.fields.some((f) => f.name === 'phone'), 'older event must not shrink the table schema');
  });
});

describe('JSON layout', () => {
  it('pretty-printed with-schema JSON (slow path) decodes like the compact form (fast path)', () => {
    const [rec] = loadRecords('pg-many-types.json');
    const pretty = Buffer.from(rec!.value!).toString().replace(/,"/g, ',\n  "').replace(/^\{/, '{ ');
    const ctx = createDecodeContext();
    const a = change(decodeRecord(rec!, ctx));
    const b = change(decodeRecord({ ...rec!, value: Buffer.from(pretty) }, ctx));
    assert.deepEqual(b.row, a.row);
    assert.deepEqual(b.schema, a.schema);
  });
});
