/**
 * Table write throughput (issue #3): N upserts in 10 commits to a local folder
 * (commit 1 inserts, later commits ~20% updates of existing keys), next to writing
 * the same N rows once as one Parquet file with the same library, in the same run,
 * alternating per round so machine load hits both alike. Target: ratio ≥ 0.5.
 *
 *   node --import tsx bench/table/write.ts [--rows 100000] [--commits 10] [--rounds 2] [--buckets 4]
 *
 * Timed: mutations in memory → committed table on disk (incl. timeline files);
 * baseline: rows in memory → one Parquet file on disk. Data generation is not timed.
 * Each side holds only its own input: the table side one commit's batch at a time (as
 * the daemon's writer gets them from its buffers; made between the timed commits), the
 * baseline all rows. Holding all 1M rows during the table's 10 commits made every major GC
 * of the writer mark them, a cost of the harness that no daemon pays.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeParquet } from '../../src/table/parquet.js';
import type { Row } from '../../src/table/schema.js';
import { TABLE_SCHEMA, benchTable, commitBatch, dirBytes, freshDir, loadAvg, median, timed, upsertCommits } from './data.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    commits: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    buckets: { type: 'string', default: '4' },
  },
});
const N = Number(args.rows);
const COMMITS = Number(args.commits);
const ROUNDS = Number(args.rounds);
const BUCKETS = Number(args.buckets);

const UPDATE_SHARE = 0.2;

/** Creates the table and commits each batch; times the writer only (batches are made in between). */
async function timedTableWrite(dir: string): Promise<{ ms: number; cpuMs: number }> {
  const created = await timed(() => benchTable(dir, BUCKETS));
  let ms = created.ms;
  let cpuMs = created.cpuMs;
  for (const batch of upsertCommits(N, COMMITS, UPDATE_SHARE)) {
    const c = await timed(() => commitBatch(created.value, batch));
    ms += c.ms;
    cpuMs += c.cpuMs;
  }
  return { ms, cpuMs };
}

/** Every row of every commit, in write order: the one-file baseline's input. */
function allRows(): Row[] {
  const rows: Row[] = [];
  for (const batch of upsertCommits(N, COMMITS, UPDATE_SHARE)) for (const m of batch) rows.push(m.row);
  return rows;
}

async function main(): Promise<void> {
  const total = Math.floor(N / COMMITS) * COMMITS;
  const tableMs: number[] = [];
  const tableCpu: number[] = [];
  const pqMs: number[] = [];
  const pqCpu: number[] = [];
  let tableBytes = 0;
  let pqBytes = 0;
  const loads: string[] = [loadAvg()];
  for (let r = 0; r < ROUNDS; r++) {
    const dir = await freshDir(`write-${r}`);
    const t = await timedTableWrite(dir);
    tableMs.push(t.ms);
    tableCpu.push(t.cpuMs);
    tableBytes = await dirBytes(dir);
    await fs.rm(dir, { recursive: true, force: true });

    const pdir = await freshDir(`write-pq-${r}`);
    const rows = allRows();
    const p = await timed(async () => {
      const bytes = writeParquet(TABLE_SCHEMA, rows, { metaColumns: false });
      await fs.writeFile(path.join(pdir, 'all.parquet'), bytes);
      return bytes.byteLength;
    });
    pqMs.push(p.ms);
    pqCpu.push(p.cpuMs);
    pqBytes = p.value;
    await fs.rm(pdir, { recursive: true, force: true });
    loads.push(loadAvg());
    console.error(`round ${r + 1}: table ${Math.round(t.ms)} ms (cpu ${Math.round(t.cpuMs)}), parquet ${Math.round(p.ms)} ms (cpu ${Math.round(p.cpuMs)}), load ${loadAvg()}`);
  }
  const tMs = median(tableMs);
  const pMs = median(pqMs);
  const out = {
    bench: 'table/write',
    rows: total,
    commits: COMMITS,
    buckets: BUCKETS,
    updateShare: UPDATE_SHARE,
    rounds: ROUNDS,
    node: process.version,
    loadAvg: loads,
    tableRowsPerSec: Math.round((total / tMs) * 1000),
    parquetRowsPerSec: Math.round((total / pMs) * 1000),
    ratioWall: +(pMs / tMs).toFixed(2),
    ratioCpu: +(median(pqCpu) / median(tableCpu)).toFixed(2),
    // Best round of each (round 1 also pays JIT warm-up): the least load-disturbed pair.
    ratioBestWall: +(Math.min(...pqMs) / Math.min(...tableMs)).toFixed(2),
    ratioBestCpu: +(Math.min(...pqCpu) / Math.min(...tableCpu)).toFixed(2),
    target: '>= 0.5',
    tableMs: tableMs.map(Math.round),
    parquetMs: pqMs.map(Math.round),
    tableCpuMs: tableCpu.map(Math.round),
    parquetCpuMs: pqCpu.map(Math.round),
    tableBytesOnDisk: tableBytes,
    parquetBytes: pqBytes,
  };
  console.log(JSON.stringify(out, null, 2));
}

await main();
