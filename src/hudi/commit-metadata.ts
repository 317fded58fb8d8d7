/**
 * Commit metadata of table v6 (timeline layout 1): the JSON body of `<t>.deltacommit`,
 * `<t>.commit` and `<t>.replacecommit` (also of their `.inflight` files).
 */

export type OperationType =
  | 'UPSERT' | 'INSERT' | 'DELETE' | 'BULK_INSERT' | 'UPSERT_PREPPED' | 'INSERT_PREPPED' | 'DELETE_PREPPED'
  | 'COMPACT' | 'INSERT_OVERWRITE' | 'INSERT_OVERWRITE_TABLE' | 'DELETE_PARTITION' | 'CLUSTER' | 'UNKNOWN';

export interface RuntimeStats {
  totalScanTime: number;
  totalUpsertTime: number;
  totalCreateTime: number;
}

/** `HoodieWriteStat` (+ `HoodieDeltaWriteStat` fields for log appends, + compaction counters). */
export interface WriteStat {
  fileId: string;
  /** `<partition>/<file name>` relative to the table base path. */
  path: string;
  cdcStats: Record<string, number> | null;
  /** Base instant of the slice for log appends; the literal "null" for a new base file. */
  prevCommit: string;
  numWrites: number;
  numDeletes: number;
  numUpdateWrites: number;
  numInserts: number;
  totalWriteBytes: number;
  totalWriteErrors: number;
  tempPath: string | null;
  partitionPath: string;
  totalLogRecords: number;
  totalLogFilesCompacted: number;
  totalLogSizeCompacted: number;
  totalUpdatedRecordsCompacted: number;
  totalLogBlocks: number;
  totalCorruptLogBlock: number;
  totalRollbackBlocks: number;
  fileSizeInBytes: number;
  minEventTime: number | null;
  maxEventTime: number | null;
  runtimeStats: RuntimeStats | null;
  /** Delta (log append) stats: version of the log file written. */
  logVersion?: number;
  logOffset?: number;
  /** Delta stats: base file name of the slice (readers build slices from it). */
  baseFile?: string;
  /** Delta stats: log file names of the slice, incl. the one written. */
  logFiles?: string[];
  /** Compaction stats: base file replaced by this one. */
  prevBaseFile?: string | null;
  /** Fields we do not model (e.g. Spark's `recordsStats`), kept for round trips. */
  [extra: string]: unknown;
}

export interface CommitMetadata {
  /** Partition path ("" for non-partitioned) → write stats. */
  partitionToWriteStats: Record<string, WriteStat[]>;
  compacted: boolean;
  /** String map; `schema` holds the writer's Avro schema JSON (without meta fields). */
  extraMetadata: Record<string, string>;
  operationType: OperationType;
}

export interface ReplaceCommitMetadata extends CommitMetadata {
  /** Partition path → ids of the file groups this instant replaces. */
  partitionToReplaceFileIds: Record<string, string[]>;
}

export class CommitMetadataError extends Error {
  override readonly name = 'CommitMetadataError';
}

const NUMERIC_DEFAULTS = [
  'numWrites', 'numDeletes', 'numUpdateWrites', 'numInserts', 'totalWriteBytes', 'totalWriteErrors',
  'totalLogRecords', 'totalLogFilesCompacted', 'totalLogSizeCompacted', 'totalUpdatedRecordsCompacted',
  'totalLogBlocks', 'totalCorruptLogBlock', 'totalRollbackBlocks', 'fileSizeInBytes',
] as const;

/** A write stat with Java's defaults for every field not given. */
export function writeStat(p: Partial<WriteStat> & Pick<WriteStat, 'fileId' | 'path' | 'partitionPath'>): WriteStat {
  const s: WriteStat = {
    fileId: p.fileId,
    path: p.path,
    cdcStats: null,
    prevCommit: 'null',
    numWrites: 0, numDeletes: 0, numUpdateWrites: 0, numInserts: 0, totalWriteBytes: 0, totalWriteErrors: 0,
    tempPath: null,
    partitionPath: p.partitionPath,
    totalLogRecords: 0, totalLogFilesCompacted: 0, totalLogSizeCompacted: 0, totalUpdatedRecordsCompacted: 0,
    totalLogBlocks: 0, totalCorruptLogBlock: 0, totalRollbackBlocks: 0, fileSizeInBytes: 0,
    minEventTime: null, maxEventTime: null,
    runtimeStats: { totalScanTime: 0, totalUpsertTime: 0, totalCreateTime: 0 },
  };
  for (const [k, v] of Object.entries(p)) if (v !== undefined) s[k] = v;
  return s;
}

export function emptyCommitMetadata(operationType: OperationType = 'UNKNOWN'): CommitMetadata {
  return { partitionToWriteStats: {}, compacted: false, extraMetadata: {}, operationType };
}

// ---- serialisation: Jackson's default pretty printer, which Java writes ----

