import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  InstantClock, compareInstants, dateToInstant, instantFileName, instantToDate, parseInstantFileName, type Instant,
} from '../../../src/hudi/instant.js';
import { V6_ZIPS, fixtureTable } from './fixture-files.js';

test('every v6 fixture timeline file parses and renders back to its name', async () => {
  let count = 0;
  for (const zip of V6_ZIPS) {
    const t = await fixtureTable(zip);
    const names = t.files.filter((f) => /^\.hoodie\/[^/]+$/.test(f)).map((f) => f.slice('.hoodie/'.length));
    for (const name of names) {
      if (name === 'hoodie.properties') continue;
      const i = parseInstantFileName(name);
      assert.ok(i, `${zip}: ${name} parses`);
      assert.equal(instantFileName(i), name, `${zip}: ${name}`);
      count++;
    }
  }
  assert.ok(count >= 40, `checked ${count} instant files`);
});

test('specific fixture names', () => {
  assert.deepEqual(parseInstantFileName('20240418173550988.inflight'), { timestamp: '20240418173550988', action: 'commit', state: 'inflight' });
  assert.deepEqual(parseInstantFileName('20240418173550988.commit.requested'), { timestamp: '20240418173550988', action: 'commit', state: 'requested' });
  assert.deepEqual(parseInstantFileName('20250126040936578.rollback'), { timestamp: '20250126040936578', action: 'rollback', state: 'completed' });
  assert.deepEqual(parseInstantFileName('20250126040936578.rollback.inflight'), { timestamp: '20250126040936578', action: 'rollback', state: 'inflight' });
});

test('layout-1 quirks: commit inflight and completed compaction', () => {
  const t = '20250101000000000';
  assert.equal(instantFileName({ timestamp: t, action: 'commit', state: 'inflight' }), `${t}.inflight`);
  assert.equal(instantFileName({ timestamp: t, action: 'compaction', state: 'requested' }), `${t}.compaction.requested`);
  assert.equal(instantFileName({ timestamp: t, action: 'compaction', state: 'inflight' }), `${t}.compaction.inflight`);
  assert.equal(instantFileName({ timestamp: t, action: 'compaction', state: 'completed' }), `${t}.commit`);
  assert.equal(instantFileName({ timestamp: t, action: 'replacecommit', state: 'inflight' }), `${t}.replacecommit.inflight`);
  assert.equal(instantFileName({ timestamp: t, action: 'replacecommit', state: 'completed' }), `${t}.replacecommit`);
  assert.equal(instantFileName({ timestamp: t, action: 'clean', state: 'requested' }), `${t}.clean.requested`);
  for (const bad of [`${t}.compaction`, `${t}.commit.inflight`, `${t}.savepoint`, 'hoodie.properties', `${t}_20250101000000001.deltacommit`, `${t}.deltacommit.x`, '2025.deltacommit']) {
    assert.equal(parseInstantFileName(bad), undefined, bad);
  }
  assert.deepEqual(parseInstantFileName('20250101000000.deltacommit'), { timestamp: '20250101000000', action: 'deltacommit', state: 'completed' });
});

test('file name round trip (property)', () => {
  const actions = ['deltacommit', 'commit', 'compaction', 'rollback', 'clean', 'replacecommit'] as const;
  const states = ['requested', 'inflight', 'completed'] as const;
  fc.assert(
    fc.property(fc.stringMatching(/^\d{17}$/), fc.constantFrom(...actions), fc.constantFrom(...states), (timestamp, action, state) => {
      const i: Instant = { timestamp, action, state };
      const back = parseInstantFileName(instantFileName(i));
      const expected = action === 'compaction' && state === 'completed' ? { ...i, action: 'commit' } : i;
      assert.deepEqual(back, expected);
    }),
  );
});

test('ordering: time, then requested < inflight < completed', () => {
  const a: Instant = { timestamp: '20250101000000000', action: 'deltacommit', state: 'completed' };
  const b: Instant = { timestamp: '20250101000000001', action: 'deltacommit', state: 'requested' };
  assert.ok(compareInstants(a, b) < 0);
  assert.ok(compareInstants({ ...a, state: 'requested' }, { ...a, state: 'inflight' }) < 0);
  assert.equal(compareInstants(a, a), 0);
});

test('instant <-> date (property)', () => {
  fc.assert(
    fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
      const t = dateToInstant(d);
      assert.match(t, /^\d{17}$/);
      assert.equal(instantToDate(t).getTime(), d.getTime());
    }),
  );
  assert.equal(dateToInstant(new Date(Date.UTC(2025, 5, 18, 5, 47, 11, 154))), '20250618054711154');
  assert.throws(() => instantToDate('2025'), /"2025"/);
  assert.throws(() => instantToDate('20251399000000000'), /not a valid date|yyyy/);
});

test('clock: strictly increasing even when the wall clock goes backwards', () => {
  let now = Date.UTC(2025, 0, 1, 0, 0, 0, 0);
  const clock = new InstantClock('20250101000000005', () => new Date(now));
  const a = clock.next();
  assert.equal(a, '20250101000000006'); // seeded ahead of the wall clock
  const b = clock.next();
  assert.equal(b, '20250101000000007');
  now += 60_000;
  const c = clock.next();
  assert.equal(c, '20250101000100000');
  now -= 3_600_000; // wall clock jumps back an hour
  const d = clock.next();
  assert.ok(d > c);
  clock.observe('20300101000000000');
  assert.ok(clock.next() > '20300101000000000');
  const legacy = new InstantClock('20250101000000', () => new Date(Date.UTC(2025, 0, 1)));
  assert.ok(legacy.next() > '20250101000000999');
});

test('clock monotonic under random wall-clock jitter (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 1, maxLength: 200 }), (jumps) => {
      let now = Date.UTC(2026, 0, 1);
      const clock = new InstantClock(undefined, () => new Date(now));
      let last = '';
      for (const j of jumps) {
        now += j;
        const t = clock.next();
        assert.ok(t > last, `${t} > ${last}`);
        last = t;
      }
    }),
  );
});
