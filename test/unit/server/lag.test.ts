import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consumerLag } from '../../../src/server/lag.js';

test('consumer lag: watermark minus the lowest committed next; fetch position when no table committed; per table summed over assigned splits', () => {
  const ends = new Map([
    ['t.a:0', { end: 100n, position: 90n }],
    ['t.a:1', { end: 50n, position: 50n }],
    ['tx:0', { end: 10n, position: 7n }],
  ]);
  const committed = new Map([
    ['s.a', new Map([['t.a:0', 60n], ['t.a:1', 50n]])],
    ['s.b', new Map([['t.a:0', 80n], ['gone:0', 5n]])],
    ['s.c', new Map([['gone:0', 1n]])],
  ]);
  const lag = consumerLag(ends, committed);
  assert.deepEqual(Object.fromEntries(lag.partitions), { 't.a:0': 40n, 't.a:1': 0n, 'tx:0': 3n });
  assert.deepEqual(Object.fromEntries(lag.tables), { 's.a': 40n, 's.b': 20n }, 's.c reads nothing assigned here');
});

test('consumer lag never goes negative (a commit past a watermark read earlier)', () => {
  const lag = consumerLag(new Map([['a:0', { end: 5n, position: undefined }]]), new Map([['s.t', new Map([['a:0', 9n]])]]));
  assert.equal(lag.partitions.get('a:0'), 0n);
  assert.equal(lag.tables.get('s.t'), 0n);
});
