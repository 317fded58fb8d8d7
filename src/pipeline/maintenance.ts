import { oldestConsumerInstant } from '../query/consumers.js';
import { archive, type ArchiveResult } from '../table/archiver.js';
import { clean, type CleanResult } from '../table/cleaner.js';
import { compact, type CompactionOptions, type CompactionResult } from '../table/compaction.js';
import type { SliceCompactor } from '../table/compaction-thread.js';
import { decideMaintenance, groupSizes, type MaintenancePolicy } from '../table/maintenance-policy.js';
import { groupKey } from '../table/fs-view.js';
import type { HudiTable } from '../table/table.js';
import type { TableOptions } from '../config/index.js';
import { instantToDate } from '../hudi/instant.js';
import { CHECKPOINT_KEY } from './checkpoint.js';

/**
 * In-process table maintenance: after a commit, the policy decides whether to
 * compact (merge logs into new base files) and clean (remove slices no retained
 * instant needs); cleaning never removes what a registered incremental consumer
 * still has to read. Then the timeline is archived past what cleaning retains,
 * keeping the commit that holds the checkpoint.
 */

export interface MaintenanceReport {
  compaction?: CompactionResult & { ms: number };
  clean?: CleanResult & { ms: number };
  archive?: ArchiveResult & { ms: number };
  reasons: string[];
  /** The consumer that holds cleaning back, if any. */
  heldBackBy?: string;
}

export function policyOf(options: TableOptions): MaintenancePolicy {
  return { everyDeltaCommits: options.compaction.everyDeltaCommits, logToBaseRatio: options.compaction.logToBaseRatio ?? 0, maxBytesPerRun: options.compaction.maxBytesPerRun, retainCommits: options.retention.commits };
}

export async function compactTable(table: HudiTable, only?: ReadonlySet<string>, onProgress?: CompactionOptions['onProgress'], compactor?: SliceCompactor): Promise<CompactionResult> {
  return compact(table, { ...(only === undefined ? {} : { select: (s) => only.has(groupKey(s.partition, s.fileId)) }), ...(onProgress ? { onProgress } : {}), ...(compactor ? { compactor } : {}) });
}

export async function cleanTable(table: HudiTable, retainCommits: number): Promise<CleanResult & { heldBackBy?: string }> {
  const consumer = await oldestConsumerInstant(table.store, table.base);
  const result = await clean(table, { retainCommits, ...(consumer ? { protectedSince: consumer.instant } : {}) });
  return consumer ? { ...result, heldBackBy: `${consumer.name}@${consumer.instant}` } : result;
}

/**
 * Rolls back the table's pending instants when every one is older than `olderThanMs`: their
 * writers are gone or were refused (an instant takes seconds). For a table with several
 * writers (the dead-letter table), whose maintenance waits while any instant is pending and
 * which no single owner recovers on open. Returns whether it rolled any back.
 */
export async function settleAbandoned(table: HudiTable, nowMs: number, olderThanMs: number): Promise<boolean> {
  const pending = table.timeline.pending();
  if (pending.length === 0 || pending.some((i) => nowMs - instantToDate(i.timestamp).getTime() < olderThanMs)) return false;
  await table.recover();
  return true;
}

/** `notAfter`: for a table with several writers, the instant time archival stays before (see `ArchiveLimits.notAfter`). */
export function archiveTable(table: HudiTable, retainCommits: number, notAfter?: string): Promise<ArchiveResult> {
  return archive(table, { retainCommits, keepMetadataKeys: [CHECKPOINT_KEY], ...(notAfter === undefined ? {} : { notAfter }) });
}

/** `compactor`: where file slices are merged (the daemon passes its worker thread); `archiveNotAfter`: see `archiveTable`. */
export async function maintain(table: HudiTable, policy: MaintenancePolicy, compactor?: SliceCompactor, archiveNotAfter?: string): Promise<MaintenanceReport> {
  const decision = decideMaintenance(table.timeline.instants, groupSizes(table.liveSlices()), policy);
  const report: MaintenanceReport = { reasons: decision.reasons };
  if (decision.compact) {
    const started = Date.now();
    const r = await compactTable(table, new Set(decision.compactGroups.map((g) => groupKey(g.partition, g.fileId))), undefined, compactor);
    report.compaction = { ...r, ms: Date.now() - started };
  }
  if (decision.clean) {
    const started = Date.now();
    const r = await cleanTable(table, policy.retainCommits);
    report.clean = { ...r, ms: Date.now() - started };
    if (r.heldBackBy) report.heldBackBy = r.heldBackBy;
  }
  const started = Date.now();
  const archived = await archiveTable(table, policy.retainCommits, archiveNotAfter);
  if (archived.instants > 0) report.archive = { ...archived, ms: Date.now() - started };
  return report;
}
