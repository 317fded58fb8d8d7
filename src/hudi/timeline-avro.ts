/**
 * Avro object-container files (codec null, one record) that Hudi keeps on the timeline for
 * plans and non-commit metadata: compaction plan, rollback plan/metadata, cleaner plan,
 * clean metadata, requested replace metadata. Record names are Java's
 * (`org.apache.hudi.avro.model.*`) because Java readers resolve by full name; the schemas
 * live in `schemas/hudi/*.avsc`.
 */
import { randomBytes } from 'node:crypto';
import type avro from 'avsc';
import { avroType, toPlain } from './avro-value.js';
import { loadHudiSchema } from './schemas.js';

export interface HoodieInstantInfo { commitTime: string; action: string }

export interface HoodieCompactionOperation {
  baseInstantTime: string | null;
  /** Log file names (relative to the partition) to merge. */
  deltaFilePaths: string[] | null;
  /** Base file name of the slice. */
  dataFilePath: string | null;
  fileId: string | null;
  partitionPath: string | null;
  metrics: Record<string, number> | null;
  bootstrapFilePath: string | null;
}
export interface HoodieCompactionPlan {
  operations: HoodieCompactionOperation[] | null;
  extraMetadata: Record<string, string> | null;
  version: number | null;
}

export interface HoodieRollbackRequest {
  partitionPath: string;
  fileId: string | null;
  latestBaseInstant: string | null;
  filesToBeDeleted: string[];
  /** Log file → size, for log files that get a rollback command block. */
  logBlocksToBeDeleted: Record<string, number> | null;
}
export interface HoodieRollbackPlan {
  instantToRollback: HoodieInstantInfo | null;
  RollbackRequests: HoodieRollbackRequest[] | null;
  version: number | null;
}

export interface HoodieRollbackPartitionMetadata {
  partitionPath: string;
  successDeleteFiles: string[];
  failedDeleteFiles: string[];
  rollbackLogFiles: Record<string, number> | null;
  logFilesFromFailedCommit: Record<string, number> | null;
}
export interface HoodieRollbackMetadata {
  startRollbackTime: string;
  timeTakenInMillis: number;
  totalFilesDeleted: number;
  commitsRollback: string[];
  partitionMetadata: Record<string, HoodieRollbackPartitionMetadata>;
  version: number | null;
  instantsRollback: HoodieInstantInfo[];
}

export interface HoodieActionInstant { timestamp: string; action: string; state: string }
export interface HoodieCleanFileInfo { filePath: string | null; isBootstrapBaseFile: boolean | null }
export interface HoodieCleanerPlan {
  earliestInstantToRetain: HoodieActionInstant | null;
  /** e.g. KEEP_LATEST_COMMITS */
  policy: string;
  filesToBeDeletedPerPartition: Record<string, string[]> | null;
  version: number | null;
  filePathsToBeDeletedPerPartition: Record<string, HoodieCleanFileInfo[]> | null;
  partitionsToBeDeleted: string[] | null;
}

export interface HoodieCleanPartitionMetadata {
  partitionPath: string;
  policy: string;
  deletePathPatterns: string[];
  successDeleteFiles: string[];
  failedDeleteFiles: string[];
  isPartitionDeleted: boolean | null;
}
export interface HoodieCleanMetadata {
  policy: string;
  startCleanTime: string;
  timeTakenInMillis: number;
  totalFilesDeleted: number;
  earliestCommitToRetain: string;
  lastCompletedCommitTimestamp: string;
  partitionMetadata: Record<string, HoodieCleanPartitionMetadata>;
  version: number | null;
  bootstrapPartitionMetadata: Record<string, HoodieCleanPartitionMetadata> | null;
}

export interface HoodieRequestedReplaceMetadata {
  operationType: string | null;
  /** Only for clustering, which cdc-lake does not do: always null here. */
  clusteringPlan: null;
  extraMetadata: Record<string, string> | null;
  version: number | null;
}

/** Schema name (file in schemas/hudi) → record type. */
export interface TimelineAvroRecords {
  HoodieCompactionPlan: HoodieCompactionPlan;
  HoodieRollbackPlan: HoodieRollbackPlan;
  HoodieRollbackMetadata: HoodieRollbackMetadata;
  HoodieCleanerPlan: HoodieCleanerPlan;
  HoodieCleanMetadata: HoodieCleanMetadata;
  HoodieRequestedReplaceMetadata: HoodieRequestedReplaceMetadata;
}
export type TimelineAvroName = keyof TimelineAvroRecords;

export class TimelineAvroError extends Error {
  override readonly name = 'TimelineAvroError';
}

const OCF_MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1

const types = new Map<string, avro.Type>();
function typeOf(name: TimelineAvroName): avro.Type {
  let t = types.get(name);
  if (t === undefined) {
    t = avroType(loadHudiSchema(name));
    types.set(name, t);
  }
  return t;
}

