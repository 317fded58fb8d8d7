import { encodeTimelineAvro } from '../hudi/timeline-avro.js';
import { joinPath, type TimelineInstant } from './timeline.js';
import { TEMP_DIR, type HudiTable } from './table.js';

/**
 * Rolling back an instant that never completed (the writer crashed or was
 * fenced): every file it wrote is deleted — found through the markers written
 * before each file, and by the instant in base file names — and a `rollback`
 * instant records what was removed, as Hudi does. Idempotent: a crash during a
 * rollback leaves the failed instant pending, and the next open repeats it.
 */

interface Doomed {
  partition: string;
  path: string;
  name: string;
}

const MARKER = /\.marker\.(CREATE|APPEND|MERGE)$/;

async function filesOf(table: HudiTable, instant: string): Promise<Doomed[]> {
  const markerDir = joinPath(table.base, TEMP_DIR, instant);
  const found = new Map<string, Doomed>();
  for (const m of await table.store.list(`${markerDir}/`)) {
    const rel = m.key.slice(markerDir.length + 1).replace(MARKER, '');
    const slash = rel.lastIndexOf('/');
    const partition = slash < 0 ? '' : rel.slice(0, slash);
    const name = rel.slice(slash + 1);
    found.set(rel, { partition, name, path: joinPath(table.base, partition, name) });
  }
  for (const g of table.view.groups.values()) {
    for (const s of g.slices) {
      if (s.base?.instant === instant) found.set(joinPath(g.partition, s.base.name), { partition: g.partition, name: s.base.name, path: s.base.path });
    }
  }
  return [...found.values()];
}

export async function rollbackInstant(table: HudiTable, pending: TimelineInstant, rollbackTime: string): Promise<void> {
  if (pending.action === 'rollback' || pending.action === 'clean') {
    // Their work is idempotent and already re-planned by the caller; only the pending state goes.
    await table.timeline.removePending(pending.timestamp, pending.action);
    return;
  }
  const doomed = await filesOf(table, pending.timestamp);
  const instantToRollback = { commitTime: pending.timestamp, action: pending.action };
  const byPartition = new Map<string, Doomed[]>();
  for (const d of doomed) byPartition.set(d.partition, [...(byPartition.get(d.partition) ?? []), d]);

  const plan = {
    instantToRollback,
    RollbackRequests: [...byPartition].map(([partitionPath, files]) => ({
      partitionPath,
      fileId: '',
      latestBaseInstant: '',
      filesToBeDeleted: files.map((f) => f.path),
      logBlocksToBeDeleted: {},
    })),
    version: 1,
  };
  await table.timeline.request(rollbackTime, 'rollback', encodeTimelineAvro('HoodieRollbackPlan', plan));
  await table.timeline.inflight(rollbackTime, 'rollback');
  const started = Date.now();
  await table.removeFiles(doomed);
  await table.timeline.removePending(pending.timestamp, pending.action);
  const metadata = {
    startRollbackTime: rollbackTime,
    timeTakenInMillis: Date.now() - started,
    totalFilesDeleted: doomed.length,
    commitsRollback: [pending.timestamp],
    partitionMetadata: Object.fromEntries(
      [...byPartition].map(([partitionPath, files]) => [
        partitionPath,
        { partitionPath, successDeleteFiles: files.map((f) => f.path), failedDeleteFiles: [], rollbackLogFiles: null, logFilesFromFailedCommit: null },
      ]),
    ),
    version: 1,
    instantsRollback: [instantToRollback],
  };
  await table.timeline.complete(rollbackTime, 'rollback', encodeTimelineAvro('HoodieRollbackMetadata', metadata));
  await table.removeMarkers(pending.timestamp);
}

/**
 * Deletes the files (and markers) of an instant that never completes: what the writer of a
 * rolled-back instant wrote after its rollback (a stalled writer that resumes writes files
 * until its fence claim fails), which archival deletes before the instant falls behind the
 * active timeline, where files count as committed; or a writer's own instant whose fence
 * claim was refused. Returns how many files it deleted.
 */
export async function sweepFilesOf(table: HudiTable, instant: string): Promise<number> {
  const doomed = await filesOf(table, instant);
  await table.removeFiles(doomed);
  await table.removeMarkers(instant);
  return doomed.length;
}
