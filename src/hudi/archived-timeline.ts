/**
 * The archived timeline of table version 6 (timeline layout 1), as Hudi 0.x's
 * `HoodieTimelineArchiver` writes it: `.hoodie/archived/.commits_.archive.<n>_1-0-1`, a
 * log file of Avro data blocks whose only header is `SCHEMA` and whose records are
 * `HoodieArchivedMetaEntry`s — one for each state file (requested, inflight, completed)
 * of each archived instant, with that file's metadata in the field its action and
 * state use. Java's `HoodieArchivedTimeline` reads them back.
 */
import type avro from 'avsc';
import { avroType } from './avro-value.js';
import { encodeLogBlock, readLogBlocks } from './log-block.js';
import { decodeAvroDataContent, encodeAvroDataContent } from './log-content.js';
import { decodeTimelineAvroFile } from './timeline-avro.js';
import { loadHudiSchema } from './schemas.js';
import { UNKNOWN_WRITE_TOKEN } from './file-name.js';
import type { Instant, State } from './instant.js';
import type { Row, Value } from '../table/schema.js';

const ENTRY = 'HoodieArchivedMetaEntry';

/** `.commits_.archive.<version>_<token>`; versions start at 1 and grow with each archival on object stores. */
export function archiveFileName(version: number): string {
  return `.commits_.archive.${version}_${UNKNOWN_WRITE_TOKEN}`;
}