/** Avro long encoding (zig-zag varint) for the container framing. */
function zigzag(n: number): Buffer {
  // Avro long: zig-zag varint. Values here are small non-negative counts/lengths.
  const parts: number[] = [];
  let z = BigInt(n) >= 0n ? BigInt(n) * 2n : -BigInt(n) * 2n - 1n;
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) b |= 0x80;
    parts.push(b);
  } while (z > 0n);
  return Buffer.from(parts);
}

function avroString(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([zigzag(b.length), b]);
}

/**
 * Encodes one record as an Avro object container file (codec null, one block), like
 * Hudi's `TimelineMetadataUtils.serializeAvroMetadata`. `sync` is random unless given.
 */
export function encodeTimelineAvro<N extends TimelineAvroName>(name: N, record: TimelineAvroRecords[N], sync?: Uint8Array): Uint8Array {
  const type = typeOf(name);
  const errors: string[] = [];
  if (!type.isValid(record, { errorHook: (p: string[]) => errors.push(p.join('.')) })) {
    throw new TimelineAvroError(`${name}: record does not match the schema at ${errors.join(', ')}`);
  }
  const datum = type.toBuffer(record);
  const marker = Buffer.from(sync ?? randomBytes(16));
  if (marker.length !== 16) throw new TimelineAvroError(`${name}: sync marker must be 16 bytes`);
  const schema = JSON.stringify(loadHudiSchema(name));
  const header = Buffer.concat([
    OCF_MAGIC,
    zigzag(2),
    avroString('avro.schema'), avroString(schema),
    avroString('avro.codec'), avroString('null'),
    zigzag(0),
    marker,
  ]);
  return Buffer.concat([header, zigzag(1), zigzag(datum.length), datum, marker]);
}

class OcfReader {
  pos = 0;
  constructor(private readonly b: Buffer, private readonly what: string) {}
  fail(msg: string): never {
    throw new TimelineAvroError(`${this.what}: ${msg} at byte ${this.pos}; the instant file is not an Avro container file`);
  }
  long(): number {
    let z = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.b.length) this.fail('truncated varint');
      const byte = this.b[this.pos++] as number;
      z |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) this.fail('varint too long');
    }
    return Number((z >> 1n) ^ -(z & 1n));
  }
  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.b.length) this.fail(`length ${n} runs past the end`);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

export interface DecodedTimelineAvro {
  /** Full name of the writer's record, e.g. org.apache.hudi.avro.model.HoodieRollbackMetadata. */
  recordName: string;
  writerSchema: unknown;
  record: unknown;
  /** The record's Avro binary encoding (for resolving it to another schema). */
  datum: Uint8Array;
}

/** Decodes an OCF written by Java or by us, using the writer schema stored in the file. */
export function decodeTimelineAvroFile(bytes: Uint8Array, what = 'timeline file'): DecodedTimelineAvro {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r: OcfReader = new OcfReader(b, what);
  if (!r.bytes(4).equals(OCF_MAGIC)) r.fail('missing "Obj\\x01" magic');
  const meta = new Map<string, Buffer>();
  for (let n = r.long(); n !== 0; n = r.long()) {
    if (n < 0) { r.long(); n = -n; }
    for (let i = 0; i < n; i++) meta.set(r.bytes(r.long()).toString('utf8'), Buffer.from(r.bytes(r.long())));
  }
  const codec = meta.get('avro.codec')?.toString('utf8') ?? 'null';
  if (codec !== 'null') r.fail(`codec "${codec}" is not supported (Hudi writes "null")`);
  const schemaText = meta.get('avro.schema');
  if (schemaText === undefined) r.fail('no avro.schema in the header');
  const writerSchema: unknown = JSON.parse(schemaText.toString('utf8'));
  const sync = r.bytes(16);
  const count = r.long();
  const size = r.long();
  if (count !== 1) r.fail(`expected one record, found ${count}`);
  const data = r.bytes(size);
  if (!r.bytes(16).equals(sync)) r.fail('sync marker mismatch after the block');
  const type = avroType(writerSchema);
  let record: unknown;
  try {
    record = toPlain(type.fromBuffer(data));
  } catch (e) {
    r.fail(`record does not decode with its writer schema (${(e as Error).message})`);
  }
  const ws = writerSchema as { name?: string; namespace?: string };
  const recordName = ws.name?.includes('.') ? ws.name : `${ws.namespace ?? ''}.${ws.name ?? ''}`;
  return { recordName, writerSchema, record, datum: data };
}

/** Decodes and checks that the file holds the expected Hudi record. */
export function decodeTimelineAvro<N extends TimelineAvroName>(name: N, bytes: Uint8Array, what = `${name} file`): TimelineAvroRecords[N] {
  if (bytes.length === 0) throw new TimelineAvroError(`${what}: empty file; Java treats it as "no metadata", callers must handle that case`);
  const d = decodeTimelineAvroFile(bytes, what);
  if (d.recordName !== `org.apache.hudi.avro.model.${name}`) {
    throw new TimelineAvroError(`${what}: holds ${d.recordName}, expected org.apache.hudi.avro.model.${name}`);
  }
  return d.record as TimelineAvroRecords[N];
}
