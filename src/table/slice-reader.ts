import { Type, type Table } from 'apache-arrow';
import {
  ROLLBACK_COMMAND, avroDataFields, decodeAvroDataContent, decodeAvroDataProjected, decodeDeleteContent, decodeParquetDataContent, readLogBlocks, type LogBlock,
} from '../hudi/log-block.js';
import type { ObjectStore } from '../storage/object-store.js';
import { UnsupportedColumnType, columnKind } from './arrow-schema.js';
import { arrowToRows, columnCells, columnValues, readParquet, readParquetColumns } from './parquet.js';
import type { FileSlice, LogFile } from './fs-view.js';
import { LogFold, mergeBaseWithLogs, mergeSlice, type LogState, type MergedSlice, type SliceRecord } from './merge.js';
import type { Row, TableSchema, Value } from './schema.js';
import type { Committed } from './timeline.js';

/**
 * Reads one file slice into records and deletes, honouring the timeline: log
 * blocks of instants that are not completed (or after `asOf`) are skipped, and
 * rollback command blocks cancel the blocks of their target instant — as hudi-rs
 * and Java readers do.
 */

export interface SliceReadOptions {
  asOf: string;
  /** Instants whose blocks are committed data (`Timeline.committed`): blocks of any other are ignored. */
  completed: Committed;
  orderingField: string;
  /** Only records committed in (since, asOf]; used by incremental reads. */
  since?: string;
  /** The table schema, for typed Parquet conversion; undefined reads files by their own schema. */
  schema?: TableSchema;
  /**
   * The row fields a snapshot returns, in order (`readLatestRows` only; undefined: all). Base
   * rows are then built with these alone, which spares a 19-field object per row when a query
   * wants its columns and not the `_hoodie_*` ones.
   */
  fields?: readonly string[];
}

/**
 * The field names, in order, that every row of a read has (`'mixed'` once two sources differ or
 * one is not known; undefined before any source). Lets a query skip checking rows one by one.
 */
export type RowFields = readonly string[] | 'mixed' | undefined;

/** The fields of rows from two sources together. */
export function joinFields(a: RowFields, b: RowFields): RowFields {
  if (a === undefined) return b;
  if (b === undefined || a === b) return a;
  if (a === 'mixed' || b === 'mixed' || a.length !== b.length) return 'mixed';
  return a.every((n, i) => n === b[i]) ? a : 'mixed';
}

export interface SliceContents {
  /** The base file's records. */
  base: SliceRecord[];
  /** The log blocks' records and deletes, folded in log order. */
  log: LogFold;
  bytesRead: number;
  /** The fields of every record's row. */
  fields: RowFields;
}

