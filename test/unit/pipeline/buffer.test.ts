import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferSet, keyText, supersedes } from '../../../src/pipeline/buffer.js';
import type { ChangeEvent, Op } from '../../../src/debezium/change-event.js';

const schema = { type: 'record' as const, name: 't', fields: [] };
let nextOffset = 0n;
function ev(id: number | null, ordering: bigint, op: Op = 'u', opts: { unordered?: boolean; table?: string; partition?: number; offset?: bigint; v?: number } = {}): ChangeEvent {
  const offset = opts.offset ?? nextOffset++;
  return {
    table: opts.table ?? 's.t',
    op,
    key: id === null ? null : { id },
    row: op === 't' ? null : { id, v: opts.v ?? 0 },
    position: { ordering, text: `p${ordering}`, ...(opts.unordered ? { unordered: true } : {}) },
    sourceTsMs: null,
    txId: null,
    schema,
    keyFields: id === null ? [] : ['id'],
    unavailable: [],
    origin: { topic: 'topic', partition: opts.partition ?? 0, offset },
  };
}
const limits = { maxRows: 1000, maxBytes: 1 << 20, maxAgeMs: 1000, memoryBudgetBytes: 1 << 22 };

test('newest position per key wins; equal is a duplicate (first kept); older is stale', () => {
  const b = new BufferSet(limits);
  assert.equal(b.add(ev(1, 10n, 'c', { v: 1 }), 10, 0), 'added');
  assert.equal(b.add(ev(1, 20n, 'u', { v: 2 }), 10, 0), 'replaced');
  assert.equal(b.add(ev(1, 20n, 'u', { v: 3 }), 10, 0), 'duplicate');
  assert.equal(b.add(ev(1, 5n, 'd'), 10, 0), 'stale');
  assert.equal(b.add(ev(2, 1n, 'c'), 10, 0), 'added');
  const batch = b.take('s.t');
  assert.ok(batch);
  assert.equal(batch.events.length, 2);
  assert.deepEqual(batch.events[0]?.row, { id: 1, v: 2 });
  assert.equal(batch.bytes, 20);
  assert.equal(b.totalBytes, 0);
});

test('unordered (incremental snapshot) reads never overwrite streamed changes, streamed changes beat them', () => {
  assert.equal(supersedes({ ordering: 0n, text: '', unordered: true }, { ordering: 5n, text: '' }), false);
  assert.equal(supersedes({ ordering: 0n, text: '', unordered: true }, { ordering: 0n, text: '', unordered: true }), true);
  assert.equal(supersedes({ ordering: 1n, text: '' }, { ordering: 99n, text: '', unordered: true }), true);
  const b = new BufferSet(limits);
  b.add(ev(1, 10n, 'u', { v: 1 }), 1, 0);
  assert.equal(b.add(ev(1, 0n, 'r', { unordered: true, v: 9 }), 1, 0), 'stale');
  assert.deepEqual(b.take('s.t')?.events[0]?.row, { id: 1, v: 1 });
});

test('a truncate supersedes everything before it; events after it stay', () => {
  const b = new BufferSet(limits);
  b.add(ev(1, 1n), 100, 0);
  b.add(ev(2, 2n), 100, 0);
  assert.equal(b.add(ev(null, 3n, 't'), 5, 0), 'truncated');
  b.add(ev(3, 4n), 100, 0);
  assert.equal(b.totalBytes, 105);
  const batch = b.take('s.t');
  assert.equal(batch?.truncate?.op, 't');
  assert.deepEqual(batch?.events.map((e) => e.key), [{ id: 3 }]);
  assert.equal(batch?.rows, 2);
});

test('keys compare by value across number/bigint; keyless events are all kept', () => {
  const a = ev(1, 1n);
  const b2 = { ...ev(1, 2n), key: { id: 1n } };
  assert.equal(keyText(a), keyText(b2));
  const b = new BufferSet(limits);
  b.add(ev(null, 1n, 'c'), 1, 0);
  b.add(ev(null, 1n, 'c'), 1, 0);
  assert.equal(b.take('s.t')?.events.length, 2);
});

test('per-split offsets covered: first and next, including advance() without events', () => {
  const b = new BufferSet(limits);
  b.add(ev(1, 1n, 'u', { partition: 0, offset: 7n }), 1, 0);
  b.add(ev(2, 2n, 'u', { partition: 0, offset: 9n }), 1, 0);
  b.add(ev(3, 3n, 'u', { partition: 1, offset: 3n }), 1, 0);
  b.advance('s.t', 'topic:1', 11n, 0);
  b.add(ev(4, 4n, 'u', { partition: 0, offset: 20n, table: 'other.t' }), 1, 0);
  assert.equal(b.pendingFloor('topic:0', 's.t'), 20n);
  assert.equal(b.pendingFloor('topic:0', 'other.t'), 7n);
  assert.deepEqual(b.tablesReading(['topic:1']), ['s.t']);
  const batch = b.take('s.t');
  assert.deepEqual(batch?.splits.get('topic:0'), { first: 7n, next: 10n });
  assert.deepEqual(batch?.splits.get('topic:1'), { first: 3n, next: 12n });
});

