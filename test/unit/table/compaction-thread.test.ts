import { strict as assert } from 'node:assert';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { CompactionThread, CompactionThreadError } from '../../../src/table/compaction-thread.js';
import { compact } from '../../../src/table/compaction.js';
import { readSnapshot } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';

import { BASE, CONFIG, TMP, del, names, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

async function seeded(): Promise<{ dir: string; t: HudiTable }> {
  const dir = await tempDir('cdc-lake-compaction-thread-', TMP);
  const t = await HudiTable.create(new LocalStore(dir), BASE, CONFIG);
  await t.commit({ schema, mutations: [up(1, 'a', 10), up(2, 'b', 11), up(3, 'c', 12), up(4, 'd', 13)] });
  await t.commit({ schema, mutations: [up(1, 'a2', 20), del(2, 21), up(5, 'e', 22)] });
  return { dir, t };
}

test('compaction on the worker thread writes what compaction on this thread writes', async () => {
  const here = await seeded();
  const there = await seeded();
  const thread = new CompactionThread();
  try {
    const a = await compact(here.t);
    const b = await compact(there.t, { compactor: thread });
    // (bytes differ by the random file ids and write tokens in the files' names and meta columns)
    assert.deepEqual({ ...b, instant: undefined, bytesWritten: undefined }, { ...a, instant: undefined, bytesWritten: undefined });
    assert.ok(Math.abs(b.bytesWritten - a.bytesWritten) < 64);
    const rows = async (t: HudiTable) => (await readSnapshot(t, { readOptimized: true })).rows.map((r) => ({ ...r, _hoodie_commit_seqno: undefined }));
    assert.deepEqual(names(await rows(there.t)), ['1:a2', '3:c', '4:d', '5:e']);
    assert.deepEqual(names(await rows(there.t)), names(await rows(here.t)));
    // Idle, the worker goes (its memory with it); the next compaction starts another.
    assert.equal(thread.running, true);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(thread.running, false);
    await there.t.commit({ schema, mutations: [up(3, 'c3', 30), del(4, 31)] });
    assert.ok((await compact(there.t, { compactor: thread })).fileGroups > 0);
    assert.deepEqual(names((await readSnapshot(there.t)).rows), ['1:a2', '3:c3', '5:e']);
  } finally {
    await thread.close();
  }
});

test('a slice the worker cannot read fails the compaction with an error naming the file group; the table stays readable', async () => {
  const { dir, t } = await seeded();
  const before = names((await readSnapshot(t)).rows);
  // Corrupt the log file: the worker's reader rejects it.
  const part = join(dir, BASE);
  const log = (await readdir(part)).find((f) => f.includes('.log.'));
  assert.ok(log, 'the seeded table has a log file');
  const original = await readFile(join(part, log));
  await writeFile(join(part, log), Buffer.from('#HUDI#not a block'));
  const thread = new CompactionThread();
  try {
    await assert.rejects(compact(t, { compactor: thread }), (e: unknown) => e instanceof CompactionThreadError && /compacting file group \S+ failed in the compaction thread/.test(e.message));
  } finally {
    await thread.close();
  }
  await writeFile(join(part, log), original);
  const reopened = await HudiTable.open(new LocalStore(dir), BASE);
  assert.equal(reopened.timeline.pending().length, 1, 'the failed compaction is left inflight for recovery');
  await reopened.recover();
  assert.deepEqual(names((await readSnapshot(reopened)).rows), before);
  assert.equal((await compact(reopened)).fileGroups, 2, 'compacts once the slice reads again');
  assert.deepEqual(names((await readSnapshot(reopened)).rows), before);
});
