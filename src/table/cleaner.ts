import { decodeTimelineAvro, encodeTimelineAvro, type HoodieCleanMetadata, type HoodieCleanPartitionMetadata, type HoodieCleanerPlan } from '../hudi/timeline-avro.js';
import { groupKey, type FileSystemView } from './fs-view.js';
import { replacedGroups, type HudiTable } from './table.js';
import { joinPath, type Committed, type TimelineInstant } from './timeline.js';

/**
 * Cleaning with Hudi's KEEP_LATEST_COMMITS policy: readers at any of the last N
 * completed write instants (and at any instant after `protectedSince`, the oldest
 * instant an incremental consumer still reads from) keep every file they need;
 * older file slices and file groups replaced before that point are deleted.
 *
 * Protocol: `<t>.clean.requested` (Avro `HoodieCleanerPlan`) → `<t>.clean.inflight`
 * → deletes → `<t>.clean` (Avro `HoodieCleanMetadata`, `earliestCommitToRetain`).
 * Deleting is idempotent, so a crash mid-clean only leaves a pending clean that
 * recovery discards; the next clean plans again.
 */

export const CLEAN_POLICY = 'KEEP_LATEST_COMMITS';

export interface CleanOptions {
  /** How many of the newest completed write instants stay readable (time travel, incremental). */
  retainCommits: number;
  /** Never clean anything a reader at an instant after this one needs (a registered incremental consumer's position). */
  protectedSince?: string;
}

export interface CleanFile {
  partition: string;
  name: string;
  path: string;
}

export interface CleanPlan {
  /** The oldest retained completed write instant; undefined when nothing can be cleaned. */
  earliestRetained?: string;
  files: CleanFile[];
}

export interface CleanResult extends CleanPlan {
  /** The clean instant; undefined when nothing was removed. */
  instant?: string;
}

export class CleanError extends Error {
  override readonly name = 'CleanError';
}

/** Time travel or an incremental read needs an instant whose files were cleaned. */
export class InstantNotRetained extends Error {
  override readonly name = 'InstantNotRetained';
  constructor(readonly instant: string, readonly earliestRetained: string) {
    super(`instant ${instant} is no longer readable: cleaning kept only instants from ${earliestRetained} on; query ${earliestRetained} or later (see \`cdc-lake timeline\`)`);
  }
}

/**
 * The earliest instant to retain: the N-th newest completed write instant, moved back
 * to the first write instant after `protectedSince` when that is older. Pure.
 */
export function earliestToRetain(writeInstants: readonly string[], opts: CleanOptions): string | undefined {
  if (!Number.isInteger(opts.retainCommits) || opts.retainCommits < 1) {
    throw new CleanError(`retainCommits must be an integer >= 1, got ${opts.retainCommits}`);
  }
  const sorted = [...writeInstants].sort();
  let e = sorted[Math.max(0, sorted.length - opts.retainCommits)];
  if (e === undefined) return undefined;
  if (opts.protectedSince !== undefined && opts.protectedSince < e) {
    // A consumer reading (since, …] needs every instant after `since`.
    e = sorted.find((t) => t > (opts.protectedSince as string)) ?? e;
  }
  return e;
}

/**
 * What to delete so that readers at every retained instant still find their slice (pure).
 * A slice is needed iff a retained instant t satisfies base instant ≤ t < next slice's base
 * instant — exactly the slice `selectSlices` gives a reader at t. Slices whose base file is
 * not from a completed instant (pending/failed writes) are left to rollback.
 */
export function planClean(
  view: FileSystemView,
  writeInstants: readonly string[],
  replaced: ReadonlyMap<string, string>,
  opts: CleanOptions,
  completed: Committed = new Set(writeInstants),
): CleanPlan {
  const e = earliestToRetain(writeInstants, opts);
  if (e === undefined) return { files: [] };
  const retained = [...writeInstants].filter((t) => t >= e).sort();
  const files: CleanFile[] = [];
  const add = (partition: string, name: string, path: string) => files.push({ partition, name, path });
  for (const g of view.groups.values()) {
    const replacedAt = replaced.get(groupKey(g.partition, g.fileId));
    if (replacedAt !== undefined && replacedAt < e) {
      for (const s of g.slices) {
        for (const l of s.logs) add(g.partition, l.name, l.path);
        if (s.base) add(g.partition, s.base.name, s.base.path);
      }
      continue;
    }
    const usable = g.slices.filter((s) => s.base !== undefined && completed.has(s.base.instant));
    usable.forEach((s, i) => {
      const next = usable[i + 1]?.baseInstant;
      const needed = retained.some((t) => t >= s.baseInstant && (next === undefined || t < next));
      if (needed || next === undefined) return;
      // Logs first, base last: a crash in between leaves a slice that is still planned next time.
      for (const l of s.logs) add(g.partition, l.name, l.path);
      if (s.base) add(g.partition, s.base.name, s.base.path);
    });
    // Logs left without their base (an earlier clean crashed): no reader at or after E picks
    // their slice once a usable slice starts in (its base instant, E].
    for (const s of g.slices) {
      if (s.base !== undefined) continue;
      if (usable.some((u) => u.baseInstant > s.baseInstant && u.baseInstant <= e)) for (const l of s.logs) add(g.partition, l.name, l.path);
    }
  }
  return { earliestRetained: e, files };
}

