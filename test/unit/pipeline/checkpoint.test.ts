import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CHECKPOINT_KEY,
  CheckpointError,
  decodeCheckpoint,
  emptyCheckpoint,
  encodeCheckpoint,
  isUnconsumed,
  mergeCheckpoint,
  startOffsets,
} from '../../../src/pipeline/checkpoint.js';

test('encode → decode round-trips, offsets as strings, int64 exact', () => {
  const c = mergeCheckpoint(
    emptyCheckpoint(),
    new Map([
      ['db.s.t:0', { next: 9223372036854775807n }],
      ['db.s.t:3', { next: 100n, floor: 40n }],
      ['other:1', { next: 5n }],
    ]),
    'lsn:1/123',
  );
  const text = encodeCheckpoint(c);
  assert.equal(CHECKPOINT_KEY, 'cdc-lake.checkpoint');
  assert.deepEqual(JSON.parse(text), {
    version: 1,
    offsets: { 'db.s.t': { '0': '9223372036854775807', '3': ['100', '40'] }, other: { '1': '5' } },
    sourcePosition: 'lsn:1/123',
  });
  assert.deepEqual(decodeCheckpoint(text), c);
});

test('decode rejects bad input with a message naming where', () => {
  assert.throws(() => decodeCheckpoint('{', 's.t@001'), (e: unknown) => e instanceof CheckpointError && e.message.includes('s.t@001'));
  assert.throws(() => decodeCheckpoint('{"version":2,"offsets":{}}'), /unsupported version/);
  assert.throws(() => decodeCheckpoint('{"version":1,"offsets":{"t":{"0":12}}}'), /decimal string/);
  assert.throws(() => decodeCheckpoint('{"version":1,"offsets":{"t":{"0":["1","2"]}}}'), /above next/);
});

test('merge: next never moves back, untouched splits kept, source position carried', () => {
  const a = mergeCheckpoint(emptyCheckpoint(), new Map([['t:0', { next: 10n }], ['t:1', { next: 4n }]]), 'p1');
  const b = mergeCheckpoint(a, new Map([['t:0', { next: 8n }]]), null);
  assert.deepEqual(b.splits.get('t:0'), { next: 10n, floor: 8n });
  assert.deepEqual(b.splits.get('t:1'), { next: 4n, floor: 4n });
  assert.equal(b.sourcePosition, 'p1');
});

test('start offsets: minimum floor over the tables naming the split; absent → earliest', () => {
  const x = mergeCheckpoint(emptyCheckpoint(), new Map([['t:0', { next: 50n, floor: 10n }]]), null);
  const y = mergeCheckpoint(emptyCheckpoint(), new Map([['t:0', { next: 30n }], ['t:1', { next: 7n }]]), null);
  const s = startOffsets(['t:0', 't:1', 't:2'], [x, y]);
  assert.deepEqual([...s], [['t:0', 10n], ['t:1', 7n]]);
  assert.equal(isUnconsumed(x, 't:0', 49n), false);
  assert.equal(isUnconsumed(x, 't:0', 50n), true);
  assert.equal(isUnconsumed(y, 't:5', 0n), true);
  assert.equal(isUnconsumed(undefined, 't:0', 0n), true);
});

test('property: decode(encode(c)) == c', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.stringMatching(/^[a-z._-]{1,8}$/), fc.nat(50), fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), fc.bigInt({ min: 0n, max: 1000n }))),
      fc.option(fc.string()),
      (rows, pos) => {
        const consumed = new Map(rows.map(([t, p, next, d]) => [`${t}:${p}`, { next, floor: next - d < 0n ? 0n : next - d }]));
        const c = mergeCheckpoint(emptyCheckpoint(), consumed, pos);
        assert.deepEqual(decodeCheckpoint(encodeCheckpoint(c)), c);
      },
    ),
  );
});

test('two tables on one topic: a crash before the second commits re-reads its records, the first skips them', async () => {
  const { BufferSet } = await import('../../../src/pipeline/buffer.js');
  const { checkpointForCommit } = await import('../../../src/pipeline/checkpoint.js');
  const schema = { type: 'record' as const, name: 'r', fields: [] };
  const ev = (table: string, offset: bigint) => ({
    table,
    op: 'c' as const,
    key: { id: Number(offset) },
    row: { id: Number(offset) },
    position: { ordering: offset, text: `p${offset}` },
    sourceTsMs: null,
    txId: null,
    schema,
    keyFields: ['id'],
    unavailable: [],
    origin: { topic: 'shared', partition: 0, offset },
  });
  const buffers = new BufferSet({ maxRows: 100, maxBytes: 1 << 20, maxAgeMs: 1000, memoryBudgetBytes: 1 << 20 });
  buffers.add(ev('s.x', 10n), 1, 0); // x buffers offset 10 and never commits (crash)
  for (let o = 11n; o < 20n; o++) buffers.add(ev('s.y', o), 1, 0);
  const yBatch = buffers.take('s.y');
  assert.ok(yBatch);
  const y = checkpointForCommit(emptyCheckpoint(), yBatch.splits, yBatch.lastPosition, (s) => buffers.pendingFloor(s, 's.y'));
  assert.deepEqual(y.splits.get('shared:0'), { next: 20n, floor: 10n });
  // restart: only y has a checkpoint; the split starts at 10 so x gets offset 10 again
  assert.deepEqual(startOffsets(['shared:0'], [decodeCheckpoint(encodeCheckpoint(y))]), new Map([['shared:0', 10n]]));
  assert.equal(isUnconsumed(y, 'shared:0', 15n), false, 'y skips what it already has');
  assert.equal(y.sourcePosition, 'p19');
});