function jackson(v: unknown, indent: string): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new CommitMetadataError(`commit metadata number ${v} is not finite`);
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? '[ ]' : `[ ${v.map((x) => jackson(x, indent)).join(', ')} ]`;
  const entries = Object.entries(v as object).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{ }';
  const inner = indent + '  ';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)} : ${jackson(x, inner)}`).join(',\n')}\n${indent}}`;
}

/** JSON text of commit (or replace commit) metadata, laid out like Java's. */
export function serializeCommitMetadata(m: CommitMetadata | ReplaceCommitMetadata): string {
  const ordered: Record<string, unknown> = { partitionToWriteStats: m.partitionToWriteStats, compacted: m.compacted, extraMetadata: m.extraMetadata, operationType: m.operationType };
  if ('partitionToReplaceFileIds' in m) ordered.partitionToReplaceFileIds = m.partitionToReplaceFileIds;
  return jackson(ordered, '');
}

// ---- parsing (accepts Spark-written files) ----

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseWriteStat(raw: unknown, where: string): WriteStat {
  if (!isObject(raw)) throw new CommitMetadataError(`${where}: write stat is not an object`);
  // Inflight files (Spark's workload profile) carry null paths; they read as "".
  const str = (k: string): string => {
    const v = raw[k] ?? '';
    if (typeof v !== 'string') throw new CommitMetadataError(`${where}: write stat field "${k}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const s = writeStat({ ...raw, fileId: str('fileId'), path: str('path'), partitionPath: str('partitionPath') });
  for (const k of NUMERIC_DEFAULTS) {
    const v = raw[k];
    if (v !== undefined && v !== null && typeof v !== 'number') throw new CommitMetadataError(`${where}: write stat field "${k}" must be a number`);
    if (v === null) s[k] = 0;
  }
  if (raw.logFiles !== undefined && !(Array.isArray(raw.logFiles) && raw.logFiles.every((x) => typeof x === 'string'))) {
    throw new CommitMetadataError(`${where}: write stat field "logFiles" must be a list of file names`);
  }
  if (raw.prevCommit === null) s.prevCommit = 'null';
  return s;
}

function parseObject(text: string, source: string): Record<string, unknown> {
  if (text.trim() === '') return {}; // Java reads an empty instant file as empty metadata
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CommitMetadataError(`${source}: not JSON commit metadata (${(e as Error).message}); layout-2 (v8) Avro metadata is not supported`);
  }
  if (!isObject(raw)) throw new CommitMetadataError(`${source}: commit metadata must be a JSON object`);
  return raw;
}

/** Parses JSON commit metadata; `source` (file name) is used in error messages. */
export function parseCommitMetadata(text: string, source = 'commit metadata'): CommitMetadata {
  const raw = parseObject(text, source);
  const stats: Record<string, WriteStat[]> = {};
  const p2w = raw.partitionToWriteStats ?? {};
  if (!isObject(p2w)) throw new CommitMetadataError(`${source}: partitionToWriteStats must be an object`);
  for (const [partition, list] of Object.entries(p2w)) {
    if (!Array.isArray(list)) throw new CommitMetadataError(`${source}: partitionToWriteStats["${partition}"] must be a list`);
    stats[partition] = list.map((s, i) => parseWriteStat(s, `${source} partition "${partition}" stat ${i}`));
  }
  const extra: Record<string, string> = {};
  const rawExtra = raw.extraMetadata ?? {};
  if (!isObject(rawExtra)) throw new CommitMetadataError(`${source}: extraMetadata must be an object`);
  for (const [k, v] of Object.entries(rawExtra)) {
    if (typeof v !== 'string') throw new CommitMetadataError(`${source}: extraMetadata["${k}"] must be a string`);
    extra[k] = v;
  }
  const op = raw.operationType ?? 'UNKNOWN';
  if (typeof op !== 'string') throw new CommitMetadataError(`${source}: operationType must be a string`);
  return { partitionToWriteStats: stats, compacted: raw.compacted === true, extraMetadata: extra, operationType: op as OperationType };
}

export function parseReplaceCommitMetadata(text: string, source = 'replace commit metadata'): ReplaceCommitMetadata {
  const base = parseCommitMetadata(text, source);
  const raw = parseObject(text, source);
  const replaced: Record<string, string[]> = {};
  const r = raw.partitionToReplaceFileIds ?? {};
  if (!isObject(r)) throw new CommitMetadataError(`${source}: partitionToReplaceFileIds must be an object`);
  for (const [p, ids] of Object.entries(r)) {
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) throw new CommitMetadataError(`${source}: partitionToReplaceFileIds["${p}"] must be a list of file ids`);
    replaced[p] = ids as string[];
  }
  return { ...base, partitionToReplaceFileIds: replaced };
}

/** All write stats of a commit, flattened. */
export function allWriteStats(m: CommitMetadata): WriteStat[] {
  return Object.values(m.partitionToWriteStats).flat();
}