function byPartition(files: readonly CleanFile[]): Map<string, CleanFile[]> {
  const out = new Map<string, CleanFile[]>();
  for (const f of files) out.set(f.partition, [...(out.get(f.partition) ?? []), f]);
  return out;
}

export async function clean(table: HudiTable, opts: CleanOptions): Promise<CleanResult> {
  if (table.timeline.pending().length > 0) await table.recover();
  const writes = table.timeline.completed().map((i) => i.timestamp);
  const plan = planClean(table.view, writes, await replacedGroups(table.timeline), opts, table.timeline.committed());
  if (plan.files.length === 0 || plan.earliestRetained === undefined) return plan;
  const e = plan.earliestRetained;
  const eInstant = table.timeline.completed().find((i) => i.timestamp === e) as TimelineInstant;
  const root = table.store.uri.replace(/\/$/, '');
  const parts = byPartition(plan.files);
  const cleanerPlan: HoodieCleanerPlan = {
    earliestInstantToRetain: { timestamp: e, action: eInstant.action, state: 'COMPLETED' },
    policy: CLEAN_POLICY,
    filesToBeDeletedPerPartition: {},
    version: 2,
    filePathsToBeDeletedPerPartition: Object.fromEntries(
      [...parts].map(([p, fs]) => [p, fs.map((f) => ({ filePath: `${root}/${f.path}`, isBootstrapBaseFile: false }))]),
    ),
    partitionsToBeDeleted: [],
  };
  const planBytes = encodeTimelineAvro('HoodieCleanerPlan', cleanerPlan);
  const instant = table.nextInstant();
  const started = Date.now();
  await table.timeline.request(instant, 'clean', planBytes);
  await table.timeline.inflight(instant, 'clean', planBytes);
  await table.removeFiles(plan.files);
  const metadata: HoodieCleanMetadata = {
    policy: CLEAN_POLICY,
    startCleanTime: instant,
    timeTakenInMillis: Date.now() - started,
    totalFilesDeleted: plan.files.length,
    earliestCommitToRetain: e,
    lastCompletedCommitTimestamp: writes[writes.length - 1] ?? '',
    partitionMetadata: Object.fromEntries(
      [...parts].map(([p, fs]): [string, HoodieCleanPartitionMetadata] => {
        const names = fs.map((f) => f.name);
        return [p, { partitionPath: p, policy: CLEAN_POLICY, deletePathPatterns: names, successDeleteFiles: names, failedDeleteFiles: [], isPartitionDeleted: false }];
      }),
    ),
    version: 2,
    bootstrapPartitionMetadata: {},
  };
  table.timeline = table.timeline.withCompleted(await table.timeline.complete(instant, 'clean', encodeTimelineAvro('HoodieCleanMetadata', metadata)));
  return { ...plan, instant };
}

/** `earliestCommitToRetain` of the newest completed clean; undefined when the table was never cleaned. */
export async function earliestRetainedInstant(table: HudiTable): Promise<string | undefined> {
  const cleans = table.timeline.instants.filter((i) => i.action === 'clean' && i.state === 'completed');
  const last = cleans[cleans.length - 1];
  if (last === undefined) return undefined;
  const path = table.timeline.instantPath(last);
  const bytes = await table.store.get(path);
  if (bytes.byteLength === 0) return undefined;
  return decodeTimelineAvro('HoodieCleanMetadata', bytes, joinPath(path)).earliestCommitToRetain;
}

/** Throws `InstantNotRetained` when `instant` is older than what cleaning kept (for time travel and incremental reads). */
export async function assertRetained(table: HudiTable, instant: string): Promise<void> {
  const e = await earliestRetainedInstant(table);
  if (e !== undefined && instant < e) throw new InstantNotRetained(instant, e);
}
