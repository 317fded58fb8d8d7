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

/** Where archival moves old instants (`hoodie.archivelog.folder`'s default). */
export const ARCHIVE_DIR = '.hoodie/archived';

/**
 * Writer fencing (design brief §3.4): before completing an instant a writer claims the
 * next number in this folder with create-if-absent. A writer whose view of the table is
 * stale (a zombie after a rebalance) claims a number that exists and is refused. The
 * claim is the commit point: it holds the completed file's content, so a writer that
 * stops between its claim and the completed file is rolled forward by the next one
 * (`HudiTable.recover`), never rolled back under it; and the next one claims a number
 * before rolling back an unclaimed instant, so its writer can no longer complete it.
 */
export const FENCE_DIR = '.hoodie/.aux/cdc-lake/fence';
const FENCE_DIGITS = 20;

/** Actions whose completed instants change what readers see. */
export const WRITE_ACTIONS: ReadonlySet<Action> = new Set<Action>(['deltacommit', 'commit', 'replacecommit']);

export interface TimelineInstant extends Instant {
  /** A completed `commit` that finished a compaction plan. */
  compaction?: boolean;
}

/** Which instants' files hold committed data (a `Set` of instant times is one). */
export interface Committed {
  has(instant: string): boolean;
}

export class InstantConflict extends Error {
  override readonly name = 'InstantConflict';
  constructor(
    readonly file: string,
    /** The writer's own instant whose fence claim was refused: no writer can complete it any more. */
    readonly refused?: Instant,
  ) {
    super(`${file} already exists: another writer committed to this table since this one last read it (only one writer per table); reopen the table to continue`);
  }
}

export class TimelineError extends Error {
  override readonly name = 'TimelineError';
}

