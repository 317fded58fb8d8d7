import { allWriteStats } from '../hudi/commit-metadata.js';
import { parseBaseFileName, parseLogFileName } from '../hudi/file-name.js';
import { decodeAvroDataContent, decodeDeleteContent, readLogBlocks } from '../hudi/log-block.js';
import { InstantNotRetained, assertRetained as assertInstantRetained, earliestRetainedInstant } from './cleaner.js';
import { selectSlices, groupKey, type FileSlice } from './fs-view.js';
import { withMetaFields } from './meta-fields.js';
import { arrowToRows, readParquet } from './parquet.js';
import { compareKeys, recordKeyParts } from './record-key.js';
import { nonNull, type Row, type TableSchema, type Value } from './schema.js';
import { joinFields, readLatestRows, withFields, type RowFields, type SliceReadOptions } from './slice-reader.js';
import { replacedGroups, type HudiTable } from './table.js';
import { WRITE_ACTIONS, type TimelineInstant } from './timeline.js';

/**
 * Queries over a table: snapshot (merge-on-read), read-optimized (base files
 * only), time travel, incremental `(since, until]` (latest state of the rows
 * changed in that range) and `changes` (every insert/update/delete per commit,
 * from the log blocks). Same rules as hudi-rs, so both agree row for row.
 */

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

export interface ReadStats {
  filesRead: number;
  bytesRead: number;
}

export interface QueryResult {
  /** The schema of the returned rows (meta fields first when asked for). */
  schema: TableSchema;
  rows: Row[];
  stats: ReadStats;
}

export interface SnapshotOptions {
  asOf?: string;
  readOptimized?: boolean;
  /** Keep `_hoodie_*` and `_cdc_*` columns. */
  meta?: boolean;
  columns?: string[];
  /** Partition pruning: return false to skip a partition path. */
  partitionFilter?: (partitionPath: string) => boolean;
  rowFilter?: (row: Row) => boolean;
  limit?: number;
}

export interface IncrementalOptions extends Omit<SnapshotOptions, 'asOf' | 'readOptimized'> {
  since: string;
  until?: string;
}

function checkInstant(t: string, what: string): void {
  if (!/^\d{14}(\d{3})?$/.test(t)) throw new QueryError(`${what} "${t}" is not an instant time (yyyyMMddHHmmssSSS, as shown by \`cdc-lake timeline\`)`);
}

/** Hudi table versions whose layout this reader implements. */
export const READABLE_TABLE_VERSIONS: ReadonlySet<number> = new Set([6]);

/** Refuses tables of other versions (v8/v9 name completed instants and log files differently). */
export function assertReadableVersion(table: HudiTable): void {
  const v = table.config.tableVersion;
  if (!READABLE_TABLE_VERSIONS.has(v)) {
    throw new QueryError(
      `table ${table.name} has Hudi table version ${v}, which is unsupported: cdc-lake reads table version 6 only; read it with Spark or hudi-rs, or downgrade it with Hudi's table downgrade`,
    );
  }
}

function tableSchemaOf(table: HudiTable): TableSchema {
  if (table.schema === undefined) return { type: 'record', name: table.config.tableName, fields: [] };
  return table.schema;
}

/** Output schema after meta/projection choices. */
export function outputSchema(schema: TableSchema, opts: { meta?: boolean; columns?: string[] }): TableSchema {
  const full = withMetaFields(schema);
  let fields = full.fields;
  if (!opts.meta) fields = fields.filter((f) => !f.name.startsWith('_hoodie_') && !f.name.startsWith('_cdc_'));
  if (opts.columns !== undefined) {
    const byName = new Map(full.fields.map((f) => [f.name, f] as const));
    fields = opts.columns.map((c) => {
      const f = byName.get(c);
      if (f === undefined) throw new QueryError(`unknown column "${c}"; the table has: ${schema.fields.map((x) => x.name).join(', ')}`);
      return f;
    });
  }
  return { ...full, fields };
}

/**
 * Rows with exactly the schema's fields. A row that already has exactly those fields (the
 * common case: read with the current schema, all columns) is returned as it is instead of
 * copied; others (older log schemas, projections) get a new object in schema order.
 */