test('flush is due on rows, bytes and age (age also for a table that went quiet)', () => {
  const b = new BufferSet({ ...limits, maxRows: 2, maxBytes: 100, maxAgeMs: 50 });
  b.add(ev(1, 1n, 'u', { table: 'a.rows' }), 1, 0);
  b.add(ev(2, 1n, 'u', { table: 'a.rows' }), 1, 0);
  b.add(ev(1, 1n, 'u', { table: 'a.bytes' }), 100, 0);
  b.add(ev(1, 1n, 'u', { table: 'a.quiet' }), 1, 10);
  assert.deepEqual(b.due(20), [
    { table: 'a.rows', reason: 'rows' },
    { table: 'a.bytes', reason: 'bytes' },
  ]);
  assert.deepEqual(b.due(60).find((d) => d.table === 'a.quiet'), { table: 'a.quiet', reason: 'age' });
  b.take('a.quiet');
  b.add(ev(1, 2n, 'u', { table: 'a.quiet' }), 1, 100);
  assert.equal(b.due(120).some((d) => d.table === 'a.quiet'), false, 'age restarts with a new batch');
});

test('global memory budget: pause over budget, largest batches due, resume below the ratio', () => {
  const b = new BufferSet({ ...limits, memoryBudgetBytes: 1000, maxBytes: 10_000, resumeRatio: 0.5 });
  b.add(ev(1, 1n, 'u', { table: 'a.small' }), 200, 0);
  b.add(ev(1, 1n, 'u', { table: 'a.big' }), 900, 0);
  const bp = b.backpressure(['topic:0', 'topic:1']);
  assert.deepEqual(bp, { pause: ['topic:0', 'topic:1'], resume: [] });
  assert.deepEqual(b.backpressure(['topic:0', 'topic:1']), { pause: [], resume: [] }, 'only changes are reported');
  assert.deepEqual(b.due(0), [{ table: 'a.big', reason: 'memory' }]);
  b.take('a.big');
  assert.deepEqual(b.backpressure(['topic:0', 'topic:1']), { pause: [], resume: ['topic:0', 'topic:1'] });
});

test('a full batch that waits (its table is in maintenance) pauses only the splits it reads, until it is taken', () => {
  const b = new BufferSet({ ...limits, maxRows: 2 });
  const split = (p: number): string => `topic:${p}`;
  b.add(ev(1, 1n, 'u', { table: 'a.busy', partition: 0 }), 10, 0);
  b.add(ev(1, 1n, 'u', { table: 'a.other', partition: 2 }), 10, 0);
  const active = [split(0), split(1), split(2)];
  assert.deepEqual(b.backpressure(active, ['a.busy']), { pause: [], resume: [] }, 'below its limits a waiting batch keeps reading');
  b.add(ev(2, 2n, 'u', { table: 'a.busy', partition: 1 }), 10, 0);
  assert.deepEqual(b.backpressure(active, []), { pause: [], resume: [] }, 'a full batch that can flush pauses nothing');
  assert.deepEqual(b.backpressure(active, ['a.busy']), { pause: [split(0), split(1)], resume: [] });
  assert.deepEqual(b.backpressure(active, ['a.busy']), { pause: [], resume: [] }, 'only changes are reported');
  b.take('a.busy');
  assert.deepEqual(b.backpressure(active, ['a.busy']), { pause: [], resume: [split(0), split(1)] });
});

test('the memory budget and a waiting batch pause together; each lifts only its own', () => {
  const b = new BufferSet({ ...limits, maxRows: 2, memoryBudgetBytes: 1000, resumeRatio: 0.5 });
  b.add(ev(1, 1n, 'u', { table: 'a.busy', partition: 0 }), 10, 0);
  b.add(ev(2, 2n, 'u', { table: 'a.busy', partition: 0 }), 10, 0);
  b.add(ev(1, 1n, 'u', { table: 'a.big', partition: 1 }), 990, 0);
  assert.deepEqual(b.backpressure(['topic:0', 'topic:1'], ['a.busy']), { pause: ['topic:0', 'topic:1'], resume: [] });
  b.take('a.big');
  assert.deepEqual(b.backpressure(['topic:0', 'topic:1'], ['a.busy']), { pause: [], resume: ['topic:1'] }, "the waiting table's split stays paused");
  b.take('a.busy');
  assert.deepEqual(b.backpressure(['topic:0', 'topic:1'], []), { pause: [], resume: ['topic:0'] });
});

