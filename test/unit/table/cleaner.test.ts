import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { decodeTimelineAvro } from '../../../src/hudi/timeline-avro.js';
import { FaultyStore, InjectedFault } from '../../../src/storage/faulty-store.js';
import { LocalStore } from '../../../src/storage/local-store.js';
import { assertRetained, clean, earliestRetainedInstant, earliestToRetain, InstantNotRetained } from '../../../src/table/cleaner.js';
import { compact } from '../../../src/table/compaction.js';
import { readIncremental, readSnapshot } from '../../../src/table/reader.js';
import type { TableSchema } from '../../../src/table/schema.js';
import { HudiTable } from '../../../src/table/table.js';
import type { Mutation } from '../../../src/table/write-plan.js';
import { tempDir } from '../../support/temp.js';

// tmpfs when there is one: LocalStore fsyncs every put, and these tests make thousands.
const TMP = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

const schema: TableSchema = {
  type: 'record',
  name: 'customers',
  fields: [
    { name: 'id', type: ['null', 'int'], default: null },
    { name: 'name', type: ['null', 'string'], default: null },
    { name: '_cdc_position', type: ['null', 'long'], default: null },
  ],
};
const up = (id: number, name: string, pos: number): Mutation => ({ kind: 'upsert', ordering: BigInt(pos), row: { id, name, _cdc_position: pos } });
const names = (rows: Record<string, unknown>[]) => rows.map((r) => `${r.id}:${r.name}`).sort();
const BASE = 't';
const CONFIG = { tableName: 't', database: 'db', recordKeyFields: ['id'], orderingField: '_cdc_position', buckets: 1 };

/** c1, c2, compaction k1, c3, c4, compaction k2, c5: old slices exist to clean. */
async function history(dir?: string): Promise<{ t: HudiTable; dir: string; instants: string[]; expected: Map<string, string[]> }> {
  const d = dir ?? (await tempDir('cdc-lake-clean-', TMP));
  const t = await HudiTable.create(new LocalStore(d), BASE, CONFIG);
  const instants: string[] = [];
  const expected = new Map<string, string[]>();
  const state = new Map<number, string>();
  const write = async (id: number, name: string, pos: number) => {
    const i = (await t.commit({ schema, mutations: [up(id, name, pos)] })).instant!;
    state.set(id, name);
    instants.push(i);
    expected.set(i, [...state].map(([k, v]) => `${k}:${v}`).sort());
  };
  const compaction = async () => {
    const i = (await compact(t)).instant!;
    instants.push(i);
    expected.set(i, [...state].map(([k, v]) => `${k}:${v}`).sort());
  };
  await write(1, 'a', 1);
  await write(1, 'b', 2);
  await compaction();
  await write(2, 'c', 3);
  await write(1, 'd', 4);
  await compaction();
  await write(3, 'e', 5);
  return { t, dir: d, instants, expected };
}

test('earliestToRetain: N-th newest, moved back by a protected consumer', () => {
  const w = ['001', '002', '003', '004', '005'];
  assert.equal(earliestToRetain(w, { retainCommits: 2 }), '004');
  assert.equal(earliestToRetain(w, { retainCommits: 9 }), '001');
  assert.equal(earliestToRetain(w, { retainCommits: 2, protectedSince: '002' }), '003');
  assert.equal(earliestToRetain(w, { retainCommits: 2, protectedSince: '0045' }), '004');
  assert.equal(earliestToRetain([], { retainCommits: 2 }), undefined);
  assert.throws(() => earliestToRetain(w, { retainCommits: 0 }), /retainCommits/);
});

test('cleaning keeps time travel and incremental reads for retained instants and names cleaned ones', async () => {
  const { t, instants, expected } = await history();
  const before = (await t.store.list(`${BASE}/`)).filter((o) => !o.key.includes('.hoodie')).length;
  const r = await clean(t, { retainCommits: 3 });
  assert.ok(r.instant);
  const e = instants[instants.length - 3]!;
  assert.equal(r.earliestRetained, e);
  assert.ok(r.files.length > 0);
  const after = (await t.store.list(`${BASE}/`)).filter((o) => !o.key.includes('.hoodie')).length;
  assert.equal(before - after, r.files.length);
  for (const i of instants.filter((x) => x >= e)) {
    assert.deepEqual(names((await readSnapshot(t, { asOf: i })).rows), expected.get(i), `as of ${i}`);
  }
  for (const since of instants.filter((x) => x >= e)) {
    const got = names((await readIncremental(t, { since })).rows);
    assert.ok(got.every((row) => expected.get(instants[instants.length - 1]!)!.includes(row)));
  }
  assert.equal(await earliestRetainedInstant(t), e);
  await assertRetained(t, e);
  await assert.rejects(assertRetained(t, instants[0]!), (err: unknown) => err instanceof InstantNotRetained && err.message.includes(e));
  const meta = decodeTimelineAvro('HoodieCleanMetadata', await t.store.get(`${BASE}/.hoodie/${r.instant}.clean`));
  assert.equal(meta.earliestCommitToRetain, e);
  assert.equal(meta.totalFilesDeleted, r.files.length);
  decodeTimelineAvro('HoodieCleanerPlan', await t.store.get(`${BASE}/.hoodie/${r.instant}.clean.requested`));
  // Nothing more to clean: no new instant.
  assert.equal((await clean(t, { retainCommits: 3 })).instant, undefined);
  // Writes keep working on the cleaned table.
  await t.commit({ schema, mutations: [up(2, 'z', 9)] });
  assert.deepEqual(names((await readSnapshot(t)).rows), ['1:d', '2:z', '3:e']);
});

