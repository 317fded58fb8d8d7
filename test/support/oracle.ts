/**
 * Cross-engine comparison for interop tests: runs hudi-rs through
 * scripts/oracle/hudi_read.py and turns its JSONL AND our reader's rows into one
 * canonical form, so `assert.deepStrictEqual(ours, theirs)` compares values, not
 * encodings.
 *
 * Canonical form (matches the oracle's docstring):
 * - integers (int, long, also a double that is integral) → bigint, exact;
 *   other floats → number; NaN/±Infinity → "NaN"/"Infinity"/"-Infinity"
 * - decimal → string with its scale; date → "YYYY-MM-DD";
 *   timestamp → ISO-8601 UTC with "Z" (Python `isoformat`: fraction only when non-zero, 6 digits)
 * - bytes → base64; time → "HH:MM:SS[.ffffff]"
 * Integers are parsed losslessly (JSON.parse would round longs beyond 2^53).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isLosslessNumber, parse as losslessParse } from 'lossless-json';
import { nonNull, type AvroType, type Row, type TableSchema, type Value } from '../../src/table/schema.js';
import { run, stackEnv, type HudiOracleOptions } from './stack-env.js';
import { removeTempDir, tempDir } from './temp.js';

export type { HudiOracleOptions };

/** A canonical value: JSON-like, with bigint for every integral number. */
export type CanonicalValue = null | boolean | bigint | number | string | CanonicalValue[] | { [k: string]: CanonicalValue };
export type CanonicalRow = Record<string, CanonicalValue>;

/** The oracle exited non-zero: `code` 3 means hudi-rs could not read the table. */
export class OracleError extends Error {
  override readonly name = 'OracleError';
  constructor(message: string, readonly code: number, readonly stderr: string) {
    super(message);
  }
}

function canonicalNumber(text: string): CanonicalValue {
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const n = Number(text);
  return Number.isInteger(n) ? BigInt(n) : n;
}

function fromOracle(v: unknown): CanonicalValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (isLosslessNumber(v)) return canonicalNumber(v.toString());
  if (typeof v === 'number') return canonicalNumber(String(v));
  if (Array.isArray(v)) return v.map(fromOracle);
  if (typeof v === 'object') {
    const o: Record<string, CanonicalValue> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = fromOracle(x);
    return o;
  }
  throw new Error(`oracle output has an unexpected value ${String(v)}`);
}

/** Which engine reads the table: hudi-rs (Python `hudi`) or Spark 3.5 + the Hudi 0.15 bundle. */
export type Engine = 'hudi-rs' | 'spark' | 'trino';

/**
 * Reads a table with an engine's oracle script and returns canonical rows in the
 * oracle's order (partition path, record key, whole row). Throws OracleError when it fails.
 * Spark reads local paths only and has no `timeline` mode.
 */
export async function engineRows(engine: Engine, tablePath: string, opts: HudiOracleOptions = {}): Promise<CanonicalRow[]> {
  const env = stackEnv();
  const script = engine === 'spark' ? 'spark_read.py' : 'hudi_read.py';
  const python = engine === 'spark' ? env.spark.python : env.hudiPython;
  const args = [join(env.repoRoot, 'scripts', 'oracle', script), tablePath, '--mode', opts.mode ?? 'snapshot'];
  if (opts.asOf !== undefined) args.push('--as-of', opts.asOf);
  if (opts.start !== undefined) args.push('--start', opts.start);
  if (opts.end !== undefined) args.push('--end', opts.end);
  if (opts.columns !== undefined) args.push('--columns', opts.columns.join(','));
  const { stdout, stderr, code } = await run(python, args, { ...process.env, ...env.vars });
  if (code !== 0) {
    const tail = stderr.trim().split('\n').slice(-20).join('\n');
    throw new OracleError(`${engine} oracle failed (exit ${code}) reading ${opts.mode ?? 'snapshot'} of ${tablePath}: ${tail}`, code, stderr);
  }
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => fromOracle(losslessParse(l)) as CanonicalRow);
}

/** hudi-rs's rows (see engineRows). */
export function hudiRsRows(tablePath: string, opts: HudiOracleOptions = {}): Promise<CanonicalRow[]> {
  return engineRows('hudi-rs', tablePath, opts);
}

// --- our rows ------------------------------------------------------------------

const pad = (n: number | bigint, w = 2): string => String(n).padStart(w, '0');

