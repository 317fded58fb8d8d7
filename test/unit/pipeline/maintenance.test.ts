// Maintenance off the ingest loop: while table A compacts (its base-file uploads are
// slowed down), table B keeps committing, A's due flush waits (not the loop), and the
// wait is reported as the pause. Real local store and tables; only the upload delay is fake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { parseConfig, type Config } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging.js';
import { lakeStore, openLakeTable } from '../../../src/pipeline/lake.js';
import type { MaintenanceReport } from '../../../src/pipeline/maintenance.js';
import { ARCHIVE_BATCH } from '../../../src/table/archiver.js';
import { readSnapshot } from '../../../src/table/reader.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import type { RecordBatch } from '../../../src/source/record.js';
import type { Source } from '../../../src/source/source.js';
import { tempDir } from '../../support/temp.js';

const offsets = new Map<string, bigint>();
let lsn = 1000;

function batch(table: string, ids: number[], op: 'c' | 'u'): RecordBatch {
  const topic = `srv.s.${table}`;
  const records = ids.map((id) => {
    const offset = offsets.get(topic) ?? 0n;
    offsets.set(topic, offset + 1n);
    lsn += 8;
    const value = {
      before: null,
      after: { id, v: `${op}${lsn}` },
      source: { connector: 'postgresql', name: 'srv', db: 'd', schema: 's', table, txId: lsn, lsn, sequence: `[null,"${lsn}"]`, ts_ms: 1, snapshot: 'false' },
      op,
      ts_ms: 1,
    };
    return { topic, partition: 0, offset, key: Buffer.from(JSON.stringify({ id })), value: Buffer.from(JSON.stringify(value)) };
  });
  return { split: `${topic}:0`, records, nextOffset: offsets.get(topic) as bigint };
}

/** A lake whose table `s.<table>` uploads its base files slowly once `slowDown()` was called: that is its compaction's write. */
async function slowLake(table: string, compactionThread = false): Promise<{ config: Config; store: ObjectStore; logger: Logger; slowDown: () => void }> {
  const dir = await tempDir('cdc-lake-maint-');
  const config = parseConfig(
    { lake: { uri: dir }, buffer: { maxRows: 3, maxAgeMs: 600_000 }, tables: { defaults: { buckets: 1, compaction: { everyDeltaCommits: 2 } } }, log: { level: 'silent' }, maintenance: { compactionThread } },
    {},
  );
  const real = lakeStore(config.lake);
  let slow = false;
  const delay = async (key: string): Promise<void> => {
    if (slow && key.startsWith(`s/${table}/`) && key.endsWith('.parquet')) await sleep(1500);
  };
  const store: ObjectStore = Object.assign(Object.create(real) as ObjectStore, {
    put: async (key: string, data: Uint8Array | string) => {
      await delay(key);
      return real.put(key, data);
    },
    createIfAbsent: async (key: string, data: Uint8Array | string) => {
      await delay(key);
      return real.createIfAbsent(key, data);
    },
  });
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const slowDown = (): void => {
    slow = true;
  };
  return { config, store, logger, slowDown };
}

for (const compactionThread of [false, true]) test(`compaction of one table runs beside ingestion${compactionThread ? ' (on the compaction thread)' : ''}: another table commits meanwhile, its own due flush waits and the pause is reported`, async () => {
  const { config, store, logger, slowDown } = await slowLake('a', compactionThread);
  const log: string[] = [];
  const pauses: number[] = [];
  const pipeline = new Pipeline({
    store,
    config,
    logger,
    events: {
      onCommit: (table) => log.push(`commit ${table}`),
      onMaintenance: (table, r) => log.push(`maintenance ${table}${r.compaction?.instant ? ' compacted' : ''}`),
      onMaintenancePause: (_table, ms) => pauses.push(ms),
    },
  });
  await pipeline.consume(batch('a', [1, 2, 3], 'c'));
  await pipeline.flushDue();
  slowDown();
  await pipeline.consume(batch('a', [1, 2, 3], 'u'));
  await pipeline.flushDue(); // second deltacommit of a: compaction starts in the background
  assert.deepEqual(log, ['commit s.a', 'commit s.a']);

  await pipeline.consume(batch('b', [1, 2, 3], 'c'));
  await pipeline.flushDue();
  assert.deepEqual(log.slice(2), ['commit s.b'], 'b committed while a compacts');
  await pipeline.consume(batch('a', [4, 5, 6], 'c'));
  await pipeline.flushDue();
  assert.equal(log.filter((l) => l === 'commit s.a').length, 2, "a's due flush waits for its compaction");
  assert.ok(!log.some((l) => l.startsWith('maintenance')), 'the compaction is still running');

  await pipeline.idle();
  for (let i = 0; i < 50 && log.filter((l) => l === 'commit s.a').length < 3; i++) await sleep(100);
  assert.deepEqual(log.slice(3), ['maintenance s.a compacted', 'commit s.a'], 'a flushes right after its compaction');
  assert.equal(pauses.length, 1);
  assert.ok((pauses[0] as number) > 0, 'the pause is measured');
  await pipeline.flushAll();
});