/** The version of an archive file name (Java's `^\.commits_\.archive\.([0-9]+).*`), undefined for other names. */
export function archiveFileVersion(name: string): number | undefined {
  const m = /^\.commits_\.archive\.(\d+)/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

export class ArchiveEntryError extends Error {
  override readonly name = 'ArchiveEntryError';
}

/** One state file of an instant being archived. */
export interface InstantFile {
  /** As its name reads: a completed compaction is a completed `commit`. */
  instant: Instant;
  bytes: Uint8Array;
  /** When the file was written: the entry's `stateTransitionTime`. */
  modified: Date;
}

const NS = 'org.apache.hudi.avro.model.';
const named: Record<string, avro.Type> = {};
let entryType: avro.Type | undefined;
function entry(): avro.Type {
  return (entryType ??= avroType(loadHudiSchema(ENTRY), named));
}

/** The record type of a `[null, record]` field of the entry (or of a record nested in it). */
function recordOf(parent: avro.Type, field: string): avro.Type {
  const t = (parent as avro.types.RecordType).field(field)?.type;
  const branch = (t as avro.types.UnwrappedUnionType | undefined)?.types.find((x) => x.typeName === 'record');
  if (branch === undefined) throw new ArchiveEntryError(`${ENTRY}: field ${field} has no record branch`);
  return branch;
}

/** The value of an Avro timeline file (plan or metadata) read as the entry's field expects it, by Avro schema resolution. */
function resolved(field: string, bytes: Uint8Array, what: string): Value {
  const file = decodeTimelineAvroFile(bytes, what);
  const target = recordOf(entry(), field);
  const datum = Buffer.from(file.datum.buffer, file.datum.byteOffset, file.datum.byteLength);
  try {
    return target.fromBuffer(datum, target.createResolver(avroType(file.writerSchema))) as Value;
  } catch (e) {
    throw new ArchiveEntryError(`${what}: ${file.recordName} cannot be read as ${ENTRY}.${field}: ${(e as Error).message}`);
  }
}

/** `yyyyMMddHHmmssSSS` in UTC, the instant-time format. */
function instantTimeOf(d: Date): string {
  return d.toISOString().replace(/[-:TZ.]/g, '');
}

/** The fields of a record type with their values in `from` when those fit, else null (Jackson's `convertValue`). */
function pick(type: avro.Type, from: Record<string, unknown>): Row {
  const out: Row = {};
  for (const f of (type as avro.types.RecordType).fields) {
    const v = from[f.name];
    out[f.name] = v !== undefined && f.type.isValid(v) ? (v as Value) : null;
  }
  return out;
}

/**
 * Commit metadata JSON as Java's `MetadataConversionUtils.convertCommitMetadata` turns it into
 * the Avro record: known fields only, `COMPACT` for a compaction's commit, and the
 * `ROLLING_STAT` key Java always adds. An empty file is Java's empty metadata.
 */
function commitMetadata(field: string, bytes: Uint8Array, what: string): Row {
  const type = recordOf(entry(), field);
  let json: Record<string, unknown> = {};
  if (bytes.byteLength > 0) {
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ArchiveEntryError(`${what}: commit metadata is not JSON (${(e as Error).message})`);
    }
  }
  const statType = named[`${NS}HoodieWriteStat`] as avro.Type;
  const stats: Record<string, Row[]> = {};
  for (const [partition, list] of Object.entries((json.partitionToWriteStats ?? {}) as Record<string, Record<string, unknown>[]>)) {
    stats[partition] = list.map((s) => pick(statType, s));
  }
  const extra = Object.fromEntries(Object.entries((json.extraMetadata ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const op = json.compacted === true ? 'COMPACT' : typeof json.operationType === 'string' ? json.operationType : 'UNKNOWN';
  return { ...pick(type, json), partitionToWriteStats: stats, extraMetadata: { ...extra, ROLLING_STAT: '' }, version: null, operationType: op };
}

/** The archive entry of one instant state file (`MetadataConversionUtils.createMetaWrapper`). */
export function archiveEntry(f: InstantFile, what: string): Row {
  const { timestamp, action, state } = f.instant;
  const out: Row = {};
  for (const field of (entry() as avro.types.RecordType).fields) out[field.name] = null;
  Object.assign(out, { commitTime: timestamp, actionType: action, actionState: state.toUpperCase(), stateTransitionTime: instantTimeOf(f.modified) });
  const empty = f.bytes.byteLength === 0;
  if (empty && state === 'completed') return out; // Java's wrapper for an empty instant: no metadata
  switch (action) {
    case 'deltacommit':
    case 'commit':
      out.hoodieCommitMetadata = commitMetadata('hoodieCommitMetadata', f.bytes, what);
      break;
    case 'clean': {
      const field = state === 'completed' ? 'hoodieCleanMetadata' : 'hoodieCleanerPlan';
      if (!empty) out[field] = resolved(field, f.bytes, what);
      break;
    }
    case 'rollback':
      if (state === 'completed') out.hoodieRollbackMetadata = resolved('hoodieRollbackMetadata', f.bytes, what);
      break;
    case 'compaction':
      if (state === 'requested' && !empty) out.hoodieCompactionPlan = resolved('hoodieCompactionPlan', f.bytes, what);
      break;
    case 'replacecommit':
      if (state === 'completed') out.hoodieReplaceCommitMetadata = commitMetadata('hoodieReplaceCommitMetadata', f.bytes, what);
      else if (state === 'inflight' && !empty) out.HoodieInflightReplaceMetadata = commitMetadata('HoodieInflightReplaceMetadata', f.bytes, what);
      else if (!empty) out.hoodieRequestedReplaceMetadata = resolved('hoodieRequestedReplaceMetadata', f.bytes, what);
      break;
  }
  return out;
}

/** One Avro data block of archive entries (the archive file's content when it is the only one). */
export function archiveBlock(entries: readonly Row[]): Uint8Array {
  const schema = JSON.stringify(loadHudiSchema(ENTRY));
  return encodeLogBlock({ type: 'AVRO_DATA', headers: { SCHEMA: schema }, content: encodeAvroDataContent(schema, entries) });
}

/** An archived instant state as an archive file records it. */
export interface ArchivedState {
  timestamp: string;
  /** As the state file's name read: a completed compaction is a `commit`. */
  action: string;
  state: State;
  /** The commit metadata of a completed write (Avro form: `partitionToWriteStats`, `extraMetadata`, `operationType`). */
  commitMetadata?: Row;
}

/** The entries of one archive file (any writer's: each block's SCHEMA header is its writer schema). */
export function readArchiveEntries(bytes: Uint8Array, what: string): ArchivedState[] {
  const out: ArchivedState[] = [];
  for (const block of readLogBlocks(bytes, what)) {
    if (block.type !== 'AVRO_DATA') continue;
    for (const e of decodeAvroDataContent(block.content, block.headers.SCHEMA ?? '', what)) {
      const state = String(e.actionState ?? 'COMPLETED').toLowerCase();
      if (typeof e.commitTime !== 'string' || typeof e.actionType !== 'string' || (state !== 'requested' && state !== 'inflight' && state !== 'completed')) {
        throw new ArchiveEntryError(`${what}: an entry without commitTime, actionType or a known actionState`);
      }
      const meta = (e.hoodieCommitMetadata ?? e.hoodieReplaceCommitMetadata) as Row | null | undefined;
      out.push({ timestamp: e.commitTime, action: e.actionType, state, ...(state === 'completed' && meta ? { commitMetadata: meta } : {}) });
    }
  }
  return out;
}
