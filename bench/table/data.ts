/**
 * Shared inputs of the table benchmarks: a 10-column CDC-shaped table schema (+ the
 * `_cdc_*` columns the pipeline adds), deterministic rows, and the upsert plan of
 * issue #3 (first commit inserts, later commits ~20% updates of existing keys).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CDC_COLUMNS, withCdcColumns } from '../../src/pipeline/rows.js';
import { LocalStore } from '../../src/storage/local-store.js';
import type { Row, TableSchema } from '../../src/table/schema.js';
import { HudiTable } from '../../src/table/table.js';
import type { Mutation } from '../../src/table/write-plan.js';

const opt = <T>(t: T) => ['null', t] as never;

/** 10 user columns: key, low/high-cardinality text, numbers, decimal, timestamp, boolean, JSON text, version. */
export const USER_SCHEMA: TableSchema = {
  type: 'record',
  name: 'bench_orders',
  fields: [
    { name: 'id', type: opt('long'), default: null },
    { name: 'tenant', type: opt('int'), default: null },
    { name: 'name', type: opt('string'), default: null },
    { name: 'email', type: opt('string'), default: null },
    { name: 'amount', type: opt('double'), default: null },
    { name: 'price', type: opt({ type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 }), default: null },
    { name: 'created_at', type: opt({ type: 'long', logicalType: 'timestamp-micros' }), default: null },
    { name: 'active', type: opt('boolean'), default: null },
    { name: 'payload', type: opt({ type: 'string', 'cdc.semantic': 'json' }), default: null },
    { name: 'version', type: opt('long'), default: null },
  ],
};

/** What the pipeline writes: user columns, then the CDC columns. */
export const TABLE_SCHEMA: TableSchema = withCdcColumns(USER_SCHEMA);
export const CDC_COLUMN_COUNT = CDC_COLUMNS.length;

/**
 * A string as the daemon's decoder hands it over: flat. JSON.parse and the Avro decoder make
 * flat strings; a template literal of 13+ characters makes a rope (V8 cons string), which V8
 * flattens into a new string the first time a character of it is read — an allocation per
 * value that the Avro encoder would pay here and never pays on a decoded row.
 */
const flat = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

/** One row version of key `id`; `rev` changes the mutable columns, `position` is the ordering value. */
export function row(id: number, rev: number, position: number): Row {
  return {
    id,
    tenant: id % 97,
    name: flat(`customer-${(id * 7919 + rev) % 1000}`),
    email: flat(`user${id}.${(id * 31) % 9973}@example.com`),
    amount: ((id * 2654435761 + rev * 40503) % 100_000_000) / 100,
    price: flat(`${(id * 7 + rev * 13) % 100000}.${String((id + rev) % 100).padStart(2, '0')}`),
    created_at: 1767225600000000 + id * 1000,
    active: (id + rev) % 3 !== 0,
    payload: flat(`{"sku":"SKU-${id % 5000}","qty":${(id + rev) % 17},"note":"order ${id} rev ${rev}"}`),
    version: rev + 1,
    _cdc_op: rev === 0 ? 'c' : 'u',
    _cdc_source_ts_ms: 1767225600000 + position,
    _cdc_position: position,
    _cdc_tx_id: null,
  };
}

export interface UpsertPlan {
  /** One mutation list per commit. */
  commits: Mutation[][];
  /** The latest row per key after all commits, in key order (the "same final rows"). */
  finalRows: Row[];
  /** Every row written, in write order (the "same rows, once" baseline). */
  allRows: Row[];
}

/**
 * `total` upserts in `commits` commits of equal size: commit 1 inserts new keys; each
 * later commit updates `updateShare` of its rows (keys picked from the ones already
 * written, spread over the key space) and inserts the rest as new keys. Each commit's
 * mutations are made when asked for, so a consumer can hold one batch at a time, as the
 * daemon's writer does (it never holds the rows of earlier commits).
 */