test('time travel to a cleaned instant fails with a clear error', async () => {
  const { t, instants } = await history();
  const { earliestRetained } = await clean(t, { retainCommits: 2 });
  // Named by the instant, not by whichever file happens to be gone: also where no file of it was deleted.
  const notRetained = (err: unknown): boolean => err instanceof InstantNotRetained && err.instant === instants[0] && err.earliestRetained === earliestRetained && /no longer readable/.test(err.message);
  await assert.rejects(readSnapshot(t, { asOf: instants[0]! }), notRetained);
  await assert.rejects(readIncremental(t, { since: '00000000000000000', until: instants[0]! }), notRetained);
  assert.ok((await readSnapshot(t, { asOf: earliestRetained! })).rows.length > 0);
});

test('protectedSince keeps what an incremental consumer still reads', async () => {
  const { t, instants, expected } = await history();
  const since = instants[1]!;
  const r = await clean(t, { retainCommits: 1, protectedSince: since });
  assert.equal(r.earliestRetained, instants[2]);
  for (const i of instants.slice(2)) assert.deepEqual(names((await readSnapshot(t, { asOf: i })).rows), expected.get(i));
  assert.deepEqual(names((await readIncremental(t, { since })).rows), ['1:d', '2:c', '3:e']);
});

test('file groups replaced by a truncate are removed once older than the retained window', async () => {
  const { t } = await history();
  const tr = (await t.truncate())!;
  const c = (await t.commit({ schema, mutations: [up(9, 'new', 10)] })).instant!;
  const r = await clean(t, { retainCommits: 2 });
  assert.equal(r.earliestRetained, tr);
  const groupsAfterFirst = t.view.groups.size;
  assert.equal(groupsAfterFirst, 2, 'a group replaced at E itself keeps its latest slice');
  assert.deepEqual(names((await readSnapshot(t, { asOf: tr })).rows), []);
  const r2 = await clean(t, { retainCommits: 1 });
  assert.equal(r2.earliestRetained, c);
  const left = (await t.store.list(`${BASE}/`)).filter((o) => o.key.endsWith('.parquet') || o.key.includes('.log.'));
  assert.equal(t.view.groups.size, 1);
  const live = [...t.view.groups.values()][0]!.fileId;
  assert.ok(r2.files.length > 0 && left.length > 0 && left.every((o) => o.key.includes(live)), 'only the new group is left');
  assert.deepEqual(names((await readSnapshot(t)).rows), ['9:new']);
  assert.deepEqual(names((await readSnapshot(t, { asOf: c })).rows), ['9:new']);
});

test('a crash at any storage call during a clean leaves every retained instant readable', async () => {
  const { dir, instants, expected } = await history();
  const count = new FaultyStore(new LocalStore(dir));
  await clean(await HudiTable.open(count, BASE), { retainCommits: 3 });
  const e = instants[instants.length - 3]!;
  for (let at = 1; at <= count.calls; at++) {
    const d = await tempDir('cdc-lake-clean-crash-', TMP);
    await history(d);
    const faulty = new FaultyStore(new LocalStore(d), { at, when: 'before', action: 'throw' });
    await assert.rejects(clean(await HudiTable.open(faulty, BASE), { retainCommits: 3 }), InjectedFault);
    const t = await HudiTable.open(new LocalStore(d), BASE);
    await t.recover();
    assert.deepEqual(t.timeline.pending(), []);
    const is = t.timeline.completed().map((i) => i.timestamp);
    const last = is[is.length - 1]!;
    assert.deepEqual(names((await readSnapshot(t)).rows), expected.get(instants[instants.length - 1]!), `crash at ${at}: latest ${last}`);
    const again = await clean(t, { retainCommits: 3 });
    // Only a crash at the last two calls (the writer fence claim, then completing the clean)
    // comes after every delete, and so leaves nothing to redo.
    if (at < count.calls - 1) assert.ok(again.instant, `crash at ${at}: the clean is redone`);
    for (const i of is.filter((x) => x >= e)) {
      const want = [...expected].find(([k]) => k === i);
      if (want) assert.deepEqual(names((await readSnapshot(t, { asOf: i })).rows), want[1], `crash at ${at}: as of ${i}`);
    }
  }
});