test('property: the batch holds, per key, the event with the highest ordering (first on ties)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 20 })), { maxLength: 60 }), (pairs) => {
      const b = new BufferSet(limits);
      const events = pairs.map(([k, o], i) => ev(k, BigInt(o), 'u', { v: i }));
      for (const e of events) b.add(e, 3, 0);
      const expected = new Map<number, ChangeEvent>();
      for (const e of events) {
        const id = (e.key as { id: number }).id;
        const cur = expected.get(id);
        if (!cur || e.position.ordering > cur.position.ordering) expected.set(id, e);
      }
      const got = b.take('s.t')?.events ?? [];
      assert.equal(got.length, expected.size);
      for (const e of got) assert.equal(e, expected.get((e.key as { id: number }).id));
      assert.equal(b.totalBytes, 0);
    }),
  );
});

test('transaction spans count every record read (stale and duplicate too) and survive an aligned take', () => {
  const b = new BufferSet({ ...limits, trackTransactions: true });
  const tx = (e: ChangeEvent, id: string): ChangeEvent => ({ ...e, txId: id });
  b.add(tx(ev(1, 10n, 'c', { offset: 0n }), '7'), 10, 100);
  b.add(tx(ev(1, 10n, 'u', { offset: 1n }), '7'), 10, 101); // duplicate
  b.add(tx(ev(1, 5n, 'u', { offset: 2n, partition: 1 }), '7'), 10, 102); // stale, other split
  b.add(tx(ev(2, 20n, 'c', { offset: 3n }), '8'), 10, 103);
  const seen = new Map<string, { seen: number; first: string; ms: number }>();
  const first = b.take('s.t', (id, span) => {
    seen.set(id, { seen: span.seen, first: [...span.firstOffsets].map(([s, o]) => `${s}@${o}`).join(','), ms: span.firstSeenMs });
    return id === '7'; // 8 is still open: its row is held
  });
  assert.deepEqual(seen.get('7'), { seen: 3, first: 'topic:0@0,topic:1@2', ms: 100 });
  assert.deepEqual(seen.get('8'), { seen: 1, first: 'topic:0@3', ms: 103 });
  assert.deepEqual(first?.events.map((e) => e.key?.['id']), [1]);
  assert.equal(first?.held, 1);
  // later records of the held transaction add to the span it kept
  b.add(tx(ev(3, 30n, 'c', { offset: 4n }), '8'), 10, 104);
  let span8 = { seen: 0, first: '' };
  const second = b.take('s.t', (id, span) => {
    if (id === '8') span8 = { seen: span.seen, first: [...span.firstOffsets].map(([s, o]) => `${s}@${o}`).join(',') };
    return true;
  });
  assert.deepEqual(span8, { seen: 2, first: 'topic:0@3' });
  assert.deepEqual(second?.events.map((e) => e.key?.['id']), [2, 3]);
});

test('a replace across transactions holds the row while either transaction is open', () => {
  const b = new BufferSet({ ...limits, trackTransactions: true });
  b.add({ ...ev(1, 10n, 'c', { offset: 10n }), txId: 'a' }, 10, 0);
  b.add({ ...ev(1, 20n, 'u', { offset: 11n }), txId: 'b' }, 10, 0);
  const held = b.take('s.t', (id) => id !== 'a');
  assert.equal(held?.events.length, 0);
  assert.equal(held?.held, 1);
  const all = b.take('s.t', () => true);
  assert.deepEqual(all?.events.map((e) => e.row?.['v']), [0]);
  assert.equal(all?.events[0]?.position.ordering, 20n);
});

test('one-column keys: 5, 5n and an unnamed-field 5 are one key; "5" and 2^60n are others', () => {
  const b = new BufferSet(limits);
  assert.equal(b.add(ev(5, 1n), 10, 0), 'added');
  assert.equal(b.add({ ...ev(5, 2n), key: { id: 5n } }, 10, 0), 'replaced');
  assert.equal(b.add({ ...ev(5, 3n), keyFields: [] }, 10, 0), 'replaced');
  assert.equal(b.add({ ...ev(5, 4n), key: { id: '5' } }, 10, 0), 'added');
  assert.equal(b.add({ ...ev(5, 5n), key: { id: 2n ** 60n } }, 10, 0), 'added');
  assert.equal(b.add({ ...ev(5, 6n), key: { id: 2n ** 60n } }, 10, 0), 'replaced');
  assert.equal(b.add({ ...ev(5, 7n), key: { id: 5, t: 1 }, keyFields: ['id', 't'] }, 10, 0), 'added');
  assert.equal(b.take('s.t')?.events.length, 4);
});