/** The instants that timeline files (as their names read) make: one per instant time, in its most advanced state. */
export function collapse(files: readonly Instant[]): TimelineInstant[] {
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
  private committedMemo: Committed | undefined;

  private constructor(
    private readonly store: ObjectStore,
    private readonly base: string,
    readonly instants: TimelineInstant[],
    private fence: number,
    /** Whether the table has an archived timeline (`.hoodie/archived/`): instants before this one's start were completed. */
    readonly archived: boolean,
  ) {}

  static async load(store: ObjectStore, base: string): Promise<Timeline> {
    const [{ files, dirs }, fences] = await Promise.all([store.listDir(joinPath(base, TIMELINE_DIR)), store.listDir(joinPath(base, FENCE_DIR))]);
    const parsed: Instant[] = [];
    for (const f of files) {
      const i = parseInstantFileName(f.key.slice(f.key.lastIndexOf('/') + 1));
      if (i !== undefined) parsed.push(i);
    }
    const last = fences.files.map((f) => Number(f.key.slice(f.key.lastIndexOf('/') + 1))).filter(Number.isSafeInteger);
    const archived = dirs.includes(`${joinPath(base, ARCHIVE_DIR)}/`);
    return new Timeline(store, base, collapse(parsed), Math.max(0, ...last), archived);
  }

  /**
   * This timeline with `done` (what `complete` returned) added: what listing `.hoodie/`
   * again would show of the table's completed instants, since the fence claim of `done`
   * fails whenever another writer completed one after this timeline was read.
   * The listing grows by three files a commit; reading it after every commit made each
   * commit slower than the last. Pending instants of other writers appear at the next
   * `load` (a table's open or refresh), where recovery settles them.
   */
  withCompleted(done: Instant): Timeline {
    // A completed compaction is its plan instant's `commit` file, which `collapse` marks as a compaction.
    const completed: TimelineInstant = done.action === 'compaction' ? { timestamp: done.timestamp, action: 'commit', state: 'completed', compaction: true } : { ...done, state: 'completed' };
    const instants = this.instants.filter((i) => i.timestamp !== completed.timestamp);
    let at = instants.length;
    while (at > 0 && compareInstants(instants[at - 1] as TimelineInstant, completed) > 0) at--;
    instants.splice(at, 0, completed);
    return new Timeline(this.store, this.base, instants, this.fence, this.archived);
  }

  /** This timeline after archival moved every instant before `boundary` to the archived timeline. */
  withArchivedBefore(boundary: string): Timeline {
    return new Timeline(this.store, this.base, this.instants.filter((i) => i.timestamp >= boundary), this.fence, true);
  }

  /**
   * The instants whose files are committed data: completed writes on this timeline and,
   * once the table has an archived timeline, every instant before this one's first (Hudi's
   * `containsOrBeforeTimelineStarts`). Archival moves only completed instants and first
   * deletes what rolled-back writers left (`archive`), so nothing older is uncommitted.
   */
  committed(): Committed {
    if (this.committedMemo === undefined) {
      const done = new Set(this.completed().map((i) => i.timestamp));
      const start = this.archived ? this.instants[0]?.timestamp : undefined;
      this.committedMemo = start === undefined ? done : { has: (t) => done.has(t) || t < start };
    }
    return this.committedMemo;
  }

  /**
   * Whether changes since `since` may include archived commits (not on this timeline): only
   * when `since` is before this timeline's first instant and the archived timeline holds
   * files (Hudi creates the folder empty with a table).
   */
  async reachesArchive(since: string): Promise<boolean> {
    const first = this.instants[0]?.timestamp;
    if (!this.archived || first === undefined || since >= first) return false;
    return (await this.store.listDir(joinPath(this.base, ARCHIVE_DIR))).files.length > 0;
  }

  /** Claims the next fence number; fails when another writer claimed one since this timeline was read. */
  private async claimFence(claim: ClaimText): Promise<void> {
    const next = this.fence + 1;
    const key = joinPath(this.base, FENCE_DIR, String(next).padStart(FENCE_DIGITS, '0'));
    if (!(await this.store.createIfAbsent(key, JSON.stringify(claim)))) throw new InstantConflict(key);
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
    return (await this.latestWithExtraMetadata(key))?.value;
  }

  /** The newest completed commit whose metadata has a value for `key`, and that value. */
  async latestWithExtraMetadata(key: string): Promise<{ instant: TimelineInstant; value: string } | undefined> {
    const done = this.completed();
    for (let n = done.length - 1; n >= 0; n--) {
      const instant = done[n] as TimelineInstant;
      const value = (await this.commitMetadata(instant)).extraMetadata?.[key];
      if (value !== undefined && value !== '') return { instant, value };
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
    // The claim names its writer when the commit does: who held the table at each instant.
    const writer = writerOf(content);
    const body = typeof content === 'string' ? { text: content } : { base64: Buffer.from(content).toString('base64') };
    try {
      await this.claimFence({ instant: timestamp, ...(writer === undefined ? {} : { writer }), action, ...body });
    } catch (e) {
      if (e instanceof InstantConflict) throw new InstantConflict(e.file, { timestamp, action, state: 'inflight' });
      throw e;
    }
    if (!(await this.store.createIfAbsent(path, content))) throw new InstantConflict(path);
    return i;
  }

  /**
   * Completes a pending instant whose writer claimed the fence for it but stopped before
   * writing the completed file (its data files were durable before the claim), with the
   * claim's content; a writer that wrote the file meanwhile wrote the same bytes.
   */
  async rollForward(pending: Instant, content: Uint8Array): Promise<void> {
    await this.store.createIfAbsent(this.instantPath({ ...pending, state: 'completed' }), content);
  }

  /**
   * Claims the next fence number before the rollbacks of `pending` instants (the first at
   * `rollbackTime`) delete their files, so their writers (alive but stalled, or racing this
   * one) can no longer complete them.
   */
  async fenceOut(rollbackTime: string, pending: string[]): Promise<void> {
    await this.claimFence({ instant: rollbackTime, rollsBack: pending });
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

/** What a fence file holds (JSON); claims of earlier versions were the bare instant time or `{instant, writer}`. */
interface ClaimText {
  instant: string;
  writer?: string;
  action?: Action;
  /** The completed file's content: `text`, or `base64` for binary (Avro) metadata. */
  text?: string;
  base64?: string;
  /** A rollback's claim: the instants it rolls back. */
  rollsBack?: string[];
}

export interface FenceClaim {
  fence: number;
  instant: string;
  writer?: string;
  action?: Action;
  /** The completed file's content, for claims that carry it. */
  content?: Uint8Array;
}

/** The fence claims still kept (the newest 64), oldest first. */
export async function readFenceClaims(store: ObjectStore, base: string): Promise<FenceClaim[]> {
  const { files } = await store.listDir(joinPath(base, FENCE_DIR));
  const read = files.map(async (f): Promise<FenceClaim | undefined> => {
    const fence = Number(f.key.slice(f.key.lastIndexOf('/') + 1));
    if (!Number.isSafeInteger(fence)) return undefined;
    const text = Buffer.from(await store.get(f.key)).toString('utf8');
    if (!text.startsWith('{')) return { fence, instant: text };
    const c = JSON.parse(text) as ClaimText;
    const content = c.text !== undefined ? Buffer.from(c.text) : c.base64 !== undefined ? Buffer.from(c.base64, 'base64') : undefined;
    return {
      fence,
      instant: String(c.instant),
      ...(typeof c.writer === 'string' ? { writer: c.writer } : {}),
      ...(c.action === undefined ? {} : { action: c.action }),
      ...(content === undefined ? {} : { content }),
    };
  });
  return (await Promise.all(read)).filter((c) => c !== undefined).sort((a, b) => a.fence - b.fence);
}

export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}
