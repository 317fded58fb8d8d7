import type { FileSlice } from './fs-view.js';
import { compareKeys } from './record-key.js';
import { WRITE_ACTIONS, type TimelineInstant } from './timeline.js';

/**
 * When to compact and when to clean: pure decisions from the timeline and the
 * sizes of the live file slices, so the ingest loop only asks and acts.
 */

export interface MaintenancePolicy {
  /**
   * Compact every file group with logs after this many deltacommits since the last compaction,
   * and any file group with this many log files (0: never by count).
   */
  everyDeltaCommits: number;
  /** Compact a file group early when its log bytes exceed this multiple of its base bytes (0: never by size). */
  logToBaseRatio: number;
  /**
   * The base and log bytes one compaction run may read (0: no limit): the due file groups with
   * the most log bytes go first, at least one per run; the rest are due again by their log-file
   * count (`everyDeltaCommits`). It bounds how long a compaction holds back the table's next flush.
   */
  maxBytesPerRun: number;
  /** Clean once more than this many completed write instants exist (see `clean`). */
  retainCommits: number;
}

export interface FileGroupSize {
  partition: string;
  fileId: string;
  baseBytes: number;
  logBytes: number;
  logFiles: number;
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
    logFiles: s.logs.length,
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

/** The groups with the most log bytes first, while their base and log bytes fit `budget` (0: all); at least one. */
export function withinBudget(groups: readonly FileGroupSize[], budget: number): FileGroupSize[] {
  if (budget <= 0) return [...groups];
  const byLogs = [...groups].sort((a, b) => b.logBytes - a.logBytes || compareKeys(a.partition, b.partition) || compareKeys(a.fileId, b.fileId));
  const out: FileGroupSize[] = [];
  let bytes = 0;
  for (const g of byLogs) {
    const size = g.baseBytes + g.logBytes;
    if (out.length > 0 && bytes + size > budget) continue;
    out.push(g);
    bytes += size;
  }
  return out;
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
  const every = policy.everyDeltaCommits;
  if (every > 0 && deltas >= every && withLogs.length > 0) {
    compactGroups = withLogs;
    reasons.push(`${deltas} deltacommits since the last compaction (every ${every})`);
  } else if (every > 0 && withLogs.some((g) => g.logFiles >= every)) {
    // groups a run capped by maxBytesPerRun left for later: they have kept their logs
    compactGroups = withLogs.filter((g) => g.logFiles >= every);
    reasons.push(`${compactGroups.length} file group(s) with ${every} or more log files`);
  } else if (policy.logToBaseRatio > 0) {
    compactGroups = withLogs.filter((g) => g.logBytes > policy.logToBaseRatio * g.baseBytes);
    if (compactGroups.length > 0) reasons.push(`${compactGroups.length} file group(s) with log bytes over ${policy.logToBaseRatio}× base bytes`);
  }
  const due = compactGroups.length;
  compactGroups = withinBudget(compactGroups, policy.maxBytesPerRun);
  if (compactGroups.length < due) reasons.push(`compacting ${compactGroups.length} of ${due} due file groups now (compaction.maxBytesPerRun ${policy.maxBytesPerRun} bytes), the rest after the next commits`);

  const writes = instants.filter((i) => WRITE_ACTIONS.has(i.action));
  const lastClean = [...instants].reverse().find((i) => i.action === 'clean');
  const writesSinceClean = lastClean === undefined ? writes.length : writes.filter((i) => i.timestamp > lastClean.timestamp).length;
  const clean = policy.retainCommits > 0 && writes.length > policy.retainCommits && writesSinceClean > 0;
  if (clean) reasons.push(`${writes.length} write instants, retaining ${policy.retainCommits}`);
  return { compact: compactGroups.length > 0, compactGroups: compactGroups.map(({ partition, fileId }) => ({ partition, fileId })), clean, reasons };
}