test("a table's full batch waiting for its compaction pauses its splits (it does not grow past its limits) and resumes after the flush", { timeout: 30_000 }, async () => {
  const { config, store, logger, slowDown } = await slowLake('p');
  const log: string[] = [];
  const pipeline = new Pipeline({
    store,
    config,
    logger,
    events: { onCommit: (_t, _i, rows) => log.push(`commit ${rows}`), onMaintenance: () => log.push('compacted') },
  });
  let resumed: () => void = () => undefined;
  const split = 'srv.s.p:0';
  const source: Source = {
    open: async () => undefined,
    async *batches() {
      yield batch('p', [1, 2, 3], 'c');
      slowDown();
      yield batch('p', [1, 2, 3], 'u'); // second deltacommit: the compaction starts
      yield batch('p', [4, 5, 6], 'c'); // a full batch that must wait for it
      await new Promise<void>((r) => (resumed = r));
      yield batch('p', [7], 'c');
    },
    pause: (splits) => log.push(`pause ${splits.join(',')}`),
    resume: (splits) => {
      log.push(`resume ${splits.join(',')}`);
      if (splits.includes(split)) resumed();
    },
    commitOffsets: async () => undefined,
    stop: () => undefined,
    close: async () => undefined,
  };
  await pipeline.run(source, { tickMs: 100 });
  // (the last two deltacommits start the next compaction, which the run's end waits for)
  assert.deepEqual(log, ['commit 3', 'commit 3', `pause ${split}`, 'compacted', 'commit 3', `resume ${split}`, 'commit 1', 'compacted']);
});

test('compaction.maxBytesPerRun: a run compacts the due file groups that fit (at least one); the rest follow after the next commits', async () => {
  const dir = await tempDir('cdc-lake-maint-budget-');
  const config = parseConfig({ lake: { uri: dir }, buffer: { maxRows: 8, maxAgeMs: 600_000 }, tables: { defaults: { buckets: 4, compaction: { everyDeltaCommits: 2, maxBytesPerRun: 1 } } }, log: { level: 'silent' } }, {});
  const runs: number[] = [];
  const pipeline = new Pipeline({
    store: lakeStore(config.lake),
    config,
    logger: createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
    events: { onMaintenance: (_t, r) => void (r.compaction?.instant && runs.push(r.compaction.fileGroups)) },
  });
  const ids = [1, 2, 3, 4, 5, 6, 7, 8]; // keys in all four buckets
  for (const op of ['c', 'u', 'u', 'u', 'u'] as const) {
    await pipeline.consume(batch('q', ids, op));
    await pipeline.flushDue();
    await pipeline.idle();
  }
  // after the 2nd commit one group (the budget fits none: still one), then one after each commit
  assert.deepEqual(runs, [1, 1, 1, 1]);
  await pipeline.flushAll();
});

test("the pipeline archives a table's timeline past what it retains; a restart after it reads nothing twice", { timeout: 60_000 }, async () => {
  const dir = await tempDir('cdc-lake-maint-archive-');
  const config = parseConfig({ lake: { uri: dir }, buffer: { maxRows: 1, maxAgeMs: 600_000 }, tables: { defaults: { buckets: 1, compaction: { everyDeltaCommits: 5 }, retention: { commits: 1 } } }, log: { level: 'silent' } }, {});
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const archived: number[] = [];
  const commits: string[] = [];
  const events = { onCommit: (t: string) => commits.push(t), onMaintenance: (_t: string, r: MaintenanceReport) => void (r.archive && archived.push(r.archive.instants)) };
  const pipeline = new Pipeline({ store: lakeStore(config.lake), config, logger, events });
  const topic = 'srv.s.r';
  offsets.set(topic, 0n);
  const n = 1 + ARCHIVE_BATCH + 10;
  for (let k = 0; k < n; k++) {
    await pipeline.consume(batch('r', [(k % 3) + 1], k < 3 ? 'c' : 'u'));
    await pipeline.flushDue();
    await pipeline.idle();
  }
  await pipeline.flushAll();
  assert.ok(archived.length > 0 && archived.every((x) => x > 0), `archived ${JSON.stringify(archived)}`);
  const table = await openLakeTable(lakeStore(config.lake), 's.r');
  assert.ok(table.timeline.instants.length < n, 'the active timeline holds fewer instants than were committed');
  const rows = (await readSnapshot(table)).rows.map((r) => `${String(r.id)}:${String(r.v)}`).sort();

  // A new pipeline over the same lake starts the split where the archived table's timeline says,
  // and is offered every record again: the checkpoint skips them all.
  const again = new Pipeline({ store: lakeStore(config.lake), config, logger, events: { onCommit: (t: string) => commits.push(`again ${t}`) } });
  offsets.set(topic, 0n);
  const replay = Array.from({ length: n }, (_x, k) => batch('r', [(k % 3) + 1], 'u'));
  let start: bigint | undefined;
  const source: Source = {
    open: async (hooks) => void (start = (await hooks.onAssigned([`${topic}:0`])).get(`${topic}:0`)),
    async *batches() {
      yield* replay;
    },
    pause: () => undefined,
    resume: () => undefined,
    commitOffsets: async () => undefined,
    stop: () => undefined,
    close: async () => undefined,
  };
  await again.run(source, { tickMs: 100 });
  assert.equal(start, BigInt(n));
  assert.ok(!commits.some((c) => c.startsWith('again')), 'nothing was written twice');
  assert.deepEqual((await readSnapshot(await openLakeTable(lakeStore(config.lake), 's.r'))).rows.map((r) => `${String(r.id)}:${String(r.v)}`).sort(), rows);
});
