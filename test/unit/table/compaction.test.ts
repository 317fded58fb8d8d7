import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { decodeTimelineAvro } from '../../../src/hudi/timeline-avro.js';
import { FaultyStore, InjectedFault } from '../../../src/storage/faulty-store.js';
import { LocalStore } from '../../../src/storage/local-store.js';
import { compact } from '../../../src/table/compaction.js';
import { readIncremental, readSnapshot } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';

import { BASE, CONFIG, TMP, del, names, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

async function seeded(): Promise<{ dir: string; t: HudiTable; c1: string; c2: string }> {
  const dir = await tempDir('cdc-lake-compaction-', TMP);
  const t = await HudiTable.create(new LocalStore(dir), BASE, CONFIG);
  const c1 = (await t.commit({ schema, mutations: [up(1, 'a', 10), up(2, 'b', 11), up(3, 'c', 12), up(4, 'd', 13)] })).instant!;
  const c2 = (await t.commit({ schema, mutations: [up(1, 'a2', 20), del(2, 21), up(5, 'e', 22)] })).instant!;
  return { dir, t, c1, c2 };
}

test('compaction: snapshot unchanged, read-optimized equals snapshot, commit times preserved', async () => {
  const { t, c1, c2 } = await seeded();
  const before = await readSnapshot(t, { meta: true });
  const ro = await readSnapshot(t, { readOptimized: true });
  assert.notDeepEqual(names(ro.rows), names(before.rows), 'logs exist before compaction');
  const r = await compact(t);
  assert.ok(r.instant && r.instant > c2);
  assert.ok(r.fileGroups >= 1 && r.logFilesCompacted >= 1);
  const after = await readSnapshot(t, { meta: true });
  assert.deepEqual(names(after.rows), names(before.rows));
  for (const row of after.rows) {
    const old = before.rows.find((x) => x.id === row.id)!;
    assert.equal(row._hoodie_commit_time, old._hoodie_commit_time);
    assert.equal(row._hoodie_commit_seqno, old._hoodie_commit_seqno);
  }
  assert.deepEqual(names((await readSnapshot(t, { readOptimized: true })).rows), names(before.rows));
  // Time travel before the compaction still reads the old slices.
  assert.deepEqual(names((await readSnapshot(t, { asOf: c1 })).rows), ['1:a', '2:b', '3:c', '4:d']);
  // The timeline: requested plan, inflight, completed commit with compacted=true.
  const plan = decodeTimelineAvro('HoodieCompactionPlan', await t.store.get(`${BASE}/.hoodie/${r.instant}.compaction.requested`));
  assert.equal(plan.version, 2);
  assert.ok((plan.operations ?? []).every((o) => (o.deltaFilePaths ?? []).length > 0 && o.baseInstantTime !== null));
  const meta = JSON.parse(Buffer.from(await t.store.get(`${BASE}/.hoodie/${r.instant}.commit`)).toString('utf8'));
  assert.equal(meta.compacted, true);
  assert.equal(meta.operationType, 'COMPACT');
  assert.ok(Object.values(meta.partitionToWriteStats).flat().every((s: any) => s.totalLogFilesCompacted > 0 && s.prevBaseFile));
  // Nothing left to compact.
  assert.equal((await compact(t)).instant, undefined);
});

test('incremental after compaction does not re-emit compacted rows; writes keep going', async () => {
  const { t, c2 } = await seeded();
  const r = await compact(t);
  assert.deepEqual(names((await readIncremental(t, { since: c2 })).rows), []);
  const c3 = (await t.commit({ schema, mutations: [up(3, 'c3', 30), up(5, 'stale', 1), del(4, 31)] })).instant!;
  assert.ok(c3 > r.instant!);
  assert.deepEqual(names((await readIncremental(t, { since: c2 })).rows), ['3:c3']);
  assert.deepEqual(names((await readSnapshot(t)).rows), ['1:a2', '3:c3', '5:e']);
  // The guard still knows the compacted state after reopening.
  const again = await HudiTable.open(t.store, BASE);
  assert.equal((await again.commit({ schema, mutations: [up(1, 'old', 19)] })).skipped, 1);
  await compact(again);
  assert.deepEqual(names((await readSnapshot(again)).rows), ['1:a2', '3:c3', '5:e']);
});

test('a crash at any storage call during compaction rolls back to the pre-compaction table', async () => {
  const { dir } = await seeded();
  // Count the mutating calls of a clean compaction of the same table.
  const count = new FaultyStore(new LocalStore(dir));
  await compact(await HudiTable.open(count, BASE));
  assert.ok(count.calls >= 5);
  for (let at = 1; at <= count.calls; at++) {
    for (const when of ['before', 'after'] as const) {
      const { dir: d } = await seeded();
      const expected = names((await readSnapshot(await HudiTable.open(new LocalStore(d), BASE))).rows);
      const faulty = new FaultyStore(new LocalStore(d), { at, when, action: 'throw' });
      // FaultyStore counts concurrent calls (marker deletes run in parallel) before firing, so the
      // last calls may not throw; those happen after the commit and change nothing.
      const err: unknown = await compact(await HudiTable.open(faulty, BASE)).then(() => undefined, (e: unknown) => e);
      if (err === undefined) assert.ok(at >= count.calls - 1, `call ${at} ${when} did not fail`);
      else assert.ok(err instanceof InjectedFault, String(err));
      const reopened = await HudiTable.open(new LocalStore(d), BASE);
      await reopened.recover();
      assert.deepEqual(reopened.timeline.pending(), [], `call ${at} ${when}`);
      assert.deepEqual(names((await readSnapshot(reopened)).rows), expected, `call ${at} ${when}`);
      await compact(reopened);
      assert.deepEqual(names((await readSnapshot(reopened, { readOptimized: true })).rows), expected, `call ${at} ${when}`);
    }
  }
});

test('compaction builds the rows of winning log records wherever they sit in their blocks', async () => {
  const dir = await tempDir('cdc-lake-compaction-', TMP);
  const t = await HudiTable.create(new LocalStore(dir), BASE, CONFIG);
  const ids = Array.from({ length: 40 }, (_x, i) => i + 1);
  await t.commit({ schema, mutations: ids.map((id) => up(id, `v1-${id}`, 100 + id)) });
  // One log block per file group with every key; then a later block that updates the first half
  // and deletes a few, so the winners of the first log block sit behind losers in it.
  await t.commit({ schema, mutations: ids.map((id) => up(id, `v2-${id}`, 200 + id)) });
  await t.commit({ schema, mutations: [...ids.filter((id) => id <= 20).map((id) => up(id, `v3-${id}`, 300 + id)), del(33, 400), del(37, 401)] });
  const before = names((await readSnapshot(t)).rows);
  const expected = ids.filter((id) => id !== 33 && id !== 37).map((id) => `${id}:${id <= 20 ? 'v3' : 'v2'}-${id}`);
  assert.deepEqual([...before].sort(), [...expected].sort());
  await compact(t);
  assert.deepEqual(names((await readSnapshot(t)).rows), before);
  assert.deepEqual(names((await readSnapshot(t, { readOptimized: true })).rows), before);
});

test('where gc is exposed, each file group is collected between its merge and its base-file write', async () => {
  const { t } = await seeded();
  const calls: unknown[] = [];
  const exposed = globalThis.gc;
  // What `--expose-gc` installs (the CLI's flags); the write's rows must still be intact after it.
  globalThis.gc = ((options?: unknown) => {
    calls.push(options);
    return Promise.resolve();
  }) as NodeJS.GCFunction;
  try {
    const before = names((await readSnapshot(t)).rows);
    const r = await compact(t);
    assert.equal(calls.length, r.fileGroups);
    assert.ok(calls.every((o) => JSON.stringify(o) === JSON.stringify({ type: 'major', execution: 'async' })), JSON.stringify(calls));
    assert.deepEqual(names((await readSnapshot(t, { readOptimized: true })).rows), before);
  } finally {
    globalThis.gc = exposed;
  }
});
