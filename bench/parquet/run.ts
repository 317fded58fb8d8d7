/**
 * Parquet write/read benchmark for src/table/parquet.ts (parquet-wasm + apache-arrow), with
 * hyparquet-writer (pure JS, measured in research/libbench.md) for the record.
 *
 *   node --import tsx bench/parquet/run.ts [--rows 1000000] [--runs 2] [--out /tmp/bench-parquet]
 *
 * Timed: rows in memory (the shared Value contract) → Parquet bytes on local disk; reads are
 * bytes on disk → JS values. Data generation and module/wasm loading are not timed.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { arrowToRows, readParquet, readParquetColumns, writeParquet, type ParquetCompression } from '../../src/table/parquet.js';
import type { Row, TableSchema } from '../../src/table/schema.js';
import { USER_SCHEMA } from '../table/data.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '2' },
    out: { type: 'string', default: path.join(os.tmpdir(), 'cdc-lake-bench-parquet') },
  },
});
const N = Number(args.rows);
const RUNS = Number(args.runs);

/** The same 10 user columns as the table benchmarks. */
const schema: TableSchema = USER_SCHEMA;

function generate(n: number): Row[] {
  const rows: Row[] = new Array<Row>(n);
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) {
    rows[i] = {
      id: i + 1,
      tenant: i % 97,
      name: `customer-${(i * 7919) % 1000}`,
      email: `user${i}.${(i * 31) % 9973}@example.com`,
      amount: Math.round(rnd() * 1e6) / 100,
      price: `${Math.floor(rnd() * 100000)}.${String(i % 100).padStart(2, '0')}`,
      created_at: 1767225600000000 + i * 1000,
      active: i % 3 !== 0,
      payload: `{"sku":"SKU-${i % 5000}","qty":${i % 17},"note":"order ${i} for tenant ${i % 97}","flags":["a","b"]}`,
      version: (i % 5) + 1,
    };
  }
  return rows;
}

/** hyparquet-writer takes columns; the conversion (incl. int64 → bigint) is part of its timed work. */
function writeHyparquet(rows: Row[]): Uint8Array {
  const col = <T>(name: string, f: (v: unknown) => T) => rows.map((r) => f(r[name]));
  const buf = parquetWriteBuffer({
    codec: 'SNAPPY',
    rowGroupSize: 100_000,
    columnData: [
      { name: 'id', data: col('id', (v) => BigInt(v as number)), type: 'INT64' },
      { name: 'tenant', data: col('tenant', (v) => v as number), type: 'INT32' },
      { name: 'name', data: col('name', (v) => v as string), type: 'STRING' },
      { name: 'email', data: col('email', (v) => v as string), type: 'STRING' },
      { name: 'amount', data: col('amount', (v) => v as number), type: 'DOUBLE' },
      // No DECIMAL shortcut in hyparquet-writer's basic types: written as its text (not equal work).
      { name: 'price', data: col('price', (v) => v as string), type: 'STRING' },
      { name: 'created_at', data: col('created_at', (v) => BigInt(v as number)), type: 'INT64' },
      { name: 'active', data: col('active', (v) => v as boolean), type: 'BOOLEAN' },
      { name: 'payload', data: col('payload', (v) => v as string), type: 'STRING' },
      { name: 'version', data: col('version', (v) => BigInt(v as number)), type: 'INT64' },
    ],
  });
  return new Uint8Array(buf);
}

interface Result {
  case: string;
  ms: number[];
  /** Process CPU time per run: less sensitive than wall time to other load on a shared machine. */
  cpuMs: number[];
  bytes?: number;
}

async function time(name: string, f: () => Promise<number | undefined> | number | undefined): Promise<Result> {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let bytes: number | undefined;
  for (let r = 0; r < RUNS; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    bytes = await f();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
  }
  const res: Result = bytes === undefined ? { case: name, ms, cpuMs } : { case: name, ms, cpuMs, bytes };
  console.log(JSON.stringify({ ...res, ms: ms.map(Math.round), cpuMs: cpuMs.map(Math.round) }));
  return res;
}

async function main(): Promise<void> {
  await fs.mkdir(args.out, { recursive: true });
  const rows = generate(N);
  const file = (n: string) => path.join(args.out, n);
  const results: Result[] = [];

  for (const codec of ['snappy', 'zstd'] as ParquetCompression[]) {
    results.push(
      await time(`write parquet-wasm ${codec}`, async () => {
        const bytes = writeParquet(schema, rows, { metaColumns: false, compression: codec });
        await fs.writeFile(file(`wasm-${codec}.parquet`), bytes);
        return bytes.byteLength;
      }),
    );
  }
  results.push(
    await time('write hyparquet-writer snappy', async () => {
      const bytes = writeHyparquet(rows);
      await fs.writeFile(file('hyparquet-snappy.parquet'), bytes);
      return bytes.byteLength;
    }),
  );

  const snappy = file('wasm-snappy.parquet');
  results.push(
    await time('read 2 columns (email, version) → rows, projected async reader', async () => {
      const bytes = new Uint8Array(await fs.readFile(snappy));
      const t = await readParquetColumns(bytes, { columns: ['email', 'version'] });
      const out = arrowToRows(t, { ...schema, fields: schema.fields.filter((f) => f.name === 'email' || f.name === 'version') });
      if (out.length !== N) throw new Error(`read ${out.length} rows`);
      return undefined;
    }),
  );
  results.push(
    await time('read 2 columns (email, version) → rows, sync reader (decodes all)', async () => {
      const bytes = new Uint8Array(await fs.readFile(snappy));
      const out = arrowToRows(readParquet(bytes, { columns: ['email', 'version'] }));
      if (out.length !== N) throw new Error(`read ${out.length} rows`);
      return undefined;
    }),
  );
  results.push(
    await time('read all 10 columns → rows (typed by schema)', async () => {
      const bytes = new Uint8Array(await fs.readFile(snappy));
      const out = arrowToRows(readParquet(bytes), schema);
      if (out.length !== N || out[N - 1]!.id !== N) throw new Error('bad read');
      return undefined;
    }),
  );

  console.log(`\n${N.toLocaleString('en')} rows × ${schema.fields.length} columns, ${RUNS} runs, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}\n`);
  console.log('| case | wall ms min | wall ms median | rows/s (median wall) | CPU ms median | file MB |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    const sorted = [...r.ms].sort((a, b) => a - b);
    const med = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const mb = r.bytes === undefined ? '' : (r.bytes / 1e6).toFixed(1);
    const cpu = [...r.cpuMs].sort((a, b) => a - b)[Math.floor((r.cpuMs.length - 1) / 2)]!;
    console.log(`| ${r.case} | ${Math.round(sorted[0]!)} | ${Math.round(med)} | ${Math.round(N / (med / 1000)).toLocaleString('en')} | ${Math.round(cpu)} | ${mb} |`);
  }
}

await main();
