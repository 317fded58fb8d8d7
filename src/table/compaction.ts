import { serializeCommitMetadata, writeStat, type CommitMetadata, type WriteStat } from '../hudi/commit-metadata.js';
import { baseFileName } from '../hudi/file-name.js';
import { encodeTimelineAvro, type HoodieCompactionOperation, type HoodieCompactionPlan } from '../hudi/timeline-avro.js';
import type { FileSlice } from './fs-view.js';
import { withMetaFields } from './meta-fields.js';
import { bucketOfFileId } from './record-key.js';
import { SCHEMA_KEY, groupStats, type HudiTable } from './table.js';
import { joinPath } from './timeline.js';
import { inProcess, type SliceCompactor } from './compaction-thread.js';
import { carriedDeletes, tombstonePath } from './tombstone.js';

/**
 * Compaction of a Merge-On-Read table: every live file slice that has log files
 * is merged (latest record per key, deletes applied) into a new base file named
 * with the compaction instant, which starts a new slice of the same file group.
 *
 * Protocol (Hudi v6): `<c>.compaction.requested` (Avro `HoodieCompactionPlan`) →
 * `<c>.compaction.inflight` → the base files (each after its marker, so a crash
 * leaves a pending compaction that `HudiTable.recover()` rolls back) → `<c>.commit`
 * with `compacted: true`. Readers ignore the new base files until `<c>.commit`
 * exists. One file group is held in memory at a time.
 *
 * Rows keep their `_hoodie_commit_time`/`_hoodie_commit_seqno`: compaction changes
 * no data, so incremental readers must not see the rows again.
 *
 * The positions of the keys it removes (deleted in the compacted range) are kept as
 * tombstones (`tombstone.ts`), written before `<c>.commit`, so the writer's source-order
 * guard still drops a redelivered delete or older upsert of such a key after a restart.
 */

export interface CompactionOptions {
  /** Which slices to compact (default: every live slice with log files). */
  select?: (slice: FileSlice) => boolean;
  /** Called after each file group with the bytes read so far and in all (progress of long compactions). */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Where each slice's merge runs (default: this thread; the daemon passes a worker thread). */
  compactor?: SliceCompactor;
}

export interface CompactionResult {
  /** Undefined when no file group had log files to compact. */
  instant?: string;
  fileGroups: number;
  logFilesCompacted: number;
  rowsWritten: number;
  bytesWritten: number;
}

export class CompactionError extends Error {
  override readonly name = 'CompactionError';
}

/** Plan operations for the given slices (pure). File paths are names relative to the partition, as Hudi writes them. */
export function compactionOperations(slices: readonly FileSlice[]): HoodieCompactionOperation[] {
  return slices
    .filter((s) => s.logs.length > 0 && s.base !== undefined)
    .map((s) => {
      const logBytes = s.logs.reduce((n, l) => n + l.size, 0);
      const baseBytes = s.base?.size ?? 0;
      return {
        baseInstantTime: s.baseInstant,
        deltaFilePaths: s.logs.map((l) => l.name),
        dataFilePath: s.base?.name ?? null,
        fileId: s.fileId,
        partitionPath: s.partition,
        metrics: {
          TOTAL_LOG_FILES: s.logs.length,
          TOTAL_LOG_FILES_SIZE: logBytes,
          TOTAL_IO_READ_MB: (logBytes + baseBytes) / (1024 * 1024),
          TOTAL_IO_WRITE_MB: baseBytes / (1024 * 1024),
          TOTAL_IO_MB: (logBytes + 2 * baseBytes) / (1024 * 1024),
        },
        bootstrapFilePath: null,
      };
    });
}

