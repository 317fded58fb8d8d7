import { strict as assert } from 'node:assert';
import { cp } from 'node:fs/promises';
import { test } from 'node:test';
import { avroType } from '../../../src/hudi/avro-value.js';
import { baseFileName } from '../../../src/hudi/file-name.js';
import { readLogBlocks } from '../../../src/hudi/log-block.js';
import { loadHudiSchema } from '../../../src/hudi/schemas.js';
import { dateToInstant, instantToDate, parseInstantFileName } from '../../../src/hudi/instant.js';
import { FaultyStore, InjectedFault } from '../../../src/storage/faulty-store.js';
import { LocalStore } from '../../../src/storage/local-store.js';
import { bucketOf } from '../../../src/table/record-key.js';
import { ARCHIVE_BATCH, archive, planArchive, readArchivedTimeline } from '../../../src/table/archiver.js';
import { clean, InstantNotRetained } from '../../../src/table/cleaner.js';
import { compact } from '../../../src/table/compaction.js';
import { readChanges, readIncremental, readSnapshot } from '../../../src/table/reader.js';
import { HudiTable, TEMP_DIR } from '../../../src/table/table.js';
import type { TimelineInstant } from '../../../src/table/timeline.js';
import { BASE, CONFIG, TMP, del, names, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

const RETAIN = 2;
// Four buckets: the groups of ids 2..8 are written once and never compacted, so their only
// slice is older than anything the archived table keeps on its active timeline.
const BUCKETS = 4;

/** One write of ids 1..8, then enough updates of id 1 (compacted every 5, cleaned after) to archive. */
async function history(dir: string, before?: (t: HudiTable) => Promise<void>): Promise<HudiTable> {
  const t = await HudiTable.create(new LocalStore(dir), BASE, { ...CONFIG, buckets: BUCKETS });
  await t.commit({ schema, mutations: Array.from({ length: 8 }, (_x, i) => up(i + 1, `v${i + 1}`, i + 1)) });
  await before?.(t);
  for (let n = 1; n <= RETAIN + ARCHIVE_BATCH + 5; n++) {
    await t.commit({ schema, mutations: [up(1, `n${n}`, 100 + n)] });
    if (n % 5 === 0) {
      await compact(t);
      await clean(t, { retainCommits: RETAIN });
    }
  }
  return t;
}

const instant = (timestamp: string, action: TimelineInstant['action'] = 'deltacommit', state: TimelineInstant['state'] = 'completed'): TimelineInstant => ({ timestamp, action, state });

test('planArchive: the newest write before what cleaning retains stays; pending instants and kept commits hold it back', () => {
  const writes = ['001', '002', '003', '004', '005', '006'].map((t) => instant(t));
  const tl = [...writes.slice(0, 3), instant('0035', 'clean'), ...writes.slice(3)];
  assert.equal(planArchive(tl, { earliestRetained: undefined, keep: [], maxCommits: 2 }), undefined, 'never cleaned: nothing to archive');
  assert.equal(planArchive(tl, { earliestRetained: '005', keep: [], maxCommits: 6 }), undefined, 'not over the limit');
  const p = planArchive(tl, { earliestRetained: '005', keep: [], maxCommits: 2 });
  assert.equal(p?.boundary, '004');
  assert.deepEqual(p?.instants.map((i) => i.timestamp), ['001', '002', '003', '0035']);
  assert.equal(planArchive(tl, { earliestRetained: '005', keep: ['002'], maxCommits: 2 })?.boundary, '002');
  assert.equal(planArchive([instant('000', 'deltacommit', 'inflight'), ...tl], { earliestRetained: '005', keep: [], maxCommits: 2 }), undefined);
  assert.equal(planArchive([...tl.slice(0, 2), instant('0025', 'compaction', 'requested'), ...tl.slice(2)], { earliestRetained: '005', keep: [], maxCommits: 2 })?.boundary, '0025');
  assert.equal(planArchive(tl, { earliestRetained: '001', keep: [], maxCommits: 2 }), undefined, 'no write before the retained ones');
  assert.equal(planArchive(tl, { earliestRetained: '005', keep: [], maxCommits: 2, notAfter: '003' })?.boundary, '002', 'a table with several writers stays before recent instants');
});

test('archival moves old instants to a Hudi archive file and every read cleaning allows stays the same', async () => {
  const dir = await tempDir('cdc-lake-archive-', TMP);
  const t = await history(dir);
  const writes = t.timeline.completed().map((i) => i.timestamp);
  const retained = writes.slice(-RETAIN);
  const snapshot = names((await readSnapshot(t)).rows);
  const asOf = await Promise.all(retained.map(async (i) => names((await readSnapshot(t, { asOf: i })).rows)));
  const sinceStart = names((await readIncremental(t, { since: '00000000000000000' })).rows);
  const stateFiles = async () => (await t.store.listDir(`${BASE}/.hoodie`)).files.map((f) => f.key.slice(f.key.lastIndexOf('/') + 1)).filter((n) => parseInstantFileName(n) !== undefined);
  const before = await stateFiles();

  const r = await archive(t, { retainCommits: RETAIN });
  assert.ok(r.instants > 0 && r.boundary !== undefined && r.file?.endsWith('.hoodie/archived/.commits_.archive.1_1-0-1'), JSON.stringify(r));
  const boundary = r.boundary;
  const after = await stateFiles();
  assert.ok(after.every((n) => n >= boundary), 'no instant file before the boundary is left');
  const moved = before.filter((n) => n < boundary);
  assert.equal(before.length - after.length, moved.length);
  assert.ok(t.timeline.instants.every((i) => i.timestamp >= boundary));

  // Every state file is an entry of the one Avro data block, with its metadata.
  const blocks = readLogBlocks(await t.store.get(r.file!), r.file);
  assert.equal(blocks.length, 1);
  const block = blocks[0]!;
  assert.deepEqual(Object.keys(block.headers), ['SCHEMA']);
  assert.equal(block.headers.SCHEMA, JSON.stringify(loadHudiSchema('HoodieArchivedMetaEntry')));
  const type = avroType(block.headers.SCHEMA);
  const view = new DataView(block.content.buffer, block.content.byteOffset, block.content.byteLength);
  assert.equal(view.getInt32(0), 3);
  const entries: Record<string, unknown>[] = [];
  for (let pos = 8, k = 0; k < view.getInt32(4); k++) {
    const len = view.getInt32(pos);
    entries.push(type.fromBuffer(Buffer.from(block.content.subarray(pos + 4, pos + 4 + len))) as Record<string, unknown>);
    pos += 4 + len;
  }
  const fileOf = (e: Record<string, unknown>) => {
    const state = String(e.actionState).toLowerCase();
    const action = String(e.actionType);
    return state === 'completed' ? `${String(e.commitTime)}.${action}` : action === 'commit' && state === 'inflight' ? `${String(e.commitTime)}.inflight` : `${String(e.commitTime)}.${action}.${state}`;
  };
  assert.deepEqual(entries.map(fileOf).sort(), [...moved].sort());
  const first = entries.find((e) => e.actionType === 'deltacommit' && e.actionState === 'COMPLETED') as { hoodieCommitMetadata: { extraMetadata: Record<string, string>; partitionToWriteStats: Record<string, unknown[]> } };
  assert.ok(first.hoodieCommitMetadata.extraMetadata.schema !== undefined && first.hoodieCommitMetadata.extraMetadata.ROLLING_STAT === '');
  assert.ok(Object.values(first.hoodieCommitMetadata.partitionToWriteStats).flat().length > 0);
  assert.ok(entries.some((e) => e.actionType === 'clean' && e.actionState === 'COMPLETED' && e.hoodieCleanMetadata !== null));
  assert.ok(entries.some((e) => e.actionType === 'compaction' && e.actionState === 'REQUESTED' && e.hoodieCompactionPlan !== null));
  assert.ok(entries.some((e) => e.actionType === 'commit' && (e.hoodieCommitMetadata as { operationType: string } | null)?.operationType === 'COMPACT'));

  for (const table of [t, await HudiTable.open(new LocalStore(dir), BASE)]) {
    assert.deepEqual(names((await readSnapshot(table)).rows), snapshot, 'ids 2..8 live in slices older than the active timeline');
    for (const [k, i] of retained.entries()) assert.deepEqual(names((await readSnapshot(table, { asOf: i })).rows), asOf[k], `as of ${i}`);
    assert.deepEqual(names((await readIncremental(table, { since: '00000000000000000' })).rows), sinceStart, 'a range into the archive reads every live slice');
    await assert.rejects(readChanges(table, { since: '00000000000000000' }), InstantNotRetained);
    assert.ok((await readChanges(table, { since: boundary })).changes.length > 0);
  }
  assert.equal((await archive(t, { retainCommits: RETAIN })).instants, 0, 'nothing more is due');
  await t.commit({ schema, mutations: [up(2, 'after', 999)] });
  assert.ok(names((await readSnapshot(t)).rows).includes('2:after'));
});

test('files a rolled-back writer left are deleted before its instant falls behind the active timeline', async () => {
  const dir = await tempDir('cdc-lake-archive-zombie-', TMP);
  let late = '';
  const t = await history(dir, async (first) => {
    // A writer requests an instant and stalls; the next open rolls it back …
    const failed = first.nextInstant();
    await first.timeline.request(failed, 'deltacommit');
    const reopened = await HudiTable.open(first.store, BASE);
    assert.deepEqual(await reopened.recover(), [failed]);
    // … and then the stalled writer wakes up and writes a base file (marker first) before its commit is refused.
    const base = [...reopened.view.groups.values()][0]!.slices[0]!.base!;
    late = baseFileName({ fileId: '00000000-0000-0000-0000-000000000000-0', writeToken: '0-1-0', instant: failed });
    await first.store.put(`${BASE}/${TEMP_DIR}/${failed}/${late}.marker.CREATE`, '');
    await first.store.put(`${BASE}/${late}`, await first.store.get(base.path));
    await first.refresh();
  });
  const want = names((await readSnapshot(t)).rows);
  const r = await archive(t, { retainCommits: RETAIN });
  assert.equal(r.swept, 1);
  assert.equal(await t.store.head(`${BASE}/${late}`), undefined);
  assert.deepEqual(names((await readSnapshot(await HudiTable.open(new LocalStore(dir), BASE))).rows), want);
});

test("a compaction's tombstones still keep source order once the compaction is archived", async () => {
  const dir = await tempDir('cdc-lake-archive-tombstones-', TMP);
  // A key outside id 1's bucket: its group is compacted once and then left alone.
  const gone = [2, 3, 4, 5, 6, 7, 8].find((id) => bucketOf(String(id), ['id'], BUCKETS) !== bucketOf('1', ['id'], BUCKETS))!;
  let compaction = '';
  const t = await history(dir, async (first) => {
    await first.commit({ schema, mutations: [del(gone, 50)] });
    compaction = (await compact(first)).instant!;
  });
  assert.ok((await archive(t, { retainCommits: RETAIN })).boundary! > compaction, 'the compaction is archived');
  const reopened = await HudiTable.open(new LocalStore(dir), BASE);
  // A change older than the delete arrives late: the delete the compaction carried wins.
  await reopened.commit({ schema, mutations: [up(gone, 'stale', 10)] });
  assert.ok(!names((await readSnapshot(reopened)).rows).some((r) => r.startsWith(`${gone}:`)));
});

test('the newest commit carrying a kept metadata key (the checkpoint) stays on the active timeline', async () => {
  const dir = await tempDir('cdc-lake-archive-keep-', TMP);
  let marked = '';
  const t = await history(dir, async (first) => {
    marked = (await first.commit({ schema, mutations: [up(2, 'marked', 50)], extraMetadata: { 'test.checkpoint': 'here' } })).instant!;
  });
  const r = await archive(t, { retainCommits: RETAIN, keepMetadataKeys: ['test.checkpoint'] });
  assert.ok(r.instants > 0 && r.boundary === marked, `boundary ${r.boundary}, marked ${marked}`);
  assert.equal(await (await HudiTable.open(new LocalStore(dir), BASE)).latestExtraMetadata('test.checkpoint'), 'here');
});

test('an instant another writer left pending, which this writer never read, holds archival back', async () => {
  const dir = await tempDir('cdc-lake-archive-unseen-', TMP);
  const t = await history(dir);
  const writes = t.timeline.completed().map((i) => i.timestamp);
  // A free instant time between two early writes.
  const k = writes.findIndex((w, i) => i > 0 && instantToDate(w).getTime() - instantToDate(writes[i - 1]!).getTime() > 1);
  const unseen = dateToInstant(new Date(instantToDate(writes[k - 1]!).getTime() + 1));
  await t.store.put(`${BASE}/.hoodie/${unseen}.deltacommit.requested`, '');
  const r = await archive(t, { retainCommits: RETAIN });
  assert.ok(r.boundary !== undefined && r.boundary <= unseen, `boundary ${r.boundary} stays at or before ${unseen}`);
  const reopened = await HudiTable.open(new LocalStore(dir), BASE);
  assert.equal(reopened.timeline.instants[0]?.timestamp, unseen < r.boundary! ? unseen : r.boundary);
});

test('a crash at any point of archival leaves the table readable, and the next run finishes it', async () => {
  const dir = await tempDir('cdc-lake-archive-crash-', TMP);
  const t = await history(dir);
  const want = names((await readSnapshot(t)).rows);
  const probe = await tempDir('cdc-lake-archive-probe-', TMP);
  await cp(dir, probe, { recursive: true });
  const count = new FaultyStore(new LocalStore(probe));
  await archive(await HudiTable.open(count, BASE), { retainCommits: RETAIN });
  // The archive file, the first and last deletes of each kind, and a sample between.
  const points = [...new Set([1, 2, 3, Math.floor(count.calls / 3), Math.floor(count.calls / 2), count.calls - 1, count.calls])].filter((n) => n >= 1);
  for (const at of points) {
    const d = await tempDir('cdc-lake-archive-at-', TMP);
    await cp(dir, d, { recursive: true });
    await assert.rejects(archive(await HudiTable.open(new FaultyStore(new LocalStore(d), { at, when: 'before', action: 'throw' }), BASE), { retainCommits: RETAIN }), InjectedFault);
    const reopened = await HudiTable.open(new LocalStore(d), BASE);
    assert.deepEqual(reopened.timeline.pending(), [], `crash at ${at}: no instant looks pending`);
    assert.deepEqual(names((await readSnapshot(reopened)).rows), want, `crash at ${at}`);
    await archive(reopened, { retainCommits: RETAIN });
    const again = await HudiTable.open(new LocalStore(d), BASE);
    assert.deepEqual(names((await readSnapshot(again)).rows), want, `crash at ${at}, archived again`);
    assert.equal((await archive(again, { retainCommits: RETAIN })).instants, 0, `crash at ${at}: the second run finished it`);
  }
});

test("reads an archive file Hudi's own archiver wrote (Hudi 0.15.0): every state of every instant, with commit metadata", async () => {
  const dir = await tempDir('cdc-lake-archive-java-', TMP);
  const name = '.commits_.archive.1_1-0-1';
  await cp(new URL(`../../fixtures/hudi-archived/${name}`, import.meta.url), `${dir}/t/.hoodie/archived/${name}`, { recursive: true });
  const states = await readArchivedTimeline(new LocalStore(dir), 't');
  const instants = ['20240101000001000', '20240101000002000', '20240101000003000', '20240101000004000'];
  assert.deepEqual(
    states.map((s) => `${s.timestamp}.${s.action}.${s.state}`),
    instants.flatMap((t) => ['requested', 'inflight', 'completed'].map((st) => `${t}.commit.${st}`)),
  );
  const done = states.find((s) => s.state === 'completed')!.commitMetadata!;
  assert.equal(done.operationType, 'INSERT');
  assert.equal((done.extraMetadata as Record<string, string>).schema, '{}');
  assert.equal(Object.values(done.partitionToWriteStats as Record<string, unknown[]>).flat().length, 1);
});