function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** Python's `datetime.isoformat()` of a UTC instant given in microseconds, with "Z". */
export function isoMicros(micros: bigint): string {
  const secs = micros >= 0n ? micros / 1_000_000n : -((-micros + 999_999n) / 1_000_000n);
  const frac = micros - secs * 1_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  return `${base}${frac === 0n ? '' : `.${pad(frac, 6)}`}Z`;
}

function timeOfDay(micros: bigint): string {
  const s = micros / 1_000_000n;
  const frac = micros % 1_000_000n;
  return `${pad(s / 3600n)}:${pad((s / 60n) % 60n)}:${pad(s % 60n)}${frac === 0n ? '' : `.${pad(frac, 6)}`}`;
}

function big(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new Error(`expected an integer, got ${String(v)}`);
}

function logicalOf(type: AvroType | undefined): string | undefined {
  if (type === undefined) return undefined;
  const t = nonNull(type);
  return typeof t === 'object' && !Array.isArray(t) && 'logicalType' in t ? t.logicalType : undefined;
}

/** Canonicalises one of our values; `type` (the column's Avro type) says how dates/timestamps are meant. */
export function canonicalValue(v: Value | undefined, type?: AvroType): CanonicalValue {
  if (v === undefined || v === null) return null;
  const logical = logicalOf(type);
  if (logical === 'date' && typeof v === 'number') return isoDate(v);
  if (logical === 'timestamp-micros' && (typeof v === 'number' || typeof v === 'bigint')) return isoMicros(big(v));
  if (logical === 'timestamp-millis' && (typeof v === 'number' || typeof v === 'bigint')) return isoMicros(big(v) * 1000n);
  if (logical === 'time-micros' && (typeof v === 'number' || typeof v === 'bigint')) return timeOfDay(big(v));
  if (logical === 'time-millis' && typeof v === 'number') return timeOfDay(BigInt(v) * 1000n);
  if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  const t = type === undefined ? undefined : nonNull(type);
  if (Array.isArray(v)) {
    const items = typeof t === 'object' && !Array.isArray(t) && t.type === 'array' ? (t as { items: AvroType }).items : undefined;
    return v.map((x) => canonicalValue(x, items));
  }
  const fields = typeof t === 'object' && !Array.isArray(t) && t.type === 'record' ? (t as TableSchema).fields : [];
  const o: Record<string, CanonicalValue> = {};
  for (const [k, x] of Object.entries(v)) o[k] = canonicalValue(x, fields.find((f) => f.name === k)?.type);
  return o;
}

