import { compareInstants, instantFileName, parseInstantFileName, type Action, type Instant } from '../hudi/instant.js';
import { parseCommitMetadata, parseReplaceCommitMetadata, type CommitMetadata, type ReplaceCommitMetadata } from '../hudi/commit-metadata.js';

/** Commit metadata; replacecommits also name the file groups they replaced. */
export type InstantMetadata = CommitMetadata & Partial<Pick<ReplaceCommitMetadata, 'partitionToReplaceFileIds'>>;
import type { ObjectStore } from '../storage/object-store.js';

/**
 * The table's timeline (`.hoodie/`, layout 1): which instants exist, in which
 * state, and the commit protocol requested → inflight → completed. Completed
 * files are created with create-if-absent: a writer that loses that race
 * learns it instead of silently sharing the instant.
 */

export const TIMELINE_DIR = '.hoodie';

/**
 * Writer fencing (design brief §3.4): before completing an instant a writer claims the
 * next number in this folder with create-if-absent. A writer whose view of the table is
 * stale (a zombie after a rebalance) claims a number that exists and is refused.
 */
export const FENCE_DIR = '.hoodie/.aux/cdc-lake/fence';
const FENCE_DIGITS = 20;

/** Actions whose completed instants change what readers see. */
export const WRITE_ACTIONS: ReadonlySet<Action> = new Set<Action>(['deltacommit', 'commit', 'replacecommit']);

export interface TimelineInstant extends Instant {
  /** A completed `commit` that finished a compaction plan. */
  compaction?: boolean;
}

export class InstantConflict extends Error {
  override readonly name = 'InstantConflict';
  constructor(readonly file: string) {
    super(`${file} already exists: another writer committed to this table since this one last read it (only one writer per table); reopen the table to continue`);
  }
}

export class TimelineError extends Error {
  override readonly name = 'TimelineError';
}

function collapse(files: Instant[]): TimelineInstant[] {
  // One instant time = one action; keep its most advanced state.
  const byTime = new Map<string, TimelineInstant>();
  const compactions = new Set<string>();
  for (const i of files) {
    if (i.action === 'compaction') compactions.add(i.timestamp);
    const cur = byTime.get(i.timestamp);
    if (cur === undefined || compareInstants(i, cur) > 0) byTime.set(i.timestamp, { ...i });
  }
  const out = [...byTime.values()].sort(compareInstants);
  for (const i of out) if (i.action === 'commit' && compactions.has(i.timestamp)) i.compaction = true;
  return out;
}

export class Timeline {
  private readonly metadataCache = new Map<string, Promise<InstantMetadata>>();

  private constructor(
    private readonly store: ObjectStore,
    private readonly base: string,
    readonly instants: TimelineInstant[],
    private fence: number,
  ) {}

  static async load(store: ObjectStore, base: string): Promise<Timeline> {
    const [{ files }, fences] = await Promise.all([store.listDir(joinPath(base, TIMELINE_DIR)), store.listDir(joinPath(base, FENCE_DIR))]);
    const parsed: Instant[] = [];
    for (const f of files) {
      const i = parseInstantFileName(f.key.slice(f.key.lastIndexOf('/') + 1));
      if (i !== undefined) parsed.push(i);
    }
    const last = fences.files.map((f) => Number(f.key.slice(f.key.lastIndexOf('/') + 1))).filter(Number.isSafeInteger);
    return new Timeline(store, base, collapse(parsed), Math.max(0, ...last));
  }

  /** Claims the next fence number; fails when another writer completed an instant since this timeline was read. */
  private async claimFence(timestamp: string, writer: string | undefined): Promise<void> {
    const next = this.fence + 1;
    const key = joinPath(this.base, FENCE_DIR, String(next).padStart(FENCE_DIGITS, '0'));
    // The claim names its writer when the commit does: who held the table at each instant.
    const claim = writer === undefined ? timestamp : JSON.stringify({ instant: timestamp, writer });
    if (!(await this.store.createIfAbsent(key, claim))) throw new InstantConflict(key);
    this.fence = next;
    // Keep the folder small: only the newest claims matter.
    if (next > 64) await this.store.delete(joinPath(this.base, FENCE_DIR, String(next - 64).padStart(FENCE_DIGITS, '0')));
  }

  /** Completed instants of the given actions (default: those that write data), oldest first. */
  completed(actions: ReadonlySet<Action> = WRITE_ACTIONS): TimelineInstant[] {
    return this.instants.filter((i) => i.state === 'completed' && actions.has(i.action));
  }

