// Changes the fast path buffers encoded (`addEncoded`) follow the same rules as events
// (`add`): a buffer fed part of a stream by each path holds the same winners, rows, bytes,
// split ranges and held rows as one fed every change as an event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferSet, type TableBatch } from '../../../src/pipeline/buffer.js';
import { encodeCdcColumns } from '../../../src/pipeline/rows.js';
import { EncodedLane, type LaneOrigin } from '../../../src/pipeline/encoded-lane.js';
import type { ChangeEvent, Op } from '../../../src/debezium/change-event.js';
import type { FastChange } from '../../../src/debezium/fast-json.js';
import { AvroSink } from '../../../src/hudi/avro-encoder.js';
import { decodeAvroDatum, encodeAvroDataContent } from '../../../src/hudi/log-content.js';
import type { TableSchema } from '../../../src/table/schema.js';

const schema: TableSchema = { type: 'record', name: 's_t_record', fields: [{ name: 'id', type: ['null', 'long'], default: null }, { name: 'v', type: ['null', 'long'], default: null }] };
const limits = { maxRows: 1000, maxBytes: 1 << 20, maxAgeMs: 1000, memoryBudgetBytes: 1 << 22, trackTransactions: true };

interface Change {
  key: number;
  ordering: number;
  op: Op;
  v: number;
  tx: string;
  split: number;
  /** Read by the fast path (upserts only). */
  fast: boolean;
  /** An update whose `v` Debezium did not send (TOAST). */
  unavailable: boolean;
}

function event(c: Change, offset: bigint): ChangeEvent {
  return {
    table: 's.t', op: c.op, key: c.op === 't' ? null : { id: c.key },
    row: c.op === 't' ? null : c.unavailable ? { id: c.key, v: null } : { id: c.key, v: c.v },
    position: { ordering: BigInt(c.ordering), text: `p${c.ordering}` }, sourceTsMs: null, txId: c.tx, schema,
    keyFields: c.op === 't' ? [] : ['id'], unavailable: c.unavailable ? ['v'] : [], origin: { topic: 'topic', partition: c.split, offset },
  };
}

function encoded(c: Change): { change: FastChange; row: Uint8Array } {
  const change: FastChange = { table: 's.t', op: c.op as 'c' | 'u', key: c.key, keyFields: ['id'], position: { ordering: BigInt(c.ordering), text: `p${c.ordering}` }, sourceTsMs: null, txId: c.tx, schema, size: 10 + c.v };
  const sink = new AvroSink(64);
  sink.raw(Buffer.from(encodeAvroDataContent(schema, [{ id: c.key, v: c.v }])).subarray(12));
  encodeCdcColumns(sink, c.op, null, BigInt(c.ordering), c.tx);
  return { change, row: sink.buf.subarray(0, sink.pos) };
}

/** What a batch holds, by key, whichever path each row came by. */
function holds(batch: TableBatch | undefined): unknown {
  if (batch === undefined) return undefined;
  const rows = new Map<number, string>();
  for (const e of batch.events) rows.set(e.key?.['id'] as number, `${e.op}@${e.position.ordering} v=${e.row?.['v']} unavailable=${e.unavailable.join()}`);
  const lane = batch.encoded?.upserts();
  for (let i = 0; lane !== undefined && i < lane.count; i++) {
    const row = decodeAvroDatum(JSON.stringify(lane.schema), lane.datum(i));
    rows.set(Number(lane.key(i)), `${row['_cdc_op']}@${lane.ordering(i)} v=${row['v']} unavailable=`);
  }
  return { rows: [...rows].sort((a, b) => a[0] - b[0]), truncate: batch.truncate?.position.ordering, splits: [...batch.splits].sort(), count: batch.rows, bytes: batch.bytes, last: batch.lastPosition, held: batch.held };
}

const change = fc.record({
  key: fc.integer({ min: 0, max: 2 }),
  ordering: fc.integer({ min: 0, max: 30 }),
  op: fc.constantFrom<Op>('c', 'u', 'u', 'd', 'r', 't'),
  v: fc.integer({ min: 0, max: 99 }),
  tx: fc.constantFrom('a', 'b', 'c'),
  split: fc.integer({ min: 0, max: 1 }),
  fast: fc.boolean(),
  unavailable: fc.boolean(),
});

