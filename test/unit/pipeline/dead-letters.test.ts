// The dead-letter table has a writer in every replica: a commit refused because another
// replica committed first is made again on the table as it is now, as often as it takes.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging.js';
import { DEAD_LETTER_TABLE } from '../../../src/pipeline/dead-letters.js';
import { lakeStore, openLakeTable } from '../../../src/pipeline/lake.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { RecordBatch } from '../../../src/source/record.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { readSnapshot } from '../../../src/table/reader.js';
import { FENCE_DIR } from '../../../src/table/timeline.js';
import { tempDir } from '../../support/temp.js';

test('a dead-letter commit refused because other replicas committed first is made again until it lands', async () => {
  const dir = await tempDir('cdc-lake-dead-letters-');
  const config = parseConfig({ lake: { uri: dir }, log: { level: 'silent' } }, {});
  const real = lakeStore(config.lake);
  // Other replicas win the next three fence claims of the dead-letter table.
  let otherWins = 3;
  const store: ObjectStore = Object.assign(Object.create(real) as ObjectStore, {
    createIfAbsent: async (key: string, data: Uint8Array | string) => {
      if (otherWins > 0 && key.includes(`/${FENCE_DIR}/`) && key.includes('_dead_letters')) {
        otherWins--;
        await real.createIfAbsent(key, JSON.stringify({ instant: '00000000000000001', writer: 'another replica' }));
      }
      return real.createIfAbsent(key, data);
    },
  });
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const pipeline = new Pipeline({ store, config, logger });
  await pipeline.consume({ split: 'srv.s.t:0', records: [{ topic: 'srv.s.t', partition: 0, offset: 0n, key: Buffer.from('{"id":1}'), value: Buffer.from('not json') }], nextOffset: 1n });
  await pipeline.flushAll();
  assert.equal(otherWins, 0);
  const table = await openLakeTable(real, DEAD_LETTER_TABLE);
  assert.equal((await readSnapshot(table)).rows.length, 1);
  assert.deepEqual(table.timeline.pending(), [], 'the refused attempts were discarded, not left pending');
});

/** Two daemons' pipelines on one lake, both writing dead letters and maintaining the table. */
async function replicas(): Promise<{ a: Pipeline; b: Pipeline; dir: string; errors: string[]; maintained: string[] }> {
  const dir = await tempDir('cdc-lake-dead-letters-2-');
  const config = parseConfig({ lake: { uri: dir }, tables: { defaults: { buckets: 1, compaction: { everyDeltaCommits: 2 }, retention: { commits: 1 } } }, log: { level: 'silent' } }, {});
  const errors: string[] = [];
  const maintained: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write: (chunk: Buffer, _e, cb) => {
        const line = JSON.parse(chunk.toString('utf8')) as { level: string; msg: string; err?: string };
        if (line.level === 'error') errors.push(`${line.msg}: ${line.err ?? ''}`);
        cb();
      },
    }),
  });
  const make = () => new Pipeline({ store: lakeStore(config.lake), config, logger, events: { onMaintenance: (t, r) => void maintained.push(`${t} ${r.compaction?.instant ? 'compaction' : ''}${r.clean?.instant ? 'clean' : ''}`) } });
  return { a: make(), b: make(), dir, errors, maintained };
}

let offset = 0n;
function badRecord(): RecordBatch {
  const at = offset++;
  return { split: 'srv.s.t:0', records: [{ topic: 'srv.s.t', partition: 0, offset: at, key: Buffer.from(`{"id":${at}}`), value: Buffer.from(`not json ${at}`) }], nextOffset: at + 1n };
}

test('two replicas append dead letters to one table and maintain it in turn: every letter stays, the table is compacted and cleaned', async () => {
  const { a, b, dir, errors, maintained } = await replicas();
  for (let k = 0; k < 8; k++) {
    for (const p of [a, b]) {
      await p.consume(badRecord());
      await p.flushAll();
      await p.idle();
    }
  }
  const table = await openLakeTable(lakeStore({ uri: dir, s3: { pathStyle: true } }), DEAD_LETTER_TABLE);
  assert.equal(new Set((await readSnapshot(table)).rows.map((r) => String(r.id))).size, 16, 'every letter, once');
  assert.ok(maintained.some((m) => m.includes('compaction')) && maintained.some((m) => m.includes('clean')), maintained.join('; '));
  assert.deepEqual(table.timeline.pending(), []);
  assert.deepEqual(errors, []);
});

test('two replicas writing dead letters at the same time lose none', async () => {
  const { a, b, dir, errors } = await replicas();
  const before = offset;
  await Promise.all(
    [a, b].map(async (p) => {
      for (let k = 0; k < 10; k++) {
        await p.consume(badRecord());
        await p.flushAll();
      }
      await p.idle();
    }),
  );
  const table = await openLakeTable(lakeStore({ uri: dir, s3: { pathStyle: true } }), DEAD_LETTER_TABLE);
  assert.equal((await readSnapshot(table)).rows.length, Number(offset - before));
  assert.deepEqual(errors, []);
});

test("a pending instant of the dead-letter table abandoned long ago (a crashed replica's) is rolled back before its maintenance", async () => {
  const dir = await tempDir('cdc-lake-dead-letters-3-');
  const config = parseConfig({ lake: { uri: dir }, log: { level: 'silent' } }, {});
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  let clock = Date.now();
  const p = new Pipeline({ store: lakeStore(config.lake), config, logger, now: () => clock });
  await p.consume(badRecord());
  await p.flushAll();
  await p.idle();
  // Another replica crashed mid-commit.
  const crashed = await openLakeTable(lakeStore(config.lake), DEAD_LETTER_TABLE);
  const instant = crashed.nextInstant();
  await crashed.timeline.request(instant, 'deltacommit');
  await crashed.timeline.inflight(instant, 'deltacommit');
  const pendingAfterNextLetter = async (): Promise<string[]> => {
    await p.consume(badRecord());
    await p.flushAll();
    await p.idle();
    return (await openLakeTable(lakeStore(config.lake), DEAD_LETTER_TABLE)).timeline.pending().map((i) => i.timestamp);
  };
  assert.deepEqual(await pendingAfterNextLetter(), [instant], 'a recent pending instant may be a replica still writing: left alone');
  clock += 11 * 60_000;
  assert.deepEqual(await pendingAfterNextLetter(), [], 'ten minutes later it is abandoned: rolled back');
});