export function* upsertCommits(total: number, commits: number, updateShare: number): Generator<Mutation[]> {
  const per = Math.floor(total / commits);
  // Version of each key's latest row (index = id), not the rows: nothing else stays live.
  const versions = new Uint32Array(per * commits + 1);
  let nextId = 1;
  let position = 1;
  for (let c = 0; c < commits; c++) {
    const ms: Mutation[] = [];
    const updates = c === 0 ? 0 : Math.round(per * updateShare);
    const existing = nextId - 1;
    for (let i = 0; i < per; i++) {
      const id = i < updates ? 1 + ((i * 2654435761 + c * 97) % existing) : nextId++;
      const r = row(id, versions[id] as number, position++);
      versions[id] = r.version as number;
      ms.push({ kind: 'upsert', row: r, ordering: BigInt(r._cdc_position as number) });
    }
    yield ms;
  }
}

export async function freshDir(name: string): Promise<string> {
  const base = process.env.BENCH_DIR ?? os.tmpdir();
  const dir = path.join(base, `cdc-lake-bench-${name}-${process.pid}`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** Total bytes of the files under `dir` (the table's size on disk). */
export async function dirBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) sum += (await fs.stat(path.join(e.parentPath, e.name))).size;
  }
  return sum;
}

/** Wall and process-CPU time of `f`. */
export async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; ms: number; cpuMs: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, ms, cpuMs: (c.user + c.system) / 1000 };
}

export function loadAvg(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(' ');
}

/** Median (the lower middle for an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;

/** The benchmark table (created under `dir` unless it exists). */
export function benchTable(dir: string, buckets: number): Promise<HudiTable> {
  return HudiTable.create(new LocalStore(dir), 'bench/orders', {
    tableName: 'orders',
    database: 'bench',
    recordKeyFields: ['id'],
    orderingField: '_cdc_position',
    buckets,
  });
}

/** One commit of `mutations`; returns its instant and bytes written. */
export async function commitBatch(table: HudiTable, mutations: Mutation[]): Promise<{ instant: string; bytes: number }> {
  const r = await table.commit({ schema: TABLE_SCHEMA, mutations });
  if (r.instant === undefined) throw new Error('bench commit wrote nothing; the upsert plan is broken');
  return { instant: r.instant, bytes: r.bytesWritten };
}

/** Writes the plan as a table under `dir`; returns the bytes written. */
export async function writeTable(dir: string, plan: UpsertPlan, buckets: number): Promise<{ table: HudiTable; bytes: number; instants: string[] }> {
  const table = await benchTable(dir, buckets);
  let bytes = 0;
  const instants: string[] = [];
  for (const mutations of plan.commits) {
    const c = await commitBatch(table, mutations);
    instants.push(c.instant);
    bytes += c.bytes;
  }
  return { table, bytes, instants };
}

/**
 * The read-benchmark table: commit 1 inserts `keys` rows (base files); then
 * `updateCommits` commits each update a distinct slice of the keys, `updateShare`
 * of all keys in total, so those updates live in log files.
 */
export function updatedKeysPlan(keys: number, updateShare: number, updateCommits: number): UpsertPlan {
  const latest: Row[] = [];
  const allRows: Row[] = [];
  let position = 1;
  const inserts: Mutation[] = [];
  for (let id = 1; id <= keys; id++) {
    const r = row(id, 0, position++);
    latest.push(r);
    allRows.push(r);
    inserts.push({ kind: 'upsert', row: r, ordering: BigInt(r._cdc_position as number) });
  }
  const commits: Mutation[][] = [inserts];
  const per = Math.floor((keys * updateShare) / updateCommits);
  // Every 1/updateShare-th key is updated once, spread over the key space (and so over all buckets).
  const step = Math.max(1, Math.round(1 / updateShare));
  let k = 0;
  for (let c = 0; c < updateCommits; c++) {
    const ms: Mutation[] = [];
    for (let i = 0; i < per; i++, k++) {
      const id = 1 + ((k * step) % keys);
      const r = row(id, 1, position++);
      latest[id - 1] = r;
      allRows.push(r);
      ms.push({ kind: 'upsert', row: r, ordering: BigInt(r._cdc_position as number) });
    }
    commits.push(ms);
  }
  return { commits, finalRows: latest, allRows };
}
