/**
 * Table read (issue #3): snapshot read of a table whose 20% updated keys live in
 * log files, next to reading the same final rows from one plain Parquet file with
 * the same library, in the same run (alternating per round). Target: time ratio ≤ 2.0.
 * Then an incremental read of the last commit, printing bytes read vs table bytes.
 *
 *   node --import tsx bench/table/read.ts [--rows 100000] [--update-commits 4] [--rounds 3] [--buckets 4] [--table-dir <dir>]
 *
 * `--table-dir` keeps the built table and plain file in <dir> and reuses them on the next
 * run with the same arguments (building 1M rows takes minutes; profiling the read should not).
 *
 * Timed: files on local disk → rows in memory (snapshot: open the table, list, merge base + logs).
 * Two snapshots per round: with the `_hoodie_*` meta fields (19 columns, stricter), and of the
 * plain file's 14 columns — the same final rows as the plain read, which the target is about.
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
    'table-dir': { type: 'string' },
  },
});
const N = Number(args.rows);
const ROUNDS = Number(args.rounds);

const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);

/** A fresh table and plain file, or the ones a previous run left in `--table-dir` (marked by `built.json` with the same arguments). */
async function prepare(): Promise<{ dir: string; plainFile: string; keep: boolean }> {
  const keep = args['table-dir'] !== undefined;
  const dir = keep ? path.resolve(args['table-dir'] as string) : await freshDir('read');
  const plainFile = path.join(dir, 'final.parquet');
  const marker = path.join(dir, 'built.json');
  const spec = JSON.stringify({ rows: N, updateCommits: args['update-commits'], buckets: args.buckets });
  if (keep && (await exists(marker)) && (await fs.readFile(marker, 'utf8')) === spec) {
    console.error(`reusing the table in ${dir}`);
    return { dir, plainFile, keep };
  }
  if (keep) await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  // Built here so the plan's rows are garbage before the timed reads (they would swell the heap both reads collect).
  const plan = updatedKeysPlan(N, 0.2, Number(args['update-commits']));
  const built = await timed(() => writeTable(dir, plan, Number(args.buckets)));
  await fs.writeFile(plainFile, writeParquet(TABLE_SCHEMA, plan.finalRows, { metaColumns: false }));
  if (keep) await fs.writeFile(marker, spec);
  console.error(`built table in ${Math.round(built.ms)} ms, load ${loadAvg()}`);
  return { dir, plainFile, keep };
}

/**
 * Times one read and checks it returned N rows. Only the timings are kept: the rows are garbage
 * before the next read, so neither read pays for collecting around the other's result.
 */
async function timedRead(what: string, read: () => Promise<readonly unknown[]>): Promise<{ ms: number; cpuMs: number }> {
  const t = await timed(read);
  if (t.value.length !== N) throw new Error(`${what} returned ${t.value.length} rows, expected ${N}`);
  return { ms: t.ms, cpuMs: t.cpuMs };
}

async function main(): Promise<void> {
  const { dir, plainFile, keep } = await prepare();
  const tableBytes = await dirBytes(path.join(dir, 'bench/orders'));
  const plainBytes = (await fs.stat(plainFile)).size;
  console.error(`table ${tableBytes} bytes, plain file ${plainBytes} bytes`);

  const store = new LocalStore(dir);
  const snapMs: number[] = [];
  const snapCpu: number[] = [];
  const colsMs: number[] = [];
  const colsCpu: number[] = [];
  const plainMs: number[] = [];
  const plainCpu: number[] = [];
  const loads = [loadAvg()];
  // The plain file's columns: the same final rows as the plain read returns (the `_hoodie_*` fields are the table's own).
  const columns = TABLE_SCHEMA.fields.map((f) => f.name);
  for (let r = 0; r < ROUNDS; r++) {
    const s = await timedRead('snapshot', async () => {
      const table = await HudiTable.open(store, 'bench/orders');
      return (await readSnapshot(table, { meta: true })).rows;
    });
    const c = await timedRead('snapshot of the plain columns', async () => {
      const table = await HudiTable.open(store, 'bench/orders');
      return (await readSnapshot(table, { columns })).rows;
    });
    const p = await timedRead('plain read', async () => arrowToRows(readParquet(new Uint8Array(await fs.readFile(plainFile))), TABLE_SCHEMA));
    snapMs.push(s.ms);
    snapCpu.push(s.cpuMs);
    colsMs.push(c.ms);
    colsCpu.push(c.cpuMs);
    plainMs.push(p.ms);
    plainCpu.push(p.cpuMs);
    loads.push(loadAvg());
    console.error(
      `round ${r + 1}: snapshot with meta ${Math.round(s.ms)} ms (cpu ${Math.round(s.cpuMs)}), snapshot of the ${columns.length} plain columns ${Math.round(c.ms)} ms (cpu ${Math.round(c.cpuMs)}), plain ${Math.round(p.ms)} ms (cpu ${Math.round(p.cpuMs)}), load ${loadAvg()}`,
    );
  }

  // Incremental: only the last commit, (second-to-last, last].
  const table = await HudiTable.open(store, 'bench/orders');
  const since = table.timeline.completed().at(-2)?.timestamp;
  if (since === undefined) throw new Error('bench table has fewer than two completed commits');
  const inc = await timed(() => readIncremental(table, { since, meta: true }));
  const last = table.timeline.lastCompleted();
  if (last === undefined) throw new Error('bench table has no completed commit');
  const lastStats = allWriteStats((await table.timeline.commitMetadata(last)) as CommitMetadata);

  console.log(JSON.stringify({
    bench: 'table/read',
    keys: N,
    updatedKeysShare: 0.2,
    updateCommits: Number(args['update-commits']),
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
    // The same final rows as the plain read: the plain file's columns, without the `_hoodie_*` fields.
    sameColumns: {
      snapshotMs: colsMs.map(Math.round),
      snapshotCpuMs: colsCpu.map(Math.round),
      ratioWall: +(median(colsMs) / median(plainMs)).toFixed(2),
      ratioCpu: +(median(colsCpu) / median(plainCpu)).toFixed(2),
      ratioBestWall: +(Math.min(...colsMs) / Math.min(...plainMs)).toFixed(2),
      ratioBestCpu: +(Math.min(...colsCpu) / Math.min(...plainCpu)).toFixed(2),
    },
    target: '<= 2.0',
    tableBytes,
    plainBytes,
    incremental: {
      since,
      rowsReturned: inc.value.rows.length,
      lastCommitRows: lastStats.reduce((a, s) => a + s.numWrites, 0),
      lastCommitFiles: lastStats.length,
      lastCommitBytes: lastStats.reduce((a, s) => a + s.totalWriteBytes, 0),
      filesRead: inc.value.stats.filesRead,
      bytesRead: inc.value.stats.bytesRead,
      tableBytes,
      bytesReadShareOfTable: +(inc.value.stats.bytesRead / tableBytes).toFixed(3),
      ms: Math.round(inc.ms),
    },
  }, null, 2));
  if (!keep) await fs.rm(dir, { recursive: true, force: true });
}

await main();