function project(rows: Row[], schema: TableSchema): Row[] {
  const names = schema.fields.map((f) => f.name);
  const count = names.length;
  const copy = withFields(names);
  const out = new Array<Row>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as Row;
    let exact = true;
    let seen = 0;
    for (const k in r) {
      if (k !== names[seen]) {
        exact = false;
        break;
      }
      seen++;
    }
    if (exact && seen === count) {
      for (let c = 0; c < count; c++) if (r[names[c] as string] === undefined) r[names[c] as string] = null;
      out[i] = r;
      continue;
    }
    out[i] = copy(r);
  }
  return out;
}

/**
 * Rows read from slices, with each row's partition path and record key beside it (the rows
 * may not hold them: a query of some columns reads only those).
 */
interface SliceRows {
  rows: Row[];
  keys: string[];
  parts: string[];
  stats: ReadStats;
  fields: RowFields;
}

/**
 * By partition path, then record key (deterministic output; the CLI and tests rely on it).
 * Row indices are sorted over the side arrays, so no object is made per row. Base files hold
 * their rows in key order, so each slice arrives as a sorted run and the sort merges runs.
 */
function sortRows({ rows, keys, parts }: SliceRows, keep?: (row: Row) => boolean): Row[] {
  const order: number[] = [];
  let partitioned = false;
  for (let i = 0; i < rows.length; i++) {
    if (keep !== undefined && !keep(rows[i] as Row)) continue;
    order.push(i);
    if (parts[i] !== parts[0]) partitioned = true;
  }
  const byKey = (a: number, b: number): number => compareKeys(keys[a] as string, keys[b] as string);
  order.sort(partitioned ? (a, b) => (parts[a] !== parts[b] ? ((parts[a] as string) < (parts[b] as string) ? -1 : 1) : byKey(a, b)) : byKey);
  const out = new Array<Row>(order.length);
  for (let i = 0; i < order.length; i++) out[i] = rows[order[i] as number] as Row;
  return out;
}

async function readSlices(table: HudiTable, slices: FileSlice[], opts: SliceReadOptions, readOptimized: boolean): Promise<SliceRows> {
  const out: SliceRows = { rows: [], keys: [], parts: [], stats: { filesRead: 0, bytesRead: 0 }, fields: undefined };
  for (const slice of slices) {
    const s = readOptimized ? { ...slice, logs: [] } : slice;
    const latest = await readLatestRows(table.store, s, opts);
    out.stats.filesRead += (s.base ? 1 : 0) + s.logs.length;
    out.stats.bytesRead += latest.bytesRead;
    out.fields = joinFields(out.fields, latest.fields);
    for (let i = 0; i < latest.rows.length; i++) {
      out.rows.push(latest.rows[i] as Row);
      out.keys.push(latest.keys[i] as string);
      out.parts.push(slice.partition);
    }
  }
  return out;
}

/** Whether rows with `fields` are already exactly the schema's (then they need no projection). */
function hasExactly(fields: RowFields, schema: TableSchema): boolean {
  return Array.isArray(fields) && fields.length === schema.fields.length && schema.fields.every((f, i) => f.name === fields[i]);
}

function finish(read: SliceRows, schema: TableSchema, opts: SnapshotOptions): Row[] {
  let out = sortRows(read, opts.rowFilter);
  if (opts.limit !== undefined) out = out.slice(0, opts.limit);
  return hasExactly(read.fields, schema) ? out : project(out, schema);
}

/**
 * What slices read: with no row filter, only the output fields (a filter may look at any
 * field, so it gets whole rows and the projection comes after it).
 */
function sliceOpts(table: HudiTable, asOf: string, schema: TableSchema, opts: SnapshotOptions): SliceReadOptions {
  const base = table.readOpts(asOf);
  return opts.rowFilter === undefined ? { ...base, fields: schema.fields.map((f) => f.name) } : base;
}

/** The latest completed instant at or before `asOf`, or an error saying what exists. */
function resolveAsOf(table: HudiTable, asOf: string | undefined): string {
  const last = table.timeline.lastCompleted()?.timestamp;
  if (asOf === undefined) return last ?? '';
  checkInstant(asOf, '--as-of');
  return asOf;
}

