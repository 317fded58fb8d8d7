import type { ObjectStore } from '../storage/object-store.js';
import { openStore } from '../storage/open-store.js';
import { discoverTables, openLakeTable } from '../pipeline/lake.js';
import { CHECKPOINT_KEY } from '../pipeline/checkpoint.js';
import { readConsumer, saveConsumer } from '../query/consumers.js';
import { createWriter, defaultOutputFormat, fileSink, parseOutputFormat, stdoutSink, type OutputFormat } from '../query/output/index.js';
import { parsePredicate, partitionFilter, rowFilter } from '../query/where.js';
import { readArchivedTimeline } from '../table/archiver.js';
import { readChanges, readIncremental, readSnapshot, type QueryResult } from '../table/reader.js';
import type { Row, TableSchema } from '../table/schema.js';
import { withMetaFields } from '../table/meta-fields.js';
import { UsageError } from './errors.js';

/** `tables`, `timeline` and `query …`: read-only commands over a lake. */

export interface OutputFlags {
  format?: string;
  out?: string;
}

export interface QueryFlags extends OutputFlags {
  lake: string;
  table: string;
  asOf?: string;
  since?: string;
  until?: string;
  consumer?: string;
  columns?: string;
  where?: string[];
  limit?: string;
  meta?: boolean;
  readOptimized?: boolean;
}

export function lakeStore(uri: string): ObjectStore {
  return openStore(uri);
}

function outputFormat(flags: OutputFlags): OutputFormat {
  const format = flags.format === undefined ? defaultOutputFormat(process.stdout.isTTY === true) : parseOutputFormat(flags.format);
  if (format === 'parquet' && flags.out === undefined) throw new UsageError('--format parquet needs --out <file>');
  return format;
}

export async function emit(schema: TableSchema, rows: readonly Row[], flags: OutputFlags): Promise<number> {
  const format = outputFormat(flags);
  const sink = flags.out === undefined ? stdoutSink() : fileSink(flags.out);
  const writer = createWriter(format, schema, sink);
  await writer.write(rows);
  return writer.end();
}

const STRING = ['null', 'string'] as TableSchema['fields'][number]['type'];
const LONG = ['null', 'long'] as TableSchema['fields'][number]['type'];

function plainSchema(name: string, fields: [string, TableSchema['fields'][number]['type']][]): TableSchema {
  return { type: 'record', name, fields: fields.map(([n, type]) => ({ name: n, type, default: null })) };
}

export async function tablesCommand(flags: OutputFlags & { lake: string }): Promise<void> {
  const store = lakeStore(flags.lake);
  const rows: Row[] = [];
  for (const id of await discoverTables(store)) {
    const t = await openLakeTable(store, id.id);
    const last = t.timeline.lastCompleted();
    rows.push({ table: id.id, path: id.path, hudi_table: t.config.tableName, last_instant: last?.timestamp ?? null, commits: t.timeline.completed().length, columns: t.schema?.fields.length ?? 0 });
  }
  await emit(plainSchema('tables', [['table', STRING], ['path', STRING], ['hudi_table', STRING], ['last_instant', STRING], ['commits', LONG], ['columns', LONG]]), rows, flags);
}

/** What a timeline row shows of a commit's metadata, in its JSON (active) or Avro (archived) form: the same field names. */
function commitFacts(meta: { operationType?: unknown; partitionToWriteStats?: unknown; extraMetadata?: unknown }): Row {
  const stats = Object.values((meta.partitionToWriteStats ?? {}) as Record<string, { numWrites?: number | null; numDeletes?: number | null }[]>).flat();
  const checkpoint = (meta.extraMetadata as Record<string, unknown> | null | undefined)?.[CHECKPOINT_KEY];
  return {
    operation: typeof meta.operationType === 'string' ? meta.operationType : null,
    files: stats.length,
    records: stats.reduce((n, s) => n + Number(s.numWrites ?? 0) + Number(s.numDeletes ?? 0), 0),
    checkpoint: typeof checkpoint === 'string' ? checkpoint : null,
  };
}