/** Canonical string of a row, for the oracle's tie-break order. */
function rowText(r: CanonicalRow): string {
  return JSON.stringify(Object.keys(r).sort().map((k) => [k, r[k]]), (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

/** Orders rows as the oracle does: partition path, record key, then the whole row. */
export function sortCanonical(rows: CanonicalRow[]): CanonicalRow[] {
  const key = (r: CanonicalRow): [string, string, string] => [String(r._hoodie_partition_path ?? ''), String(r._hoodie_record_key ?? ''), rowText(r)];
  return rows
    .map((r) => [key(r), r] as const)
    .sort(([a], [b]) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0))
    .map(([, r]) => r);
}

/** Our reader's rows in the oracle's canonical form and order; `schema` is the output schema of the query. */
export function canonicalRows(rows: readonly Row[], schema: TableSchema): CanonicalRow[] {
  const types = new Map(schema.fields.map((f) => [f.name, f.type] as const));
  return sortCanonical(
    rows.map((r) => {
      const o: CanonicalRow = {};
      for (const [k, v] of Object.entries(r)) o[k] = canonicalValue(v, types.get(k));
      return o;
    }),
  );
}

/** Re-sorts oracle rows with our comparator (JS string order), so both sides line up. */
export function sortOracle(rows: CanonicalRow[]): CanonicalRow[] {
  return sortCanonical(rows);
}

/** A short, readable summary of the first differing rows, for assertion messages. */
export function describeDiff(ours: readonly CanonicalRow[], theirs: readonly CanonicalRow[], max = 3, engine: Engine = 'hudi-rs'): string {
  const show = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  const out: string[] = [`ours ${ours.length} rows, ${engine} ${theirs.length} rows`];
  const n = Math.max(ours.length, theirs.length);
  for (let i = 0; i < n && out.length <= max; i++) {
    const a = ours[i];
    const b = theirs[i];
    if (show(a) === show(b)) continue;
    const cols = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
    const diffs = [...cols].filter((c) => show(a?.[c]) !== show(b?.[c])).map((c) => `${c}: ours ${show(a?.[c])} vs ${engine} ${show(b?.[c])}`);
    out.push(`row ${i} (${String(a?._hoodie_record_key ?? b?._hoodie_record_key)}): ${diffs.join('; ')}`);
  }
  return out.join('\n');
}

/** One query of a Spark batch (see test/interop/spark/spark_batch.py). */
export interface SparkQuery {
  /** `archived_timeline`: the instants Hudi's `HoodieArchivedTimeline` reads, as rows `{ts, action, state, details}`. */
  mode: 'snapshot' | 'read_optimized' | 'incremental' | 'archived_timeline';
  asOf?: string;
  start?: string;
  end?: string;
}

/** Rows an engine answered to one query (or table), or the error it raised for it. */
export type EngineAnswer = { rows: CanonicalRow[] } | { error: string };

/**
 * The answers of a batch script's output: one JSON line per row, `{<tag>: i, row}`, or
 * `{<tag>: i, error}` for a query that failed; `i` indexes `count` queries.
 */
function taggedAnswers(stdout: string, tag: 'q' | 't', count: number, engine: string): EngineAnswer[] {
  const answers: EngineAnswer[] = Array.from({ length: count }, () => ({ rows: [] }));
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const o = losslessParse(line) as Record<string, unknown> & { row?: unknown; error?: string };
    const i = Number(String(o[tag]));
    const a = answers[i];
    if (a === undefined) throw new Error(`${engine} answered unknown query ${String(o[tag])}`);
    if (o.error !== undefined) answers[i] = { error: o.error };
    else if ('rows' in a) a.rows.push(fromOracle(o.row) as CanonicalRow);
  }
  return answers;
}

/**
 * What an engine answered differently from our reader, one message per query (its error, or
 * the first differing rows); empty when every answer agrees. `ours(i, theirs)` reads our rows
 * for query `i`, given the engine's (sorted).
 */
export async function disagreements(
  engine: Engine,
  whats: readonly string[],
  answers: readonly EngineAnswer[],
  ours: (i: number, theirs: CanonicalRow[]) => Promise<CanonicalRow[]>,
): Promise<string[]> {
  const failures: string[] = [];
  for (const [i, what] of whats.entries()) {
    const a = answers[i];
    if (a === undefined || 'error' in a) {
      failures.push(`${what}: ${engine} failed: ${a === undefined ? 'no answer' : a.error}`);
      continue;
    }
    const theirs = sortOracle(a.rows);
    const mine = await ours(i, theirs);
    if (!isDeepStrictEqual(mine, theirs)) failures.push(`${what}: ${describeDiff(mine, theirs, 3, engine)}`);
  }
  return failures;
}

/**
 * Runs every query against one table in a single Spark session (one JVM start
 * instead of one per query) and returns the answers in query order.
 */
export async function sparkBatch(tablePath: string, queries: readonly SparkQuery[]): Promise<EngineAnswer[]> {
  const env = stackEnv();
  const dir = await tempDir('cdc-lake-spark-q-');
  try {
    const file = join(dir, 'queries.json');
    await writeFile(file, JSON.stringify(queries.map((q) => ({ mode: q.mode, as_of: q.asOf, start: q.start, end: q.end }))));
    const script = join(env.repoRoot, 'test', 'interop', 'spark', 'spark_batch.py');
    const { stdout, stderr, code } = await run(env.spark.python, [script, tablePath, file], { ...process.env, ...env.vars });
    if (code !== 0) throw new OracleError(`Spark batch failed (exit ${code}) on ${tablePath}: ${stderr.trim().split('\n').slice(-20).join('\n')}`, code, stderr);
    return taggedAnswers(stdout, 'q', queries.length, 'Spark batch');
  } finally {
    await removeTempDir(dir);
  }
}

/**
 * Reads local tables with Trino's own Hudi connector, one server start for all of them
 * (test/interop/trino/trino_batch.py: registered in a file metastore as a Hive sync would,
 * read-optimized: Trino 476 reads Merge-On-Read tables' base files only).
 */
export async function trinoBatch(tableDirs: readonly string[]): Promise<EngineAnswer[]> {
  const env = stackEnv();
  const script = join(env.repoRoot, 'test', 'interop', 'trino', 'trino_batch.py');
  const { stdout, stderr, code } = await run(env.hudiPython, [script, ...tableDirs], { ...process.env, ...env.vars });
  if (code !== 0) throw new OracleError(`Trino batch failed (exit ${code}): ${stderr.trim().split('\n').slice(-20).join('\n')}`, code, stderr);
  return taggedAnswers(stdout, 't', tableDirs.length, 'Trino batch');
}
