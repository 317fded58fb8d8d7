import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FileGroupKeys } from '../../../src/table/key-index.js';

test('keeps ordering and deleted per key, overwrites on set, and grows past its initial slots', () => {
  const keys = new FileGroupKeys();
  for (let i = 0; i < 5000; i++) keys.set(`k${i}`, BigInt(i * 3), i % 7 === 0);
  keys.set('k10', 99n, true);
  assert.equal(keys.size, 5000);
  assert.deepEqual(keys.get('k10'), { ordering: 99n, deleted: true });
  assert.deepEqual(keys.get('k4999'), { ordering: 14997n, deleted: false });
  assert.deepEqual(keys.get('k7'), { ordering: 21n, deleted: true });
  assert.equal(keys.get('absent'), undefined);
});

test('orderings a double cannot hold stay exact (PostgreSQL LSN pairs, MySQL positions)', () => {
  const keys = new FileGroupKeys();
  const big = (1n << 62n) + 1n;
  keys.set('a', big, false);
  keys.set('b', -big, true);
  keys.set('c', BigInt(Number.MAX_SAFE_INTEGER), false);
  assert.deepEqual(keys.get('a'), { ordering: big, deleted: false });
  assert.deepEqual(keys.get('b'), { ordering: -big, deleted: true });
  assert.equal(keys.get('c')?.ordering, BigInt(Number.MAX_SAFE_INTEGER));
  // A wide ordering replaced by a narrow one is no longer read from the wide side.
  keys.set('a', 5n, false);
  assert.equal(keys.get('a')?.ordering, 5n);
});

test('clone is independent of the original', () => {
  const keys = new FileGroupKeys();
  keys.set('a', 1n, false);
  keys.set('w', 1n << 60n, true);
  const copy = keys.clone();
  copy.set('a', 2n, true);
  copy.set('b', 3n, false);
  assert.deepEqual(keys.get('a'), { ordering: 1n, deleted: false });
  assert.equal(keys.get('b'), undefined);
  assert.deepEqual(copy.get('w'), { ordering: 1n << 60n, deleted: true });
  assert.equal(copy.size, 3);
});