  pending(): TimelineInstant[] {
    return this.instants.filter((i) => i.state !== 'completed');
  }

  lastCompleted(): TimelineInstant | undefined {
    const done = this.completed();
    return done[done.length - 1];
  }

  /** The newest instant time in any state: the floor for the next instant. */
  lastInstantTime(): string | undefined {
    return this.instants[this.instants.length - 1]?.timestamp;
  }

  isCompleted(timestamp: string): boolean {
    return this.instants.some((i) => i.timestamp === timestamp && i.state === 'completed' && WRITE_ACTIONS.has(i.action));
  }

  instantPath(i: Instant): string {
    return joinPath(this.base, TIMELINE_DIR, instantFileName(i));
  }

  commitMetadata(i: TimelineInstant): Promise<InstantMetadata> {
    let m = this.metadataCache.get(i.timestamp);
    if (m === undefined) {
      const path = this.instantPath({ ...i, state: 'completed' });
      const parse = i.action === 'replacecommit' ? parseReplaceCommitMetadata : parseCommitMetadata;
      m = this.store.get(path).then((bytes) => parse(Buffer.from(bytes).toString('utf8'), path));
      this.metadataCache.set(i.timestamp, m);
    }
    return m;
  }

  /** The newest completed commit's metadata value for `key` (e.g. the checkpoint), scanning back. */
  async latestExtraMetadata(key: string): Promise<string | undefined> {
    const done = this.completed();
    for (let n = done.length - 1; n >= 0; n--) {
      const meta = await this.commitMetadata(done[n] as TimelineInstant);
      const v = meta.extraMetadata?.[key];
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  }

  // --- the commit protocol -------------------------------------------------

  async request(timestamp: string, action: Action, content: Uint8Array | string = ''): Promise<Instant> {
    const i: Instant = { timestamp, action, state: 'requested' };
    const path = this.instantPath(i);
    if (!(await this.store.createIfAbsent(path, content))) throw new InstantConflict(path);
    return i;
  }

  async inflight(timestamp: string, action: Action, content: Uint8Array | string = ''): Promise<Instant> {
    const i: Instant = { timestamp, action, state: 'inflight' };
    await this.store.put(this.instantPath(i), content);
    return i;
  }

  async complete(timestamp: string, action: Action, content: Uint8Array | string): Promise<Instant> {
    const i: Instant = { timestamp, action, state: 'completed' };
    const path = this.instantPath(i);
    await this.claimFence(timestamp, writerOf(content));
    if (!(await this.store.createIfAbsent(path, content))) throw new InstantConflict(path);
    return i;
  }

  /** Removes the requested/inflight files of an instant that was rolled back. */
  async removePending(timestamp: string, action: Action): Promise<void> {
    for (const state of ['inflight', 'requested'] as const) await this.store.delete(this.instantPath({ timestamp, action, state }));
  }
}

/** Commit metadata key naming the process that made a commit (set by the daemon). */
export const WRITER_KEY = 'cdc-lake.writer';

/** The writer named in a commit's metadata, if any (commit metadata is JSON). */
export function writerOf(content: Uint8Array | string): string | undefined {
  try {
    const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
    const w = (JSON.parse(text) as { extraMetadata?: Record<string, unknown> } | null)?.extraMetadata?.[WRITER_KEY];
    return typeof w === 'string' && w !== '' ? w : undefined;
  } catch {
    return undefined; // not JSON (e.g. an Avro plan): no writer to record
  }
}

/** The fence claims still kept (the newest 64): number, instant and writer, oldest first. */
export async function readFenceClaims(store: ObjectStore, base: string): Promise<Array<{ fence: number; instant: string; writer?: string }>> {
  const { files } = await store.listDir(joinPath(base, FENCE_DIR));
  const out: Array<{ fence: number; instant: string; writer?: string }> = [];
  for (const f of files) {
    const fence = Number(f.key.slice(f.key.lastIndexOf('/') + 1));
    if (!Number.isSafeInteger(fence)) continue;
    const text = Buffer.from(await store.get(f.key)).toString('utf8');
    if (text.startsWith('{')) {
      const c = JSON.parse(text) as { instant?: unknown; writer?: unknown };
      out.push({ fence, instant: String(c.instant), ...(typeof c.writer === 'string' ? { writer: c.writer } : {}) });
    } else out.push({ fence, instant: text });
  }
  return out.sort((a, b) => a.fence - b.fence);
}

export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}
