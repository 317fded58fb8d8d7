/**
 * A table's age: commit latency and the time to open the table over N one-row commits,
 * with maintenance as the daemon runs it (a compaction every 5 commits, cleaning to 20
 * retained), with timeline archival and without it, side by side in one run.
 *
 *   node --import tsx bench/table/timeline-age.ts [--commits 2000] [--dir /dev/shm]
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalStore } from '../../src/storage/local-store.js';
import { archive } from '../../src/table/archiver.js';
import { clean } from '../../src/table/cleaner.js';
import { compact } from '../../src/table/compaction.js';
import type { TableSchema } from '../../src/table/schema.js';
import { HudiTable } from '../../src/table/table.js';

const { values } = parseArgs({ options: { commits: { type: 'string', default: '2000' }, dir: { type: 'string' } } });
const N = Number(values.commits);
const root = values.dir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const RETAIN = 20;
const LAPS = 8;
const schema: TableSchema = {
  type: 'record',
  name: 't',
  fields: [
    { name: 'id', type: ['null', 'long'], default: null },
    { name: 'v', type: ['null', 'string'], default: null },
    { name: '_cdc_position', type: ['null', 'long'], default: null },
  ],
};

interface Lap {
  commitMs: number;
  openMs: number;
  timelineFiles: number;
}

async function age(withArchive: boolean): Promise<{ laps: Lap[]; archiveMs: number; archiveFiles: number }> {
  const dir = join(root, `cdc-lake-bench-age-${withArchive ? 'archived' : 'plain'}`);
  rmSync(dir, { recursive: true, force: true });
  const store = new LocalStore(dir);
  const t = await HudiTable.create(store, 't', { tableName: 't', database: 'db', recordKeyFields: ['id'], orderingField: '_cdc_position', buckets: 1 });
  const laps: Lap[] = [];
  let archiveMs = 0;
  let started = performance.now();
  for (let i = 1; i <= N; i++) {
    await t.commit({ schema, mutations: [{ kind: 'upsert', ordering: BigInt(i), row: { id: i % 10, v: 'x', _cdc_position: i } }] });
    if (i % 5 === 0) {
      await compact(t);
      await clean(t, { retainCommits: RETAIN });
    }
    if (withArchive) {
      const s = performance.now();
      await archive(t, { retainCommits: RETAIN });
      archiveMs += performance.now() - s;
    }
    if (i % (N / LAPS) === 0) {
      const lapMs = performance.now() - started;
      const s = performance.now();
      await HudiTable.open(store, 't');
      const openMs = performance.now() - s;
      laps.push({ commitMs: lapMs / (N / LAPS), openMs, timelineFiles: readdirSync(join(dir, 't', '.hoodie')).length });
      started = performance.now();
    }
  }
  const archived = join(dir, 't', '.hoodie', 'archived');
  const archiveFiles = existsSync(archived) ? readdirSync(archived).length : 0;
  rmSync(dir, { recursive: true, force: true });
  return { laps, archiveMs, archiveFiles };
}

const plain = await age(false);
const archived = await age(true);
console.log(`${N} one-row commits, compaction every 5, cleaning to ${RETAIN}; per lap of ${N / LAPS}: ms a commit with its maintenance, ms to open the table, files in .hoodie/`);
console.log('lap | without archival            | with archival');
for (let k = 0; k < LAPS; k++) {
  const a = plain.laps[k] as Lap;
  const b = archived.laps[k] as Lap;
  const cell = (l: Lap) => `${l.commitMs.toFixed(1).padStart(5)} ms  open ${l.openMs.toFixed(0).padStart(4)} ms  ${String(l.timelineFiles).padStart(5)} files`;
  console.log(`${String(k + 1).padStart(3)} | ${cell(a)} | ${cell(b)}`);
}
const last = (x: { laps: Lap[] }) => (x.laps[LAPS - 1] as Lap).openMs;
console.log(`open at ${N} commits: with archival ${(last(archived) / last(plain)).toFixed(2)} × without; archival ${(archived.archiveMs / 1000).toFixed(2)} s in all (${(archived.archiveMs / N).toFixed(2)} ms a commit), ${archived.archiveFiles} archive files`);
