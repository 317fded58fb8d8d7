import { archiveBlock, archiveEntry, archiveFileName, archiveFileVersion, readArchiveEntries, type ArchivedState } from '../hudi/archived-timeline.js';
import { compareInstants, parseInstantFileName, type Instant } from '../hudi/instant.js';
import { decodeTimelineAvro } from '../hudi/timeline-avro.js';
import { earliestRetainedInstant } from './cleaner.js';
import { sweepFilesOf } from './rollback.js';
import type { ObjectStore } from '../storage/object-store.js';
import { SCHEMA_KEY, type HudiTable } from './table.js';
import { ARCHIVE_DIR, InstantConflict, TIMELINE_DIR, WRITE_ACTIONS, collapse, joinPath, type TimelineInstant } from './timeline.js';

/**
 * Timeline archival, as Hudi's archiver does it for table version 6: the active timeline
 * (`.hoodie/`) grows by three files a commit, and every open of the table and every
 * engine's query lists it, so instants no reader may ask for any more move to the
 * archived timeline (`.hoodie/archived/`, see `src/hudi/archived-timeline.ts`).
 *
 * Which go (pure, `planArchive`): every instant before a boundary, which is the newest
 * write instant before the last clean's earliest retained instant — so time travel and
 * incremental reads that cleaning allows still find their instants, and a read of changes
 * since any instant at or after the boundary finds all its commits — but never past a
 * pending instant or the newest commits carrying the schema and the checkpoint.
 *
 * Protocol (`archive`): delete what rolled-back writers left before the boundary (files
 * there count as committed once it moves); write the next archive file with
 * create-if-absent; delete the archived instants' files, requested and inflight first and
 * completed ones oldest first, so a crash never leaves an archived instant looking pending
 * (Hudi's order). A crash before the deletes archives the instants again next time; Java's
 * reader collapses identical entries.
 */

/** Completed write instants kept active beyond the retained ones before a run archives them (Hudi's keep.max − keep.min). */
export const ARCHIVE_BATCH = 100;

export interface ArchiveLimits {
  /**
   * The newest clean's earliest retained instant: nothing a reader may still ask for is
   * archived (undefined: the table was never cleaned, so nothing is).
   */
  earliestRetained: string | undefined;
  /** Instants that must stay active (the newest commits carrying the checkpoint and the schema). */
  keep: readonly string[];
  /** Archive only once the active timeline holds more completed write instants than this. */
  maxCommits: number;
  /**
   * Nothing at or after this instant time is archived (a table with several writers: an instant
   * another writer requests after the listing that archival plans from is never older).
   */
  notAfter?: string;
}

export interface ArchivePlan {
  /** The first instant that stays active. */
  boundary: string;
  /** The instants archived, oldest first (all completed). */
  instants: TimelineInstant[];
}

export function planArchive(instants: readonly TimelineInstant[], limits: ArchiveLimits): ArchivePlan | undefined {
  const e = limits.earliestRetained;
  if (e === undefined) return undefined;
  const writes = instants.filter((i) => i.state === 'completed' && WRITE_ACTIONS.has(i.action));
  if (writes.length <= limits.maxCommits) return undefined;
  // The newest write before the retained ones stays: an incremental consumer that cleaning
  // protects reads from at least there (cleaning retains from the first write after it).
  const limit = limits.notAfter !== undefined && limits.notAfter < e ? limits.notAfter : e;
  const beforeRetained = [...writes].reverse().find((i) => i.timestamp < limit)?.timestamp;
  if (beforeRetained === undefined) return undefined;
  const firstPending = instants.find((i) => i.state !== 'completed')?.timestamp;
  const boundary = [firstPending, ...limits.keep].reduce<string>((b, t) => (t !== undefined && t < b ? t : b), beforeRetained);
  const archived = instants.filter((i) => i.timestamp < boundary);
  return archived.length === 0 ? undefined : { boundary, instants: archived };
}

export interface ArchiveOptions {
  /** How many write instants cleaning retains (`retention.commits`): archival runs past that many plus `ARCHIVE_BATCH`. */
  retainCommits: number;
  /** Commit metadata keys whose newest commit stays active (the daemon's checkpoint). */
  keepMetadataKeys?: readonly string[];
  /** See `ArchiveLimits.notAfter`. */
  notAfter?: string;
}

