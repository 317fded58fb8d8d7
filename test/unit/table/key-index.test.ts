import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalInt, FileGroupKeys, KeyIndexBudget } from '../../../src/table/key-index.js';

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
  // int64's ends, and past them (no ordering cdc-lake writes, but exact for any caller)
  const ends = [-(1n << 63n), (1n << 63n) - 1n, 1n << 63n, -(1n << 63n) - 1n, 1n << 80n];
  ends.forEach((v, i) => keys.set(`e${i}`, v, false));
  ends.forEach((v, i) => assert.equal(keys.get(`e${i}`)?.ordering, v, String(v)));
  // A wide ordering replaced by a narrow one is no longer read from the wide side.
  keys.set('e2', 5n, false);
  assert.equal(keys.get('e2')?.ordering, 5n);
  assert.equal(keys.get('a')?.ordering, big);
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

test('integer keys grow past the initial table: every key is found again, absent ones are not', () => {
  const keys = new FileGroupKeys();
  for (let i = -10_000; i < 10_000; i++) keys.set(String(i * 7919), BigInt(i), i % 3 === 0);
  assert.equal(keys.size, 20_000);
  for (let i = -10_000; i < 10_000; i++) assert.deepEqual(keys.get(String(i * 7919)), { ordering: BigInt(i), deleted: i % 3 === 0 });
  for (let i = 1; i < 2000; i++) assert.equal(keys.get(String(i * 7919 + 1)), undefined);
});

test('canonicalInt reads only the canonical text of an integer', () => {
  assert.equal(canonicalInt('0'), 0);
  assert.equal(canonicalInt('12'), 12);
  assert.equal(canonicalInt('-5'), -5);
  assert.equal(canonicalInt('999999999999999'), 999999999999999);
  assert.equal(canonicalInt('-999999999999999'), -999999999999999);
  for (const s of ['', '-', '-0', '012', '00', '+1', ' 1', '1 ', '1e3', '1.0', '0x1', '1000000000000000', 'a1', '١']) assert.ok(Number.isNaN(canonicalInt(s)), s);
});

test('integer-like keys that are not canonical stay distinct from the integer', () => {
  const keys = new FileGroupKeys();
  keys.set('12', 1n, false);
  keys.set('012', 2n, true);
  keys.set('-0', 3n, false);
  keys.set('0', 4n, false);
  assert.deepEqual(keys.get('12'), { ordering: 1n, deleted: false });
  assert.deepEqual(keys.get('012'), { ordering: 2n, deleted: true });
  assert.deepEqual(keys.get('-0'), { ordering: 3n, deleted: false });
  assert.deepEqual(keys.get('0'), { ordering: 4n, deleted: false });
  assert.equal(keys.get('00'), undefined);
  assert.equal(keys.size, 4);
});

test('behaves as a Map of key → state for any mix of keys, across growth and clones', () => {
  const key = fc.oneof(
    fc.integer({ min: -3000, max: 3000 }).map(String),
    fc.constantFrom('0', '-0', '00', '007', '999999999999999', '-999999999999999', '1000000000000000', 'a', '', '__null__'),
    fc.string({ maxLength: 4 }),
  );
  const op = fc.tuple(key, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.boolean());
  fc.assert(
    fc.property(fc.array(op, { maxLength: 3000, size: 'max' }), fc.nat(3000), (ops, cloneAt) => {
      const keys = new FileGroupKeys();
      const model = new Map<string, { ordering: bigint; deleted: boolean }>();
      let copy: { keys: FileGroupKeys; model: Map<string, { ordering: bigint; deleted: boolean }> } | undefined;
      ops.forEach(([k, ordering, deleted], i) => {
        if (i === cloneAt) copy = { keys: keys.clone(), model: new Map(model) };
        keys.set(k, ordering, deleted);
        model.set(k, { ordering, deleted });
      });
      assert.equal(keys.size, model.size);
      for (const [k, v] of model) assert.deepEqual(keys.get(k), v);
      for (const [k] of ops) if (!model.has(`${k}x`)) assert.equal(keys.get(`${k}x`), undefined);
      if (copy) {
        assert.equal(copy.keys.size, copy.model.size);
        for (const [k, v] of copy.model) assert.deepEqual(copy.keys.get(k), v);
      }
    }),
    { numRuns: 200 },
  );
});

test('the key index budget drops the least recently used file groups past its bound, never the most recent', () => {
  const groups = Array.from({ length: 4 }, () => new FileGroupKeys());
  groups.forEach((g, i) => g.set(`name-${i}`, 1n, false));
  const one = groups[0]!.bytes;
  assert.ok(one > 0);
  const budget = new KeyIndexBudget(one * 2);
  const dropped: number[] = [];
  groups.forEach((g, i) => budget.touch(g, () => dropped.push(i)));
  budget.touch(groups[0]!, () => dropped.push(0)); // used again: now the most recent
  assert.equal(budget.settle(), 2);
  assert.deepEqual(dropped, [1, 2], 'least recently used first');
  assert.equal(budget.bytes, one * 2);
  budget.forget(groups[3]!);
  assert.equal(budget.bytes, one);
  const tiny = new KeyIndexBudget(1);
  tiny.touch(groups[0]!, () => assert.fail('the only (most recent) group stays'));
  assert.equal(tiny.settle(), 0);
  assert.equal(budget.evicted, 2);
});
