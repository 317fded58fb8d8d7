import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { ChangeEvent } from '../../../src/debezium/change-event.js';
import { BufferSet } from '../../../src/pipeline/buffer.js';

function event(op: 'c' | 'u', ordering: bigint, row: Record<string, string | number | null>, unavailable: string[] = []): ChangeEvent {
  return {
    table: 'public.t', op, key: { id: 1 }, row, position: { ordering, text: String(ordering) }, sourceTsMs: 0, txId: null,
    schema: { type: 'record', name: 't', fields: [] }, keyFields: ['id'], unavailable, origin: { topic: 't', partition: 0, offset: ordering },
  };
}

const limits = { maxRows: 100, maxBytes: 1 << 20, maxAgeMs: 1000, memoryBudgetBytes: 1 << 24 };

test('an update with an unchanged TOAST column keeps the value of the insert it replaces in a batch', () => {
  const b = new BufferSet(limits);
  b.add(event('c', 1n, { id: 1, bio: 'long text', n: 1 }), 10, 0);
  assert.equal(b.add(event('u', 2n, { id: 1, bio: null, n: 2 }, ['bio']), 10, 0), 'replaced');
  const [e] = b.take('public.t')!.events;
  assert.deepEqual(e!.row, { id: 1, bio: 'long text', n: 2 });
  assert.deepEqual(e!.unavailable, []);
});

test('a column unavailable in both events stays unavailable (the table keeps its stored value)', () => {
  const b = new BufferSet(limits);
  b.add(event('u', 1n, { id: 1, bio: null, n: 1 }, ['bio']), 10, 0);
  b.add(event('u', 2n, { id: 1, bio: null, n: 2 }, ['bio']), 10, 0);
  assert.deepEqual(b.take('public.t')!.events[0]!.unavailable, ['bio']);
});