export async function readSnapshot(table: HudiTable, opts: SnapshotOptions = {}): Promise<QueryResult> {
  assertReadableVersion(table);
  const asOf = resolveAsOf(table, opts.asOf);
  const schema = outputSchema(tableSchemaOf(table), opts);
  if (asOf === '') return { schema, rows: [], stats: { filesRead: 0, bytesRead: 0 } };
  // Time travel before what cleaning kept would read a partial table: refuse it by name.
  if (opts.asOf !== undefined) await assertInstantRetained(table, asOf);
  const slices = table.liveSlices(asOf).filter((s) => opts.partitionFilter?.(s.partition) ?? true);
  await assertRetained(table, slices);
  const read = await readSlices(table, slices, sliceOpts(table, asOf, schema, opts), opts.readOptimized === true);
  return { schema, rows: finish(read, schema, opts), stats: read.stats };
}

/** Completed write instants in (since, until]. */
export function instantsBetween(table: HudiTable, since: string, until: string | undefined): TimelineInstant[] {
  checkInstant(since, '--since');
  if (until !== undefined) checkInstant(until, '--until');
  return table.timeline.completed(WRITE_ACTIONS).filter((i) => i.timestamp > since && (until === undefined || i.timestamp <= until));
}

export async function readIncremental(table: HudiTable, opts: IncrementalOptions): Promise<QueryResult> {
  assertReadableVersion(table);
  const instants = instantsBetween(table, opts.since, opts.until);
  const schema = outputSchema(tableSchemaOf(table), opts);
  const until = opts.until ?? table.timeline.lastCompleted()?.timestamp ?? opts.since;
  // Rows are read from the slices as of `until` (each keeps its commit time), so any start
  // works while `until` itself is retained by cleaning.
  if (instants.length > 0) await assertInstantRetained(table, until);
  // A range that reaches into the archived timeline cannot list its commits: read every live
  // slice and keep rows by commit time (Hudi's full-table-scan fallback).
  const scanAll = await table.timeline.reachesArchive(opts.since);
  const touched = new Set<string>();
  // Files the range's commits wrote: only those can hold rows committed in it.
  const written = new Set<string>();
  for (const i of instants) {
    const meta = await table.timeline.commitMetadata(i);
    for (const s of allWriteStats(meta)) {
      touched.add(groupKey(s.partitionPath ?? '', s.fileId));
      written.add(s.path.slice(s.path.lastIndexOf('/') + 1));
      for (const l of s.logFiles ?? []) written.add(l);
    }
  }
  const slices = selectSlices(table.view, {
    asOf: until,
    completed: table.timeline.committed(),
    replaced: new Set([...(await replacedGroups(table.timeline))].filter(([, at]) => at <= until).map(([k]) => k)),
  })
    .filter((s) => (scanAll || touched.has(groupKey(s.partition, s.fileId))) && (opts.partitionFilter?.(s.partition) ?? true))
    // A base file written at or before `since` holds no row of the range; logs not written in it hold none either.
    .map((s): FileSlice => {
      const { base, ...rest } = s;
      return { ...rest, ...(base !== undefined && base.instant > opts.since ? { base } : {}), logs: scanAll ? s.logs : s.logs.filter((l) => written.has(l.name)) };
    });
  await assertRetained(table, slices);
  const read = await readSlices(table, slices, { ...table.readOpts(until), since: opts.since }, false);
  return { schema, rows: finish(read, schema, opts), stats: read.stats };
}

async function assertRetained(table: HudiTable, slices: FileSlice[]): Promise<void> {
  for (const s of slices) {
    if (s.base !== undefined && (await table.store.head(s.base.path)) === undefined) {
      throw new QueryError(`${s.base.path} was removed by cleaning; query a newer instant (see \`cdc-lake timeline\`)`);
    }
  }
}

// --- changes ---------------------------------------------------------------

export type ChangeOp = 'c' | 'r' | 'u' | 'd' | 't';

export interface ChangeRow {
  instant: string;
  op: ChangeOp;
  key: string;
  row: Row;
}

function keyRow(key: string, fields: readonly string[], schema: TableSchema): Row {
  const parts = recordKeyParts(key, fields);
  const row: Row = {};
  fields.forEach((f, i) => {
    const text = parts[i] ?? null;
    const type = schema.fields.find((x) => x.name === f)?.type;
    row[f] = text === null || text === '__null__' ? null : typedKey(text, type === undefined ? 'string' : nonNull(type));
  });
  return row;
}

