import type { FileSlice } from './fs-view.js';
import { WRITE_ACTIONS, type TimelineInstant } from './timeline.js';

/**
 * When to compact and when to clean: pure decisions from the timeline and the
 * sizes of the live file slices, so the ingest loop only asks and acts.
 */

export interface MaintenancePolicy {
  /** Compact every file group with logs after this many deltacommits since the last compaction (0: never by count). */
  everyDeltaCommits: number;
  /** Compact a file group early when its log bytes exceed this multiple of its base bytes (0: never by size). */
  logToBaseRatio: number;
  /** Clean once more than this many completed write instants exist (see `clean`). */
  retainCommits: number;
}

export interface FileGroupSize {
  partition: string;
  fileId: string;
  baseBytes: number;
  logBytes: number;
}

export interface MaintenanceDecision {
  compact: boolean;
  /** File groups to compact (all groups with logs when the deltacommit count triggered). */
  compactGroups: { partition: string; fileId: string }[];
  clean: boolean;
  /** Why, for logs and metrics. */
  reasons: string[];
}

/** Base and log bytes of each live slice (the view is in memory: no I/O). */
export function groupSizes(slices: readonly FileSlice[]): FileGroupSize[] {
  return slices.map((s) => ({
    partition: s.partition,
    fileId: s.fileId,
    baseBytes: s.base?.size ?? 0,
    logBytes: s.logs.reduce((n, l) => n + l.size, 0),
  }));
}

/** Completed deltacommits after the newest completed compaction (or since the start). */
export function deltaCommitsSinceCompaction(instants: readonly TimelineInstant[]): number {
  const done = instants.filter((i) => i.state === 'completed');
  let n = 0;
  for (let k = done.length - 1; k >= 0; k--) {
    const i = done[k] as TimelineInstant;
    if (i.action === 'commit' && i.compaction) break;
    if (i.action === 'deltacommit') n++;
  }
  return n;
}

export function decideMaintenance(instants: readonly TimelineInstant[], groups: readonly FileGroupSize[], policy: MaintenancePolicy): MaintenanceDecision {
  const reasons: string[] = [];
  if (instants.some((i) => i.state !== 'completed')) {
    // Pending instants are rolled back by recovery first; planning over them would double-count files.
    return { compact: false, compactGroups: [], clean: false, reasons: ['pending instants: recover first'] };
  }
  const withLogs = groups.filter((g) => g.logBytes > 0);
  let compactGroups: FileGroupSize[] = [];
  const deltas = deltaCommitsSinceCompaction(instants);
  if (policy.everyDeltaCommits > 0 && deltas >= policy.everyDeltaCommits && withLogs.length > 0) {
    compactGroups = withLogs;
    reasons.push(`${deltas} deltacommits since the last compaction (every ${policy.everyDeltaCommits})`);
  } else if (policy.logToBaseRatio > 0) {
    compactGroups = withLogs.filter((g) => g.logBytes > policy.logToBaseRatio * g.baseBytes);
    if (compactGroups.length > 0) reasons.push(`${compactGroups.length} file group(s) with log bytes over ${policy.logToBaseRatio}× base bytes`);
  }

  const writes = instants.filter((i) => WRITE_ACTIONS.has(i.action));
  const lastClean = [...instants].reverse().find((i) => i.action === 'clean');
  const writesSinceClean = lastClean === undefined ? writes.length : writes.filter((i) => i.timestamp > lastClean.timestamp).length;
  const clean = policy.retainCommits > 0 && writes.length > policy.retainCommits && writesSinceClean > 0;
  if (clean) reasons.push(`${writes.length} write instants, retaining ${policy.retainCommits}`);
  return { compact: compactGroups.length > 0, compactGroups: compactGroups.map(({ partition, fileId }) => ({ partition, fileId })), clean, reasons };
}