test('property: a buffer fed by both paths holds what one fed only events holds', () => {
  fc.assert(
    fc.property(fc.array(change, { maxLength: 50 }), fc.subarray(['a', 'b', 'c']), (changes, open) => {
      const events = new BufferSet(limits);
      const mixed = new BufferSet(limits);
      changes.forEach((c, i) => {
        const offset = BigInt(i);
        const bytes = 10 + c.v;
        const expected = events.add(event(c, offset), bytes, i);
        const byFast = c.fast && (c.op === 'c' || c.op === 'u' || c.op === 'r') && !c.unavailable;
        const got = byFast ? (({ change: fc_, row }) => mixed.addEncoded(fc_, row, bytes, i, 's.t', `topic:${c.split}`, offset))(encoded(c)) : mixed.add(event(c, offset), bytes, i);
        assert.equal(got, expected, `change ${i}`);
        assert.equal(mixed.totalBytes, events.totalBytes, `bytes after change ${i}`);
      });
      // an aligned take holding the open transactions' rows, then the rest
      const isComplete = (id: string): boolean => !open.includes(id);
      assert.deepEqual(holds(mixed.take('s.t', isComplete)), holds(events.take('s.t', isComplete)));
      assert.deepEqual(holds(mixed.take('s.t', () => true)), holds(events.take('s.t', () => true)));
      assert.equal(mixed.totalBytes, 0);
    }),
    { numRuns: 1500 },
  );
});

test('a change by the general path takes the TOASTed column it did not send from the encoded row it replaces', () => {
  const b = new BufferSet(limits);
  const base: Change = { key: 1, ordering: 1, op: 'c', v: 42, tx: 'a', split: 0, fast: true, unavailable: false };
  const { change: c, row } = encoded(base);
  assert.equal(b.addEncoded(c, row, 10, 0, 's.t', 'topic:0', 0n), 'added');
  assert.equal(b.add(event({ ...base, op: 'u', ordering: 2, v: 0, unavailable: true }, 1n), 10, 0), 'replaced');
  const batch = b.take('s.t');
  assert.equal(batch?.encoded, null);
  assert.deepEqual(batch?.events.map((e) => [e.row?.['v'], e.unavailable]), [[42, []]]);
});

test('rows of another schema than the lane holds are refused (the caller buffers them as events)', () => {
  const b = new BufferSet(limits);
  const { change: c, row } = encoded({ key: 1, ordering: 1, op: 'c', v: 1, tx: 'a', split: 0, fast: true, unavailable: false });
  assert.equal(b.addEncoded(c, row, 10, 0, 's.t', 'topic:0', 0n), 'added');
  assert.equal(b.addEncoded({ ...c, key: 2, schema: { ...schema } }, row, 10, 0, 's.t', 'topic:0', 1n), 'unsupported');
  assert.equal(b.take('s.t')?.rows, 1);
});

test('a key changed again and again in one batch does not grow the lane without bound; what it keeps survives compaction', () => {
  const lane = new EncodedLane(schema, ['id'], 's.t');
  const row = (v: number): Uint8Array => encoded({ key: 1, ordering: v, op: 'u', v, tx: 'a', split: 0, fast: true, unavailable: false }).row;
  lane.put(2, { ordering: 1n, text: 'p1' }, row(7), 10, { split: 'topic:1', offset: 5n, tx: 'x', txIds: ['w', 'x'] });
  for (let i = 0; i < 500_000; i++) lane.put(1, { ordering: BigInt(i), text: `p${i}` }, row(i % 100), 10, { split: 'topic:0', offset: BigInt(i), tx: `t${i}` });
  assert.ok(lane.arenaBytes < 3 << 20, `arena ${lane.arenaBytes} bytes`);
  const u = lane.upserts();
  const rows = Array.from({ length: u.count }, (_, i) => [u.key(i), u.ordering(i), decodeAvroDatum(JSON.stringify(u.schema), u.datum(i))['v']]);
  assert.deepEqual(rows.sort(), [['1', 499_999n, 99], ['2', 1n, 7]]);
  // the newest change of key 1 stands for every transaction of the changes it replaced
  const origins = lane.origins();
  const { txIds, ...one } = origins.get(1) as Required<LaneOrigin>;
  assert.deepEqual(one, { split: 'topic:0', offset: 499_999n, tx: 't499999' });
  assert.deepEqual(new Set(txIds), new Set(Array.from({ length: 500_000 }, (_, i) => `t${i}`)));
  assert.deepEqual(origins.get(2), { split: 'topic:1', offset: 5n, tx: 'x', txIds: ['w', 'x'] });
});