function typedKey(text: string, type: unknown): Value {
  const name = typeof type === 'string' ? type : (type as { type?: string }).type;
  if ((name === 'int' || name === 'long') && /^-?\d+$/.test(text)) {
    const n = BigInt(text);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  return text;
}

/**
 * Every change committed in (since, until], in commit order: inserts and updates
 * from data blocks and new base files, deletes from delete blocks, a `t` row for a
 * TRUNCATE. Compactions and schema rewrites add no changes.
 */
export async function readChanges(table: HudiTable, opts: { since: string; until?: string; meta?: boolean; columns?: string[] }): Promise<{ schema: TableSchema; changes: ChangeRow[]; stats: ReadStats }> {
  assertReadableVersion(table);
  const instants = instantsBetween(table, opts.since, opts.until);
  if (await table.timeline.reachesArchive(opts.since)) {
    // The commits between `since` and the active timeline were archived: their changes cannot be listed.
    throw new InstantNotRetained(opts.since, (await earliestRetainedInstant(table)) ?? (table.timeline.instants[0] as TimelineInstant).timestamp);
  }
  const dataSchema = tableSchemaOf(table);
  const schema = outputSchema(dataSchema, opts);
  const changes: ChangeRow[] = [];
  const stats: ReadStats = { filesRead: 0, bytesRead: 0 };
  for (const i of instants) {
    if (i.compaction) continue;
    const meta = await table.timeline.commitMetadata(i);
    if (i.action === 'replacecommit') {
      changes.push({ instant: i.timestamp, op: 't', key: '', row: {} });
      continue;
    }
    for (const stat of allWriteStats(meta)) {
      const path = table.base === '' ? stat.path : `${table.base}/${stat.path}`;
      const name = stat.path.slice(stat.path.lastIndexOf('/') + 1);
      let bytes: Uint8Array;
      try {
        bytes = await table.store.get(path);
      } catch {
        throw new QueryError(`changes of ${i.timestamp} are no longer retained (${stat.path} was cleaned); use a later --since`);
      }
      stats.filesRead++;
      stats.bytesRead += bytes.byteLength;
      if (parseLogFileName(name) !== undefined) {
        for (const block of readLogBlocks(bytes, path)) {
          if (block.headers.INSTANT_TIME !== i.timestamp) continue;
          if (block.type === 'AVRO_DATA') {
            for (const row of decodeAvroDataContent(block.content, block.headers.SCHEMA ?? '', path)) {
              changes.push({ instant: i.timestamp, op: opOf(row), key: String(row._hoodie_record_key), row });
            }
          } else if (block.type === 'DELETE') {
            for (const d of decodeDeleteContent(block.content, path)) {
              const key = String(d.recordKey);
              const row: Row = { ...keyRow(key, table.config.recordKeyFields, dataSchema), _hoodie_record_key: key, _hoodie_partition_path: d.partitionPath, _hoodie_commit_time: i.timestamp, _cdc_op: 'd' };
              // The delete's source position lives in the block's ordering value (0 = none recorded).
              const ordering = table.config.orderingField;
              if (ordering !== '' && d.orderingVal !== 0 && d.orderingVal !== 0n && d.orderingVal !== null) row[ordering] = d.orderingVal;
              changes.push({ instant: i.timestamp, op: 'd', key, row });
            }
          }
        }
      } else if (parseBaseFileName(name) !== undefined) {
        const rows = arrowToRows(readParquet(bytes, { fileName: path }), withMetaFields(dataSchema));
        for (const row of rows) {
          if (row._hoodie_commit_time !== i.timestamp) continue; // rows carried over by a schema rewrite
          changes.push({ instant: i.timestamp, op: opOf(row), key: String(row._hoodie_record_key), row });
        }
      }
    }
  }
  // Commit order; within a commit by key, so output is deterministic.
  changes.sort((a, b) => (a.instant !== b.instant ? (a.instant < b.instant ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const names = new Set(schema.fields.map((f) => f.name));
  for (const c of changes) {
    const o: Row = {};
    for (const n of names) o[n] = c.row[n] ?? null;
    c.row = o;
  }
  return { schema, changes, stats };
}

function opOf(row: Row): ChangeOp {
  const op = row._cdc_op;
  return op === 'c' || op === 'r' || op === 'u' || op === 'd' ? op : 'u';
}