export async function compact(table: HudiTable, opts: CompactionOptions = {}): Promise<CompactionResult> {
  if (table.timeline.pending().length > 0) await table.recover();
  const result: CompactionResult = { fileGroups: 0, logFilesCompacted: 0, rowsWritten: 0, bytesWritten: 0 };
  const slices = table.liveSlices().filter((s) => s.logs.length > 0 && s.base !== undefined && (opts.select?.(s) ?? true));
  if (slices.length === 0) return result;
  if (table.schema === undefined) throw new CompactionError(`table ${table.name} has log files but no schema in its commit metadata; it cannot be compacted`);
  const schema = withMetaFields(table.schema);
  // Read at the state the plan was made from: the latest completed instant before the plan.
  const readOpts = table.readOpts();
  const instant = table.nextInstant();
  const plan: HoodieCompactionPlan = { operations: compactionOperations(slices), extraMetadata: null, version: 2 };
  await table.timeline.request(instant, 'compaction', encodeTimelineAvro('HoodieCompactionPlan', plan));
  await table.timeline.inflight(instant, 'compaction');

  const stats: WriteStat[] = [];
  /** Tombstone files to write before the commit, and the compacted slices' ones they replace. */
  const tombstones: { path: string; bytes: Uint8Array }[] = [];
  const superseded: string[] = [];
  const sliceBytes = (x: FileSlice) => (x.base?.size ?? 0) + x.logs.reduce((n, l) => n + l.size, 0);
  const totalBytes = slices.reduce((n, x) => n + sliceBytes(x), 0);
  let doneBytes = 0;
  const compactor = opts.compactor ?? inProcess;
  for (const slice of slices) {
    const carried = await carriedDeletes(table.store, table.base, table.timeline, slice);
    const name = baseFileName({ fileId: slice.fileId, writeToken: table.writeToken(bucketOfFileId(slice.fileId) ?? 0), instant });
    const out = await compactor.compact(table.store, { slice, readOpts, schema, baseName: name, carried });
    if (out.tombstones !== null) tombstones.push({ path: tombstonePath(table.base, slice.fileId, instant), bytes: out.tombstones });
    if (carried.size > 0) superseded.push(tombstonePath(table.base, slice.fileId, slice.baseInstant));
    const bytes = out.base;
    const path = joinPath(table.base, slice.partition, name);
    await table.put(path, bytes, instant, slice.partition, name, 'CREATE');
    table.view.addFile(slice.partition, name, path, bytes.byteLength);
    doneBytes += sliceBytes(slice);
    opts.onProgress?.(doneBytes, totalBytes);
    const logBytes = slice.logs.reduce((n, l) => n + l.size, 0);
    stats.push(writeStat({
      fileId: slice.fileId,
      path: joinPath(slice.partition, name),
      partitionPath: slice.partition,
      prevCommit: slice.baseInstant,
      numWrites: out.rows,
      numDeletes: out.deletesOfBaseKeys,
      numUpdateWrites: out.updates,
      numInserts: out.inserts,
      totalWriteBytes: bytes.byteLength,
      fileSizeInBytes: bytes.byteLength,
      totalLogRecords: out.logRecords + out.logDeletes,
      totalLogFilesCompacted: slice.logs.length,
      totalLogSizeCompacted: logBytes,
      totalUpdatedRecordsCompacted: out.logRecords,
      totalLogBlocks: out.logBlocks,
      prevBaseFile: slice.base?.name ?? null,
    }));
    result.fileGroups++;
    result.logFilesCompacted += slice.logs.length;
    result.rowsWritten += out.rows;
    result.bytesWritten += bytes.byteLength;
  }

  const metadata: CommitMetadata = {
    partitionToWriteStats: groupStats(stats),
    compacted: true,
    extraMetadata: { [SCHEMA_KEY]: JSON.stringify(table.schema) },
    operationType: 'COMPACT',
  };
  // Before the commit: a reader of the new slices must find them (a rolled-back compaction's are never read).
  await Promise.all(tombstones.map((t) => table.store.put(t.path, t.bytes)));
  const done = await table.timeline.complete(instant, 'compaction', serializeCommitMetadata(metadata));
  await table.removeMarkers(instant);
  // The previous slices' tombstones are carried in the new files; a crash before this leaves only unread files.
  await Promise.all(superseded.map((path) => table.store.delete(path)));
  // The key index needs no change: file ids and each key's latest state are the same after compaction.
  table.timeline = table.timeline.withCompleted(done);
  result.instant = instant;
  return result;
}