export async function timelineCommand(flags: OutputFlags & { lake: string; table: string; archived?: boolean }): Promise<void> {
  const table = await openLakeTable(lakeStore(flags.lake), flags.table);
  const rows: Row[] = [];
  if (flags.archived === true) {
    // Completed instants only, one row each, as the active ones; their state says where they are.
    for (const a of await readArchivedTimeline(table.store, table.base)) {
      if (a.state !== 'completed') continue;
      const facts = a.commitMetadata === undefined ? { operation: null, files: null, records: null, checkpoint: null } : commitFacts(a.commitMetadata);
      rows.push({ instant: a.timestamp, action: facts.operation === 'COMPACT' ? 'compaction' : a.action, state: 'archived', ...facts });
    }
  }
  for (const i of table.timeline.instants) {
    const row: Row = { instant: i.timestamp, action: i.compaction ? 'compaction' : i.action, state: i.state, operation: null, files: null, records: null, checkpoint: null };
    if (i.state === 'completed' && (i.action === 'deltacommit' || i.action === 'commit' || i.action === 'replacecommit')) {
      Object.assign(row, commitFacts(await table.timeline.commitMetadata(i)));
    }
    rows.push(row);
  }
  await emit(
    plainSchema('timeline', [['instant', STRING], ['action', STRING], ['state', STRING], ['operation', STRING], ['files', LONG], ['records', LONG], ['checkpoint', STRING]]),
    rows,
    flags,
  );
  const first = table.timeline.instants[0]?.timestamp;
  if (flags.archived !== true && first !== undefined && (await table.timeline.reachesArchive('00000000000000000'))) {
    process.stderr.write(`${flags.table}: instants before ${first} were archived to .hoodie/archived (Hudi's archived timeline); --archived lists them too\n`);
  }
}

function limitOf(flags: QueryFlags): number | undefined {
  if (flags.limit === undefined) return undefined;
  const n = Number(flags.limit);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--limit ${flags.limit} must be a non-negative integer`);
  return n;
}

export async function queryCommand(kind: 'snapshot' | 'incremental' | 'changes', flags: QueryFlags): Promise<void> {
  const store = lakeStore(flags.lake);
  const table = await openLakeTable(store, flags.table);
  const columns = flags.columns?.split(',').map((c) => c.trim()).filter((c) => c !== '');
  const preds = (flags.where ?? []).map(parsePredicate);
  const schema = withMetaFields(table.schema ?? { type: 'record', name: table.config.tableName, fields: [] });
  const common = {
    ...(flags.meta ? { meta: true } : {}),
    ...(columns ? { columns } : {}),
    ...(limitOf(flags) === undefined ? {} : { limit: limitOf(flags) as number }),
  };
  const filters = {
    ...(rowFilter(preds, schema) ? { rowFilter: rowFilter(preds, schema) as (r: Row) => boolean } : {}),
    ...(partitionFilter(preds, table.config.partitionField, schema) ? { partitionFilter: partitionFilter(preds, table.config.partitionField, schema) as (p: string) => boolean } : {}),
  };
  if (kind === 'snapshot') {
    const r: QueryResult = await readSnapshot(table, { ...common, ...filters, ...(flags.asOf ? { asOf: flags.asOf } : {}), ...(flags.readOptimized ? { readOptimized: true } : {}) });
    await emit(r.schema, r.rows, flags);
    return;
  }
  // `--since 0` reads from the beginning of the timeline.
  let since = flags.since === '0' ? '00000000000000000' : flags.since;
  if (flags.consumer !== undefined) {
    if (since !== undefined) throw new UsageError('give either --since or --consumer, not both');
    since = (await readConsumer(store, table.base, flags.consumer))?.lastInstant ?? '00000000000000000';
  }
  if (since === undefined) throw new UsageError(`query ${kind} needs --since <instant> or --consumer <name>`);
  const until = flags.until ?? table.timeline.lastCompleted()?.timestamp;
  if (kind === 'incremental') {
    const r = await readIncremental(table, { ...common, ...filters, since, ...(flags.until ? { until: flags.until } : {}) });
    await emit(r.schema, r.rows, flags);
  } else {
    const r = await readChanges(table, { since, ...(flags.until ? { until: flags.until } : {}), ...(flags.meta ? { meta: true } : {}), ...(columns ? { columns } : {}) });
    const out: TableSchema = { ...r.schema, fields: [{ name: '_change_instant', type: STRING, default: null }, { name: '_change_op', type: STRING, default: null }, ...r.schema.fields] };
    let rows = r.changes.map((c) => ({ _change_instant: c.instant, _change_op: c.op, ...c.row }));
    if (filters.rowFilter) rows = rows.filter((row) => row._change_op === 't' || filters.rowFilter!(row));
    if (common.limit !== undefined) rows = rows.slice(0, common.limit);
    await emit(out, rows, flags);
  }
  if (flags.consumer !== undefined && until !== undefined) await saveConsumer(store, table.base, flags.consumer, until);
}