export interface ArchiveResult {
  /** Instants archived (none: nothing was due). */
  instants: number;
  /** The first instant left on the active timeline. */
  boundary?: string;
  /** The archive file written. */
  file?: string;
  /** Files that rolled-back writers had left, deleted first. */
  swept: number;
}

export async function archive(table: HudiTable, opts: ArchiveOptions): Promise<ArchiveResult> {
  const { store, timeline } = table;
  const maxCommits = opts.retainCommits + ARCHIVE_BATCH;
  if (timeline.completed().length <= maxCommits) return { instants: 0, swept: 0 }; // the common case, without I/O
  const keep: string[] = [];
  for (const key of [SCHEMA_KEY, ...(opts.keepMetadataKeys ?? [])]) {
    const newest = await timeline.latestWithExtraMetadata(key);
    if (newest !== undefined) keep.push(newest.instant.timestamp);
  }
  // Planned from the timeline as stored now: an instant another writer left pending (a zombie's,
  // a crashed replica's) holds archival back even when this writer has not read it.
  const { files } = await store.listDir(joinPath(table.base, TIMELINE_DIR));
  const timelineFiles = files
    .map((f) => ({ key: f.key, modified: f.lastModified, instant: parseInstantFileName(f.key.slice(f.key.lastIndexOf('/') + 1)) }))
    .filter((f): f is { key: string; modified: Date | undefined; instant: Instant } => f.instant !== undefined)
    .sort((a, b) => compareInstants(a.instant, b.instant));
  const limits = { earliestRetained: await earliestRetainedInstant(table), keep, maxCommits, ...(opts.notAfter === undefined ? {} : { notAfter: opts.notAfter }) };
  const stored = collapse(timelineFiles.map((f) => f.instant));
  const plan = planArchive(stored, limits);
  if (plan === undefined) return { instants: 0, swept: 0 };

  let swept = 0;
  for (const r of stored.filter((i) => i.action === 'rollback' && i.state === 'completed')) {
    const path = timeline.instantPath(r);
    const bytes = await store.get(path);
    if (bytes.byteLength === 0) continue;
    for (const t of decodeTimelineAvro('HoodieRollbackMetadata', bytes, path).commitsRollback) if (t < plan.boundary) swept += await sweepFilesOf(table, t);
  }

  const archived = new Set(plan.instants.map((i) => i.timestamp));
  const stateFiles = timelineFiles.filter((f) => archived.has(f.instant.timestamp));
  const entries = await Promise.all(stateFiles.map(async (f) => archiveEntry({ instant: f.instant, bytes: await store.get(f.key), modified: f.modified ?? new Date() }, f.key)));

  const dir = joinPath(table.base, ARCHIVE_DIR);
  const versions = (await store.listDir(dir)).files.map((f) => archiveFileVersion(f.key.slice(f.key.lastIndexOf('/') + 1)) ?? 0);
  const file = joinPath(dir, archiveFileName(Math.max(0, ...versions) + 1));
  if (!(await store.createIfAbsent(file, archiveBlock(entries)))) throw new InstantConflict(file);

  await Promise.all(stateFiles.filter((f) => f.instant.state !== 'completed').map((f) => store.delete(f.key)));
  // Oldest first, one at a time: a reader listing meanwhile sees the timeline start later, never a hole in it.
  for (const f of stateFiles) if (f.instant.state === 'completed') await store.delete(f.key);
  table.timeline = timeline.withArchivedBefore(plan.boundary);
  return { instants: plan.instants.length, boundary: plan.boundary, file, swept };
}

/** The archived timeline of the table at `base`: every archived instant state, oldest first, once each (a crash can archive one twice). */
export async function readArchivedTimeline(store: ObjectStore, base: string): Promise<ArchivedState[]> {
  const { files } = await store.listDir(joinPath(base, ARCHIVE_DIR));
  const states = new Map<string, ArchivedState>();
  for (const f of files) {
    if (archiveFileVersion(f.key.slice(f.key.lastIndexOf('/') + 1)) === undefined) continue;
    for (const e of readArchiveEntries(await store.get(f.key), f.key)) states.set(`${e.timestamp}.${e.action}.${e.state}`, e);
  }
  return [...states.values()].sort(compareInstants);
}
