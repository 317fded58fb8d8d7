/**
 * Table read (issue #3): snapshot read of a table whose 20% updated keys live in
 * log files, next to reading the same final rows from one plain Parquet file with
 * the same library, in the same run (alternating per round). Target: time ratio ≤ 2.0.
 * Then an incremental read of the last commit, printing bytes read vs table bytes.
 *
 *   node --import tsx bench/table/read.ts [--rows 100000] [--update-commits 4] [--rounds 3] [--buckets 4]
 *
 * Timed: files on local disk → rows in memory (snapshot: open the table, list, merge base + logs).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { allWriteStats, type CommitMetadata } from '../../src/hudi/commit-metadata.js';
import { LocalStore } from '../../src/storage/local-store.js';
import { arrowToRows, readParquet, writeParquet } from '../../src/table/parquet.js';
import { readIncremental, readSnapshot } from '../../src/table/reader.js';
import { HudiTable } from '../../src/table/table.js';
import { TABLE_SCHEMA, dirBytes, freshDir, loadAvg, median, timed, updatedKeysPlan, writeTable } from './data.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    'update-commits': { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    buckets: { type: 'string', default: '4' },
  },
});
const N = Number(args.rows);
const ROUNDS = Number(args.rounds);

async function main(): Promise<void> {
  const plan = updatedKeysPlan(N, 0.2, Number(args['update-commits']));
  const dir = await freshDir('read');
  const built = await timed(() => writeTable(dir, plan, Number(args.buckets)));
  const tableBytes = await dirBytes(path.join(dir, 'bench/orders'));
  const plainFile = path.join(dir, 'final.parquet');
  await fs.writeFile(plainFile, writeParquet(TABLE_SCHEMA, plan.finalRows, { metaColumns: false }));
  const plainBytes = (await fs.stat(plainFile)).size;
  console.error(`built table in ${Math.round(built.ms)} ms (${tableBytes} bytes), plain file ${plainBytes} bytes, load ${loadAvg()}`);

  const store = new LocalStore(dir);
  const snapMs: number[] = [];
  const snapCpu: number[] = [];
  const plainMs: number[] = [];
  const plainCpu: number[] = [];
  const loads = [loadAvg()];
  for (let r = 0; r < ROUNDS; r++) {
    const s = await timed(async () => {
      const table = await HudiTable.open(store, 'bench/orders');
      return readSnapshot(table, { meta: true });
    });
    if (s.value.rows.length !== N) throw new Error(`snapshot returned ${s.value.rows.length} rows, expected ${N}`);
    const p = await timed(async () => arrowToRows(readParquet(new Uint8Array(await fs.readFile(plainFile))), TABLE_SCHEMA));
    if (p.value.length !== N) throw new Error(`plain read returned ${p.value.length} rows, expected ${N}`);
    snapMs.push(s.ms);
    snapCpu.push(s.cpuMs);
    plainMs.push(p.ms);
    plainCpu.push(p.cpuMs);
    loads.push(loadAvg());
    console.error(`round ${r + 1}: snapshot ${Math.round(s.ms)} ms (cpu ${Math.round(s.cpuMs)}), plain ${Math.round(p.ms)} ms (cpu ${Math.round(p.cpuMs)}), load ${loadAvg()}`);
  }

  // Incremental: only the last commit, (second-to-last, last].
  const table = await HudiTable.open(store, 'bench/orders');
  const since = built.value.instants.at(-2) as string;
  const inc = await timed(() => readIncremental(table, { since, meta: true }));
  const lastCommitRows = plan.commits.at(-1)?.length ?? 0;
  const last = table.timeline.lastCompleted();
  if (last === undefined) throw new Error('bench table has no completed commit');
  const lastStats = allWriteStats((await table.timeline.commitMetadata(last)) as CommitMetadata);

  console.log(JSON.stringify({
    bench: 'table/read',
    keys: N,
    updatedKeysShare: 0.2,
    updateCommits: plan.commits.length - 1,
    buckets: Number(args.buckets),
    rounds: ROUNDS,
    node: process.version,
    loadAvg: loads,
    snapshotMs: snapMs.map(Math.round),
    plainMs: plainMs.map(Math.round),
    snapshotCpuMs: snapCpu.map(Math.round),
    plainCpuMs: plainCpu.map(Math.round),
    snapshotRowsPerSec: Math.round((N / median(snapMs)) * 1000),
    plainRowsPerSec: Math.round((N / median(plainMs)) * 1000),
    ratioWall: +(median(snapMs) / median(plainMs)).toFixed(2),
    ratioCpu: +(median(snapCpu) / median(plainCpu)).toFixed(2),
    ratioBestWall: +(Math.min(...snapMs) / Math.min(...plainMs)).toFixed(2),
    ratioBestCpu: +(Math.min(...snapCpu) / Math.min(...plainCpu)).toFixed(2),
    target: '<= 2.0',
    tableBytes,
    plainBytes,
    incremental: {
      since,
      rowsReturned: inc.value.rows.length,
      lastCommitRows,
      lastCommitFiles: lastStats.length,
      lastCommitBytes: lastStats.reduce((a, s) => a + s.totalWriteBytes, 0),
      filesRead: inc.value.stats.filesRead,
      bytesRead: inc.value.stats.bytesRead,
      tableBytes,
      bytesReadShareOfTable: +(inc.value.stats.bytesRead / tableBytes).toFixed(3),
      ms: Math.round(inc.ms),
    },
  }, null, 2));
  await fs.rm(dir, { recursive: true, force: true });
}

await main();