export interface InstantBlock {
  instant: string;
  block: LogBlock;
  file: LogFile;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

function toRecord(row: Row, orderingField: string, fallbackInstant: string): SliceRecord {
  return sliceRecord(row, row._hoodie_record_key, row[orderingField], row._hoodie_commit_time, row._hoodie_commit_seqno, fallbackInstant);
}

/** A merge record of `row` from its key, ordering, commit time (else the block's instant) and seqno values. */
function sliceRecord(row: Row, key: Value | undefined, ordering: Value | undefined, commitTime: Value | undefined, seqno: Value | undefined, fallbackInstant: string): SliceRecord {
  return { key: str(key), ordering: ordering ?? null, commitTime: str(commitTime) || fallbackInstant, seqno: str(seqno), row };
}

/** Meta columns that hold one value per base file when one commit wrote it (file name, its instant, partition). */
const PER_FILE_COLUMNS = ['_hoodie_commit_time', '_hoodie_partition_path', '_hoodie_file_name'];

/**
 * The value of a UTF-8 column whose every cell holds the same bytes (no nulls), else undefined.
 * Comparing the bytes in place is far cheaper than a fresh string per row (at 1M rows the file
 * name alone was ~100 MB of strings for the collector to copy). Cells of one length L start
 * L bytes apart, and the bytes then equal themselves shifted by L exactly when every cell
 * repeats the first: one native comparison per chunk, not one per row.
 */
function sameText(file: Table, name: string): string | undefined {
  const column = file.getChild(name);
  if (column === null || column.data.length === 0) return undefined;
  let text: Buffer | undefined;
  for (const d of column.data) {
    if (d.typeId !== Type.Utf8 || d.nullCount !== 0 || d.offset !== 0 || d.length === 0) return undefined;
    const values = d.values as Uint8Array;
    const offsets = d.valueOffsets as Int32Array;
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const start = offsets[0] as number;
    text ??= Buffer.from(bytes.subarray(start, offsets[1]));
    const width = text.length;
    for (let i = 1; i <= d.length; i++) if ((offsets[i] as number) !== start + i * width) return undefined;
    const end = start + d.length * width;
    if (bytes.compare(text, 0, width, start, start + width) !== 0) return undefined;
    if (bytes.compare(bytes, start, end - width, start + width, end) !== 0) return undefined;
  }
  return text?.toString('utf8');
}

/**
 * Base file rows typed by the table schema, with the schema's fields or only `fields` (in that
 * order). Columns whose Avro type our typed conversion does not cover (Spark tables may have
 * maps) are read as the file stores them, so foreign tables stay readable. Per-file meta columns
 * whose cells are all equal are read once and shared by every row. With `only`, just the rows
 * i with only[i] = 1 are built (the others are holes).
 */
export function baseFileRows(file: Table, schema: TableSchema | undefined, fields?: readonly string[], only?: Uint8Array): Row[] {
  if (schema === undefined) return arrowToRows(file, undefined, only);
  const out = asked(schema, fields);
  const typed = out.fields.filter((f) => {
    try {
      columnKind(f.name, f.type);
      return true;
    } catch (e) {
      if (e instanceof UnsupportedColumnType) return false;
      throw e;
    }
  });
  const shared = new Map<string, string>();
  for (const name of PER_FILE_COLUMNS) {
    const text = typed.some((f) => f.name === name) ? sameText(file, name) : undefined;
    if (text !== undefined) shared.set(name, text);
  }
  // Without those columns arrowToRows gives null in their place (field order kept); then filled.
  const rest = shared.size === 0 ? file : file.select(file.schema.fields.map((f) => f.name).filter((n) => !shared.has(n)));
  const rows = arrowToRows(rest, { ...out, fields: typed }, only);
  // forEach and map skip holes: rows not built stay holes.
  for (const [name, text] of shared) rows.forEach((row) => void (row[name] = text));
  if (typed.length === out.fields.length) return rows;
  const raw = arrowToRows(file, undefined, only);
  return rows.map((r, i) => {
    const o: Row = {};
    for (const f of out.fields) o[f.name] = f.name in r ? (r[f.name] ?? null) : (raw[i]?.[f.name] ?? null);
    return o;
  });
}

/** The schema's fields, or only the asked ones that it has, in the asked order. */
function asked(schema: TableSchema, fields: readonly string[] | undefined): TableSchema {
  return fields === undefined ? schema : { ...schema, fields: fields.flatMap((n) => schema.fields.filter((f) => f.name === n)) };
}

/** The fields of `baseFileRows` with this schema: exactly the schema's (or the asked ones), in order. */
function baseFileFields(schema: TableSchema | undefined, fields?: readonly string[]): RowFields {
  return schema === undefined ? 'mixed' : asked(schema, fields).fields.map((f) => f.name);
}

/** The valid data/delete blocks of a slice's logs, in log order, after rollbacks. */
export async function sliceLogBlocks(store: ObjectStore, logs: readonly LogFile[], opts: SliceReadOptions): Promise<{ blocks: InstantBlock[]; bytes: number }> {
  const all: InstantBlock[] = [];
  const rolledBack = new Set<string>();
  let bytes = 0;
  for (const file of logs) {
    const data = await store.get(file.path);
    bytes += data.byteLength;
    for (const block of readLogBlocks(data, file.path)) {
      const instant = block.headers.INSTANT_TIME ?? '';
      if (block.type === 'COMMAND') {
        if (block.headers.COMMAND_BLOCK_TYPE === ROLLBACK_COMMAND && block.headers.TARGET_INSTANT_TIME) rolledBack.add(block.headers.TARGET_INSTANT_TIME);
        continue;
      }
      all.push({ instant, block, file });
    }
  }
  const blocks = all.filter(
    (b) => !rolledBack.has(b.instant) && opts.completed.has(b.instant) && b.instant <= opts.asOf && (opts.since === undefined || b.instant > opts.since),
  );
  return { blocks, bytes };
}

export async function readSlice(store: ObjectStore, slice: FileSlice, opts: SliceReadOptions): Promise<SliceContents> {
  const base: SliceRecord[] = [];
  let bytesRead = 0;
  let fields: RowFields;
  if (slice.base !== undefined) {
    const bytes = await store.get(slice.base.path);
    bytesRead += bytes.byteLength;
    const rows = baseFileRows(readParquet(bytes, { fileName: slice.base.path }), opts.schema);
    fields = baseFileFields(opts.schema);
    for (const row of rows) {
      const rec = toRecord(row, opts.orderingField, slice.base.instant);
      if (opts.since !== undefined && !(rec.commitTime > opts.since && rec.commitTime <= opts.asOf)) continue;
      base.push(rec);
    }
  }
  const { blocks, bytes } = await sliceLogBlocks(store, slice.logs, opts);
  bytesRead += bytes;
  const folded = foldBlocks(blocks, opts.orderingField, { fields: opts.fields });
  return { base, log: folded.log, bytesRead, fields: joinFields(fields, folded.fields) };
}

/** The blocks' log, folded per key in log order, and what it held. */
export interface FoldedLog {
  log: LogFold;
  /** The fields of the data blocks' rows (undefined without data blocks). */
  fields: RowFields;
  records: number;
  deletes: number;
  /** Commit times of the records and instants of the deletes. */
  instants: Set<string>;
}

const PENDING: Row = Object.freeze({}) as Row;

/** A data-block record whose row is decoded only if it wins its key (`foldBlocks`). */
class PendingRecord implements SliceRecord {
  readonly key: string;
  readonly ordering: Value;
  readonly commitTime: string;
  readonly seqno: string;
  row: Row = PENDING;
  // One class for every pending record: the fold's checks stay monomorphic (a spread copy was ~50 % slower).
  constructor(
    r: SliceRecord,
    readonly block: number,
    readonly index: number,
  ) {
    this.key = r.key;
    this.ordering = r.ordering;
    this.commitTime = r.commitTime;
    this.seqno = r.seqno;
  }
}

const isPending = (s: LogState): s is PendingRecord => s instanceof PendingRecord && s.row === PENDING;

/**
 * The blocks folded per key in log order. With `winnersOnly`, in two passes: every record's
 * key, ordering, commit time and seqno first, then the rows of the records that won. A busy
 * key's log records are mostly replaced by later ones, and a row costs far more to build than
 * its key: `cdc-lake compact` of a 1M-row table (15 log files per file group) took 3–5 % less
 * time and peaked ~50 MiB lower; a snapshot read of logs that few later records replace was
 * ~5 % slower that way, so reads decode every row once (bench/RESULTS.md, session s11).
 */
export function foldBlocks(blocks: readonly InstantBlock[], orderingField: string, opts: { fields?: readonly string[] | undefined } | { winnersOnly: true } = {}): FoldedLog {
  const fields = 'fields' in opts ? opts.fields : undefined;
  const winnersOnly = 'winnersOnly' in opts;
  const log = new LogFold();
  const out: FoldedLog = { log, fields: undefined, records: 0, deletes: 0, instants: new Set() };
  const side = ['_hoodie_record_key', orderingField, '_hoodie_commit_time', '_hoodie_commit_seqno'];
  blocks.forEach(({ instant, block, file }, b) => {
    if (block.type === 'AVRO_DATA') {
      const schema = block.headers.SCHEMA ?? '';
      out.fields = joinFields(out.fields, fields ?? avroDataFields(schema) ?? 'mixed');
      const what = `Avro data block of ${instant} in ${file.path}`;
      if (winnersOnly) {
        let index = 0;
        const make = (_row: Row, v: readonly Value[]): PendingRecord => new PendingRecord(sliceRecord(PENDING, v[0], v[1], v[2], v[3], instant), b, index++);
        for (const r of decodeAvroDataProjected(block.content, schema, { fields: [], side }, make, what)) fold(out, r);
      } else if (fields !== undefined) {
        // Rows with the asked fields only; the merge's key, ordering, commit time and seqno beside them.
        const make = (row: Row, v: readonly Value[]): SliceRecord => sliceRecord(row, v[0], v[1], v[2], v[3], instant);
        for (const r of decodeAvroDataProjected(block.content, schema, { fields, side }, make, what)) fold(out, r);
      } else for (const row of decodeAvroDataContent(block.content, schema, what)) fold(out, toRecord(row, orderingField, instant));
    } else if (block.type === 'PARQUET_DATA') {
      out.fields = joinFields(out.fields, 'mixed');
      for (const row of decodeParquetDataContent(block.content, `Parquet data block in ${file.path}`)) fold(out, toRecord(row, orderingField, instant));
    } else if (block.type === 'DELETE') {
      for (const d of decodeDeleteContent(block.content, `delete block in ${file.path}`)) {
        out.deletes++;
        out.instants.add(instant);
        log.delete({ key: str(d.recordKey), ordering: d.orderingVal, instant });
      }
    }
  });
  if (winnersOnly) decodeWinners(blocks, log);
  return out;
}

/** The rows of the pending records that won their key, block by block, each block's in record order. */
function decodeWinners(blocks: readonly InstantBlock[], log: LogFold): void {
  const winners = new Map<number, PendingRecord[]>();
  for (const s of log.states.values()) {
    if (!isPending(s)) continue;
    const list = winners.get(s.block);
    if (list === undefined) winners.set(s.block, [s]);
    else list.push(s);
  }
  for (const [b, list] of winners) {
    const { instant, block, file } = blocks[b] as InstantBlock;
    list.sort((x, y) => x.index - y.index);
    const only = new Uint8Array((list[list.length - 1] as PendingRecord).index + 1);
    for (const r of list) only[r.index] = 1;
    const rows = decodeAvroDataContent(block.content, block.headers.SCHEMA ?? '', `Avro data block of ${instant} in ${file.path}`, only);
    list.forEach((r, k) => void (r.row = rows[k] as Row));
  }
}

function fold(out: FoldedLog, r: SliceRecord): void {
  out.records++;
  out.instants.add(r.commitTime);
  out.log.record(r);
}

/** A slice's latest rows, each with its record key (`keys[i]` is the key of `rows[i]`). */
export interface LatestRows {
  rows: Row[];
  keys: string[];
  bytesRead: number;
  fields: RowFields;
}

/**
 * The latest rows of a slice (snapshot and read-optimized reads): like `readMergedSlice`,
 * but base rows whose key no log touches are passed through without a record or map entry,
 * and with `opts.fields` base rows are built with only those fields — the merge reads keys,
 * commit times, seqnos and orderings from the file's columns, and only for rows a log touches.
 * Not for incremental reads (`since`), which filter by commit time.
 */
export async function readLatestRows(store: ObjectStore, slice: FileSlice, opts: SliceReadOptions): Promise<LatestRows> {
  if (opts.since !== undefined || slice.base === undefined) {
    const merged = await readMergedSlice(store, slice, opts);
    const rows: Row[] = [];
    const keys: string[] = [];
    for (const [key, r] of merged.records) {
      rows.push(r.row);
      keys.push(key);
    }
    return { rows, keys, bytesRead: merged.bytesRead, fields: merged.fields };
  }
  const base = slice.base;
  const bytes = await store.get(base.path);
  // With asked fields only those, the key and the ordering are decoded (the other `_hoodie_*`
  // columns, unique strings among them, cost a third of the decode): the merge needs no more.
  const file = opts.fields === undefined
    ? readParquet(bytes, { fileName: base.path })
    : await readParquetColumns(bytes, { columns: [...new Set([...opts.fields, '_hoodie_record_key', opts.orderingField])], fileName: base.path });
  const logs = await readSlice(store, { partition: slice.partition, fileId: slice.fileId, baseInstant: slice.baseInstant, logs: slice.logs }, opts);
  const baseKeys = columnValues(file, '_hoodie_record_key').map(str);
  const { sources, keys } = mergeBaseWithLogs(baseKeys, baseOrderingAt(file, opts), logs.log.states);
  // Base rows are built only for the base versions that won (a fifth of them lose at 20 % updates).
  const won = new Uint8Array(baseKeys.length);
  for (const s of sources) if (typeof s === 'number') won[s] = 1;
  const baseRows = baseFileRows(file, opts.schema, opts.fields, won);
  const fields = baseFileFields(opts.schema, opts.fields);
  // Log rows carry their block schema's fields: when those are not the asked ones, a winner is cut to them.
  const both = joinFields(fields, logs.fields);
  const shape = opts.fields !== undefined && both === 'mixed' && Array.isArray(fields) ? withFields(fields) : undefined;
  const rows = sources.map((s) => (typeof s === 'number' ? (baseRows[s] as Row) : shape === undefined ? s.row : shape(s.row)));
  return { rows, keys, bytesRead: bytes.byteLength + logs.bytesRead, fields: shape === undefined ? both : fields };
}

/** Base row `i`'s ordering value, read from the file's column only for the rows a log touches. */
function baseOrderingAt(file: Table, opts: SliceReadOptions): (i: number) => Value {
  return columnCells(file, opts.orderingField, opts.schema?.fields.find((f) => f.name === opts.orderingField)?.type);
}

/** A copy of a row with exactly `fields`, in order (null for those it lacks). */
export function withFields(fields: readonly string[]): (row: Row) => Row {
  return (row) => {
    const o: Row = {};
    for (const n of fields) o[n] = row[n] ?? null;
    return o;
  };
}

export async function readMergedSlice(store: ObjectStore, slice: FileSlice, opts: SliceReadOptions): Promise<MergedSlice & { bytesRead: number; fields: RowFields }> {
  const c = await readSlice(store, slice, opts);
  return { ...mergeSlice(c.base, c.log.states), bytesRead: c.bytesRead, fields: c.fields };
}
